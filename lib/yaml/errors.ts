/** Errors of YAML files read with positions (playbooks, policy, on-call, service map): each names file, line, column and field. */

/** Where in a source file something is. Lines and columns count from 1. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One problem found in a playbook or configuration file. */
export interface PlaybookProblem extends SourcePosition {
  /** Dotted path of the field at fault, e.g. `steps[2].condition`; empty for the whole file. */
  readonly field: string;
  readonly message: string;
}

export function formatProblem(p: PlaybookProblem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  return p.field ? `${where}: ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/**
 * A playbook (or a configuration file beside it: policy, on-call, services) that cannot be
 * loaded or compiled. Carries every problem found, not just the first.
 */
export class PlaybookError extends Error {
  public readonly problems: readonly PlaybookProblem[];
  public constructor(problems: readonly PlaybookProblem[], options?: { cause?: unknown }) {
    super(problems.map(formatProblem).join('\n'), { cause: options?.cause });
    this.name = 'PlaybookError';
    this.problems = problems;
  }
}
