/** Errors of the playbook language: each names the file, line, column and field at fault (file errors live in lib/yaml). */

export { formatProblem, PlaybookError } from '../yaml/errors';
export type { PlaybookProblem, SourcePosition } from '../yaml/errors';

export { ExpressionError, UnknownVariableError } from '../compiled/errors';

/** A compiled state graph that breaks its own invariants (a compiler bug, or a hand-edited ASL): names the state. */
export class StateGraphError extends Error {
  public readonly state: string;
  public constructor(message: string, state: string) {
    super(message);
    this.name = 'StateGraphError';
    this.state = state;
  }
}
