/**
 * Errors thrown by actions. Each sets a stable `name`, which the compiled state machines
 * match in Retry/Catch blocks (Step Functions uses the Lambda error's `errorType`, i.e. `name`).
 */

/** Base class for every action failure. */
export class ActionError extends Error {
  /** The target the action was working on (deployment, replication group, host...). */
  public readonly target?: string;
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'ActionError';
    this.target = options?.target;
  }
}

/** The target does not exist (deployment, pod, replication group...). Not retried. */
export class TargetNotFoundError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'TargetNotFoundError';
  }
}

/** No real system is configured for this action in this environment: a failed step, never a silent success. */
export class TargetNotConfiguredError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'TargetNotConfiguredError';
  }
}

/** A temporary failure (throttling, connection reset, timeout): the state machine retries it. */
export class TransientTargetError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'TransientTargetError';
  }
}

/** The resolved parameters are not valid for this action (bad type, cap exceeded...). Not retried. */
export class InvalidParameterError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidParameterError';
  }
}

/** Error names the compiler wires into Retry (transient) and Catch (everything else). */
export const TRANSIENT_ERROR_NAMES = [
  'TransientTargetError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** The target refuses the operation in its present state (a paused deployment). Not retried: a person must act first. */
export class TargetPausedError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'TargetPausedError';
  }
}

/** A rollout did not finish within the step's time; it may still be progressing. Not retried. */
export class RolloutTimeoutError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'RolloutTimeoutError';
  }
}

/** A command run in a pod (kubectl_exec) exited non-zero or could not start. */
export class CommandFailedError extends ActionError {
  /** The command's exit code, when it ran. */
  public readonly exitCode?: number;
  public constructor(message: string, options?: { target?: string; cause?: unknown; exitCode?: number }) {
    super(message, options);
    this.name = 'CommandFailedError';
    this.exitCode = options?.exitCode;
  }
}

/** The target system refused our credentials (401) or our permissions (403). Not retried: access must be granted. */
export class TargetAccessDeniedError extends ActionError {
  public constructor(message: string, options?: { target?: string; cause?: unknown }) {
    super(message, options);
    this.name = 'TargetAccessDeniedError';
  }
}
