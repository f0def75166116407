/**
 * `sre-agent kb import <file.jsonl>`: entries in the seed's §5.2 shape, one JSON object a line.
 * Every line is checked before anything is written; a bad line is refused naming file:line and
 * the field, and nothing is imported. The import is then one write (all or none).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KnowledgeEntryError, parseKnowledgeEntry, type KnowledgeEntry } from './entry';
import type { KnowledgeStore } from './store';

/** Reads and checks a JSONL file of entries. @throws KnowledgeEntryError naming file:line and field of every bad line */
export function readEntriesFile(file: string): KnowledgeEntry[] {
  const name = path.relative(process.cwd(), file) || file;
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const entries: KnowledgeEntry[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${name}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      problems.push(`${where}: not JSON (${(err as Error).message})`);
      return;
    }
    try {
      const entry = parseKnowledgeEntry(value, where);
      const first = seen.get(entry.incident_id);
      if (first !== undefined) problems.push(`${where}: field incident_id: ${entry.incident_id} is already on line ${first}`);
      else seen.set(entry.incident_id, i + 1);
      entries.push(entry);
    } catch (err) {
      if (!(err instanceof KnowledgeEntryError)) throw err;
      problems.push(err.message);
    }
  });
  if (problems.length) throw new KnowledgeEntryError(`${problems.join('\n')}\n${problems.length} bad line(s); nothing was imported`);
  if (entries.length === 0) throw new KnowledgeEntryError(`${name}: no entries`);
  return entries;
}

/** Imports a JSONL file into the store in one write; returns how many entries. */
export async function importEntries(store: KnowledgeStore, file: string): Promise<number> {
  const entries = readEntriesFile(file);
  if (store.upsertMany) await store.upsertMany(entries);
  else for (const e of entries) await store.upsert(e);
  return entries.length;
}
