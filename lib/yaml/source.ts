/**
 * YAML files with source positions: values parsed fast, the `yaml` package's document kept (on
 * demand) to map a field path back to file:line:column, so every error names where it is.
 */
import { readFileSync } from 'node:fs';
import * as jsyaml from 'js-yaml';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { PlaybookError } from './errors';
import type { ConfigSource, FieldPath, LocateOptions } from './problem';

/** A YAML file's value with the positions of its nodes. */
export interface YamlSource extends ConfigSource {
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

/** Parses with the `yaml` package: the document with positions, or a PlaybookError naming them. */
function parsePositioned(file: string, text: string): { doc: Document.Parsed; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlaybookError(
      doc.errors.map((e) => {
        const pos = lines.linePos(errorOffset(text, e.code, e.message, e.pos[0]));
        const key = e.code === 'DUPLICATE_KEY' ? ` (key "${keyText(text, e.pos[0])}")` : '';
        return { file, line: pos.line, col: pos.col, field: '', message: `YAML ${e.code}: ${firstLine(e.message)}${key}` };
      }),
    );
  }
  return { doc, lines };
}

/**
 * Parses YAML text; syntax errors (and duplicate keys) become a PlaybookError with positions.
 *
 * Values come from js-yaml (YAML 1.2 core schema, about ten times faster); the `yaml` package's
 * document with positions is built only when something asks for it — to report a problem — or
 * when js-yaml refuses the text, so that its errors carry exact positions. A test checks both
 * parsers agree on every playbook and fixture in the repository.
 */
export function parseYamlSource(file: string, text: string): YamlSource {
  let value: unknown;
  try {
    value = jsyaml.load(text, { schema: jsyaml.CORE_SCHEMA, filename: file });
  } catch {
    const { doc, lines } = parsePositioned(file, text);
    const src: YamlSource = { file, text, doc, lines, value: doc.toJS({ maxAliasCount: 50 }), locate: (path, options) => locate(src, path, options) };
    return src;
  }
  let positioned: { doc: Document.Parsed; lines: LineCounter } | undefined;
  const lazily = () => (positioned ??= parsePositioned(file, text));
  const src: YamlSource = {
    file,
    text,
    value,
    get doc() {
      return lazily().doc;
    },
    get lines() {
      return lazily().lines;
    },
    locate: (path, options) => locate(src, path, options),
  };
  return src;
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

/** The deepest node of `path` that exists (the key when `atKey` is set), plus `offset` characters into a scalar. */
function locate(src: YamlSource, path: FieldPath, options?: LocateOptions): { line: number; col: number } {
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
  return src.lines.linePos(start);
}

function keyNode(doc: Document.Parsed, path: FieldPath): unknown {
  const parent = doc.getIn(path.slice(0, -1), true) as { items?: { key: unknown }[] } | undefined;
  const last = path[path.length - 1];
  const pair = parent?.items?.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === last);
  return pair?.key;
}

/** Offset of character `n` of a scalar's value from the node start: skips an opening quote, or a block scalar's header and indentation. */
function scalarOffset(text: string, start: number, n: number): number {
  const c = text[start];
  if (c === '"' || c === "'") return 1 + n;
  if (c === '|' || c === '>') return blockScalarOffset(text, start, n);
  return n;
}

/**
 * Block scalars (`|`, `>`): the value is the lines after the header with their indentation
 * removed, one character per line break. Folded blank lines may shift the column by one; the
 * line is right.
 */
function blockScalarOffset(text: string, start: number, n: number): number {
  let pos = text.indexOf('\n', start) + 1;
  if (pos === 0) return 0;
  const indent = /^ */.exec(text.slice(pos).split('\n').find((l) => l.trim() !== '') ?? '')![0].length;
  let rest = n;
  while (pos < text.length) {
    const next = text.indexOf('\n', pos);
    const eol = next < 0 ? text.length : next;
    const content = Math.max(0, eol - pos - indent);
    if (rest <= content) return pos + Math.min(indent, eol - pos) + rest - start;
    rest -= content + 1;
    pos = eol + 1;
  }
  return 0;
}

/**
 * Where a syntax error is best shown. The parser reports a bad indentation at the start of the
 * line (show the first token instead) and an unclosed quote at the end of the file (show the
 * opening quote).
 */
function errorOffset(text: string, code: string, message: string, offset: number): number {
  const quote = code === 'MISSING_CHAR' ? /closing (["'])quote/.exec(message)?.[1] : undefined;
  if (quote) {
    for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
      if (text[i] !== quote) continue;
      if (quote === '"' && text[i - 1] === '\\') continue;
      if (quote === "'" && text[i - 1] === "'") {
        i--;
        continue;
      }
      return i;
    }
    return offset;
  }
  let i = offset;
  while (text[i] === ' ' || text[i] === '\t') i++;
  return text[i] === undefined || text[i] === '\n' || text[i] === '\r' ? offset : i;
}

/** The key a DUPLICATE_KEY error points at, as written. */
function keyText(text: string, offset: number): string {
  return /^\s*("[^"]*"|'[^']*'|[^:\n]*)/.exec(text.slice(offset))![1].trim().replace(/^["']|["']$/g, '');
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
