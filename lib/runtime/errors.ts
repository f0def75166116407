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

/**
 * A `<step>: check condition` invocation that disagrees with the compiled playbook its incident is
 * pinned to: a step it does not have or that has no condition, condition text other than the
 * compiled one, or step outputs under names that are not its steps. Only a forged payload does that.
 */
export class ConditionMismatchError extends RuntimeError {
  /** The incident the invocation named. */
  public readonly incidentId: string;
  /** The step the invocation named. */
  public readonly step: string;
  public constructor(incidentId: string, step: string, reason: string, options?: { cause?: unknown }) {
    super(`condition of step "${step}" of ${incidentId} refused: ${reason}; a step's condition and the outputs it reads come from the compiled playbook and the stored steps, never from the payload`, options);
    this.name = 'ConditionMismatchError';
    this.incidentId = incidentId;
    this.step = step;
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
