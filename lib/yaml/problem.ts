/**
 * Problems at a field of a configuration value, without a YAML parser: a source says where a
 * field path is (a YAML file by its positions, a value compiled to JSON by its file alone), so
 * the validators that run in a Lambda bundle do not carry the parsers (lib/yaml/source.ts).
 */
import type { PlaybookProblem, SourcePosition } from './errors';

export type FieldPath = readonly (string | number)[];

/** Where to point inside the node at a path: at its key (an unknown field), or `offset` characters into a scalar. */
export interface LocateOptions {
  readonly atKey?: boolean;
  readonly offset?: number;
}

/** A configuration value and the file it came from, able to say where a field path is. */
export interface ConfigSource {
  readonly file: string;
  /** The plain JavaScript value of the document. */
  readonly value: unknown;
  /** Line and column of the deepest node of `path` that exists. */
  locate(path: FieldPath, options?: LocateOptions): Pick<SourcePosition, 'line' | 'col'>;
}

/**
 * A value compiled to JSON by `npm run compile` (statemachines/config.json): its problems name
 * the file and the field; the compiled file has no positions of its own (line 1, column 1).
 */
export function compiledSource(file: string, value: unknown): ConfigSource {
  return { file, value, locate: () => ({ line: 1, col: 1 }) };
}

/** `steps[2].params.new_max` */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

/**
 * A problem at `path`. Points at the deepest node of the path that exists (the key when
 * `atKey` is set, e.g. for an unknown field), plus `offset` characters into a scalar.
 */
export function problemAt(src: ConfigSource, path: FieldPath, message: string, options?: LocateOptions): PlaybookProblem {
  const pos = src.locate(path, options);
  return { file: src.file, line: pos.line, col: pos.col, field: formatPath(path), message };
}
