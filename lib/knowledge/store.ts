/** The knowledge store's one interface (seed §5.2): Orama embedded by default, Qdrant when configured. */
import type { SimilarIncident } from '../analysis/types';
import type { KnowledgeEntry } from './entry';

export interface KnowledgeStore {
  /** Adds the entry, or replaces the one with its `incident_id`. */
  upsert(entry: KnowledgeEntry): Promise<void>;
  /** The `top` entries most similar to the text, best first. @default top 3 */
  search(text: string, top?: number): Promise<SimilarIncident[]>;
  /** Adds or replaces many entries in one write where the store can (an import): all or none. */
  upsertMany?(entries: readonly KnowledgeEntry[]): Promise<void>;
  /** Where it keeps its data, for messages (`file:…`, `s3://…`, `qdrant:…`). */
  readonly location: string;
}

/** The knowledge store could not be read or written; the message names it. */
export class KnowledgeStoreError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KnowledgeStoreError';
  }
}
