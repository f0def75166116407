/**
 * The lowest layer: YAML files read with source positions, their errors, and durations as the
 * files write them. lib/policy and lib/playbook both read files through it.
 */
export { formatProblem, PlaybookError } from './errors';
export type { PlaybookProblem, SourcePosition } from './errors';
export { parseYamlSource, problemAt, readYamlSource } from './source';
export type { FieldPath, YamlSource } from './source';
export { DURATION_PATTERN, formatDuration, parseDuration } from './duration';
