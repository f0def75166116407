/** Errors of the notification layer. */

/** A channel that cannot send because its configuration or credential is missing. */
export class ChannelNotConfiguredError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ChannelNotConfiguredError';
  }
}

/** A credential cannot be read as configured (no reader, or not the JSON its key expects). */
export class SecretError extends Error {
  public readonly secretId: string;
  public constructor(message: string, secretId: string) {
    super(message);
    this.name = 'SecretError';
    this.secretId = secretId;
  }
}
