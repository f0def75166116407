/** Errors of the playbook language: each names the file, line, column and field at fault (file errors live in lib/yaml). */

export { formatProblem, PlaybookError } from '../yaml/errors';
export type { PlaybookProblem, SourcePosition } from '../yaml/errors';

export { ExpressionError, UnknownVariableError } from '../compiled/errors';
