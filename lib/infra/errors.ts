/** Errors that stop a synth; each names the file, playbook, context key or function at fault. */

/** The deployment configuration or the playbook manifest cannot make a stack. */
export class StackConfigError extends Error {
  /** What is at fault: a cdk.json context key, a manifest file, `playbook <name>`, `core function <name>`. */
  public readonly subject: string;
  public constructor(message: string, subject: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StackConfigError';
    this.subject = subject;
  }
}
