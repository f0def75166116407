/**
 * YAML files with source positions: parse with the `yaml` package, keep the document, and map
 * a field path back to file:line:column, so every error names where it is.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { PlaybookError, type PlaybookProblem } from './errors';

export type FieldPath = readonly (string | number)[];

export interface YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** The plain JavaScript value of the document. */
  readonly value: unknown;
}

/** Parses YAML text; syntax errors (and duplicate keys) become a PlaybookError with positions. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlaybookError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, field: '', message: `YAML ${e.code}: ${firstLine(e.message)}` };
      }),
    );
  }
  return { file, text, doc, lines, value: doc.toJS({ maxAliasCount: 50 }) };
}

export function readYamlSource(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PlaybookError([{ file, line: 1, col: 1, field: '', message: `cannot read file: ${(err as Error).message}` }], { cause: err });
  }
  return parseYamlSource(file, text);
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
export function problemAt(src: YamlSource, path: FieldPath, message: string, options?: { atKey?: boolean; offset?: number }): PlaybookProblem {
  let start = 0;
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    const target = options?.atKey && n === path.length ? keyNode(src.doc, sub) : src.doc.getIn(sub, true);
    if (isNode(target) && target.range) {
      start = target.range[0];
      if (n === path.length && options?.offset !== undefined) start += scalarOffset(src.text, start, options.offset);
      break;
    }
  }
  const pos = src.lines.linePos(start);
  return { file: src.file, line: pos.line, col: pos.col, field: formatPath(path), message };
}

function keyNode(doc: Document.Parsed, path: FieldPath): unknown {
  const parent = doc.getIn(path.slice(0, -1), true) as { items?: { key: unknown }[] } | undefined;
  const last = path[path.length - 1];
  const pair = parent?.items?.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === last);
  return pair?.key;
}

/** Offset of character `n` of a scalar's value from the node start: skips an opening quote. */
function scalarOffset(text: string, start: number, n: number): number {
  const c = text[start];
  if (c === '"' || c === "'") return 1 + n;
  if (c === '|' || c === '>') return 0;
  return n;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
