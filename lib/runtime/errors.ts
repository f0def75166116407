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

/** No state machine is deployed for a playbook the intake routed an alarm to. */
export class StateMachineNotDeployedError extends RuntimeError {
  public readonly playbook: string;
  public constructor(playbook: string) {
    super(`no state machine deployed for playbook "${playbook}"`);
    this.name = 'StateMachineNotDeployedError';
    this.playbook = playbook;
  }
}

/** A function's environment lacks a variable or holds a bad value: the cold start stops, naming them. */
export class EnvironmentError extends RuntimeError {
  /** The variables at fault. */
  public readonly variables: readonly string[];
  public constructor(message: string, variables: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvironmentError';
    this.variables = variables;
  }
}
