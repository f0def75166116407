/** Errors of the local engine and the CLI around it; each names the option, schedule, execution or address at fault. */

/** A command-line option or start option with a bad value (`--port`, `--breakers`, `--state`, speedUp). */
export class UsageError extends Error {
  /** The option at fault, as typed (`--port`). */
  public readonly option: string;
  public constructor(message: string, option: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
    this.option = option;
  }
}

/** The local engine (or its dynalite thread, or its HTTP server) cannot do what was asked in its state. */
export class LocalEngineError extends Error {
  /** What is at fault: an address (`127.0.0.1:8787`), a table, a playbook, a state, an execution ARN. */
  public readonly subject: string;
  public constructor(message: string, subject: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalEngineError';
    this.subject = subject;
  }
}

/** A schedule expression the local engine cannot run. */
export class ScheduleError extends Error {
  public readonly expression: string;
  public constructor(message: string, expression: string) {
    super(message);
    this.name = 'ScheduleError';
    this.expression = expression;
  }
}

/** A playbook name that is neither a file nor in the compiled manifest. */
export class PlaybookNotFoundError extends Error {
  override readonly name = 'PlaybookNotFoundError';
  /** The name or path as given. */
  public readonly playbook: string;
  public constructor(message: string, playbook: string) {
    super(message);
    this.playbook = playbook;
  }
}
