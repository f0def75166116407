/**
 * The lowest layer: configuration values with the positions of their fields, their errors, and
 * durations as the files write them. lib/policy and lib/playbook both validate through it.
 * Reading YAML text (the `yaml` and `js-yaml` parsers) is the sub-path `lib/yaml/source`: the
 * Lambda bundles read the configuration compiled to JSON and do not carry the parsers.
 */
export { formatProblem, PlaybookError } from './errors';
export type { PlaybookProblem, SourcePosition } from './errors';
export { compiledSource, formatPath, problemAt } from './problem';
export type { ConfigSource, FieldPath, LocateOptions } from './problem';
export { DURATION_PATTERN, formatDuration, parseDuration } from './duration';
