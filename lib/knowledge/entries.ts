/**
 * Where the embedded knowledge base keeps its entries: one JSON document of every §5.2 entry
 * (the index is rebuilt from it on load; entries, not the index, are the durable truth, so a
 * library upgrade never strands the data). Locally `<data-dir>/knowledge/entries.json`, written
 * under a lock file and replaced whole (an import lands completely or not at all); in AWS one
 * S3 object written with a conditional put (If-Match on its ETag), so two writers never lose
 * each other's entries.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseKnowledgeEntry, type KnowledgeEntry } from './entry';
import { KnowledgeStoreError } from './store';

/** The document of entries and a version to write against. */
export interface EntrySnapshot {
  readonly entries: readonly KnowledgeEntry[];
  /** Opaque; undefined when nothing is stored yet. */
  readonly version?: string;
}

export interface EntryPersistence {
  load(): Promise<EntrySnapshot>;
  /**
   * Replaces the document, only if it is still at `expected` (undefined: only if none exists).
   * @returns false when another writer changed it meanwhile (read again and retry)
   */
  replace(entries: readonly KnowledgeEntry[], expected: string | undefined): Promise<boolean>;
  readonly location: string;
}

const FORMAT = 1;

/** Reads the stored document; every entry is checked, so a hand-edited file names its bad entry. */
export function parseEntriesDocument(text: string, where: string): KnowledgeEntry[] {
  let doc: { format?: number; entries?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (err) {
    throw new KnowledgeStoreError(`${where}: not JSON (${(err as Error).message})`, { cause: err });
  }
  if (doc.format !== FORMAT || !Array.isArray(doc.entries)) throw new KnowledgeStoreError(`${where}: not a knowledge-base document (expected {"format": ${FORMAT}, "entries": [...]})`);
  return doc.entries.map((e, i) => parseKnowledgeEntry(e, `${where}: entries[${i}]`));
}

export function entriesDocument(entries: readonly KnowledgeEntry[]): string {
  return `${JSON.stringify({ format: FORMAT, entries }, null, 1)}\n`;
}

/** Entries kept in process (`--memory`, tests). */
export class MemoryEntries implements EntryPersistence {
  public readonly location = 'memory';
  private entries: readonly KnowledgeEntry[] = [];
  private version = 0;

  public async load(): Promise<EntrySnapshot> {
    return { entries: this.entries, version: this.version === 0 ? undefined : String(this.version) };
  }

  public async replace(entries: readonly KnowledgeEntry[], expected: string | undefined): Promise<boolean> {
    if ((this.version === 0 ? undefined : String(this.version)) !== expected) return false;
    this.entries = [...entries];
    this.version += 1;
    return true;
  }
}

const LOCK_WAIT_MS = 5000;

/** `<dir>/entries.json`, replaced atomically under `<dir>/entries.lock`. */
export class FileEntries implements EntryPersistence {
  public readonly location: string;
  private readonly file: string;

  public constructor(private readonly dir: string) {
    this.file = path.join(dir, 'entries.json');
    this.location = this.file;
  }

  public async load(): Promise<EntrySnapshot> {
    let text: string;
    let version: string;
    try {
      const st = statSync(this.file);
      text = readFileSync(this.file, 'utf8');
      version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [] };
      throw err;
    }
    return { entries: parseEntriesDocument(text, this.file), version };
  }

  public async replace(entries: readonly KnowledgeEntry[], expected: string | undefined): Promise<boolean> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      if ((await this.load()).version !== expected) return false;
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, entriesDocument(entries), { mode: 0o600 });
      renameSync(tmp, this.file);
      return true;
    } finally {
      release();
    }
  }

  /** An exclusive lock file; a lock older than LOCK_WAIT_MS is from a dead process and is taken over. */
  private async lock(): Promise<() => void> {
    const lockFile = path.join(this.dir, 'entries.lock');
    const started = Date.now();
    for (;;) {
      try {
        closeSync(openSync(lockFile, 'wx', 0o600));
        return () => unlinkSync(lockFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          if (Date.now() - statSync(lockFile).mtimeMs > LOCK_WAIT_MS) unlinkSync(lockFile);
        } catch {
          /* released meanwhile */
        }
        if (Date.now() - started > 2 * LOCK_WAIT_MS) throw new KnowledgeStoreError(`${lockFile}: held by another process for over ${(2 * LOCK_WAIT_MS) / 1000} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}
