/** Errors of the core operations the machines call; each names the incident or playbook at fault. */

/** Base class of the runtime's own failures. */
export class RuntimeError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** The machine and the function were built from different versions of a playbook (a partial deploy). */
export class PlaybookVersionError extends RuntimeError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlaybookVersionError';
  }
}

/** `Resolve incident` without a recent recovery check that says so. */
export class RecoveryNotVerifiedError extends RuntimeError {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecoveryNotVerifiedError';
  }
}

/** A core operation the machines do not have (`op` on a function). */
export class UnknownOperationError extends RuntimeError {
  public constructor(fn: string, op: unknown) {
    super(`no core operation "${String(op)}" on ${fn}`);
    this.name = 'UnknownOperationError';
  }
}
