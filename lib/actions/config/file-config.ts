/**
 * ConfigOps on a JSON file in the local data folder (`<data>/config-store.json`): the same
 * semantics as Parameter Store (per key, at once, null deletes), so drills see update_config and
 * feature_flags take effect, and the undo restore them. Written whole to a temporary file and
 * renamed, so a crash never leaves half a file.
 */
import { readJsonDocument, writeJsonDocument } from '../json-file';
import type { ConfigOps } from '../ports';

/** The file's shape. */
export interface ConfigStoreDocument {
  config: Record<string, Record<string, string>>;
  flags: Record<string, Record<string, boolean>>;
}

export class FileConfigStore implements ConfigOps {
  public readonly name: string;

  public constructor(private readonly file: string) {
    this.name = file;
  }

  /** Everything the store holds (the CLI and drills show it). */
  public read(): ConfigStoreDocument {
    const doc = readJsonDocument<ConfigStoreDocument>(this.file, () => ({ config: {}, flags: {} }), 'config store', this.file);
    return { config: doc.config ?? {}, flags: doc.flags ?? {} };
  }

  private write(doc: ConfigStoreDocument): void {
    writeJsonDocument(this.file, doc);
  }

  public async get(service: string, key: string): Promise<string | undefined> {
    return this.read().config[service]?.[key];
  }

  public async set(service: string, values: Readonly<Record<string, string | null>>): Promise<void> {
    const doc = this.read();
    const entry = { ...(doc.config[service] ?? {}) };
    for (const [k, v] of Object.entries(values)) {
      if (v === null) delete entry[k];
      else entry[k] = v;
    }
    doc.config[service] = entry;
    this.write(doc);
  }

  public async getFlags(names: readonly string[], service?: string): Promise<Record<string, boolean | undefined>> {
    const scope = this.read().flags[service ?? 'global'] ?? {};
    return Object.fromEntries(names.map((f) => [f, scope[f]]));
  }

  public async setFlags(flags: Readonly<Record<string, boolean | null>>, service?: string): Promise<void> {
    const doc = this.read();
    const scope = { ...(doc.flags[service ?? 'global'] ?? {}) };
    for (const [f, v] of Object.entries(flags)) {
      if (v === null) delete scope[f];
      else scope[f] = v;
    }
    doc.flags[service ?? 'global'] = scope;
    this.write(doc);
  }
}
