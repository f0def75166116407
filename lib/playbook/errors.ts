/** Errors of the playbook language: each names the file, line, column and field at fault. */

/** Where in a source file something is. Lines and columns count from 1. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem found in a playbook (or policy) file. */
export interface PlaybookProblem extends SourcePosition {
  /** Dotted path of the field at fault, e.g. `steps[2].condition`; empty for the whole file. */
  readonly field: string;
  readonly message: string;
}

export function formatProblem(p: PlaybookProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** A playbook that cannot be loaded or compiled. Carries every problem found, not just the first. */
export class PlaybookError extends Error {
  public readonly problems: readonly PlaybookProblem[];
  public constructor(problems: readonly PlaybookProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), { cause: options?.cause });
    this.name = 'PlaybookError';
    this.problems = problems;
  }
}

/** Syntax or evaluation error inside one expression, template or condition string. */
export class ExpressionError extends Error {
  /** Offset (0-based) into the expression text where the problem starts. */
  public readonly offset: number;
  public constructor(message: string, offset: number) {
    super(message);
    this.name = 'ExpressionError';
    this.offset = offset;
  }
}

/** A variable an expression needs is not in the execution context. */
export class UnknownVariableError extends Error {
  public readonly variable: string;
  public constructor(variable: string, where?: string) {
    super(`unknown variable "${variable}"${where ? ` in ${where}` : ''}`);
    this.name = 'UnknownVariableError';
    this.variable = variable;
  }
}
