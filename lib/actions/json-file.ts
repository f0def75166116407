/**
 * The local targets' JSON documents in the data folder (the config store, the local ElastiCache
 * group): read with a default when absent, written whole or not at all (temporary file, then rename).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ActionError } from './errors';

/**
 * The document in `file`, or `empty()` when there is none yet.
 * @throws ActionError naming the file (and `target`) when it is not valid JSON
 */
export function readJsonDocument<T>(file: string, empty: () => T, what: string, target: string): Partial<T> {
  if (!existsSync(file)) return empty();
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Partial<T>;
  } catch (err) {
    throw new ActionError(`${what} ${file} is not valid JSON: ${(err as Error).message}`, { target, cause: err });
  }
}

/** Writes `doc` to `file` whole or not at all, creating its folder. */
export function writeJsonDocument(file: string, doc: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(tmp, file);
}
