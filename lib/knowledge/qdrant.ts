/**
 * The knowledge base on Qdrant (seed §5.2: `qdrant_client.upsert(collection="sre_knowledge",
 * points=[{id, vector, payload: knowledge_entry}])`) through @qdrant/js-client-rest, with
 * embeddings of the entry's searchable text from an `Embedder` (Amazon Bedrock in AWS).
 *
 * Qdrant point ids are unsigned integers or UUIDs, so `INC-20260209-001` cannot be the id as
 * the seed writes it: the id is a UUID derived from the incident id (SHA-1, RFC 4122 version 5
 * layout), the same for every upsert of the incident, and `incident_id` stays in the payload.
 */
import { createHash } from 'node:crypto';
import type { QdrantClient } from '@qdrant/js-client-rest';
import type { SimilarIncident } from '../analysis/types';
import { parseKnowledgeEntry, type KnowledgeEntry } from './entry';
import { KnowledgeStoreError, type KnowledgeStore } from './store';

export const DEFAULT_COLLECTION = 'sre_knowledge';

/** Turns text into a vector (the same model for entries and queries). */
export interface Embedder {
  embed(text: string): Promise<number[]>;
  /** Model name, for messages. */
  readonly model: string;
}

/** The Qdrant point id of an incident: a name-based UUID (version 5 layout) of its id. */
export function pointId(incidentId: string): string {
  const h = createHash('sha1').update(`sre-agent:${incidentId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface QdrantKnowledgeStoreOptions {
  readonly client: Pick<QdrantClient, 'collectionExists' | 'createCollection' | 'upsert' | 'query'>;
  readonly embedder: Embedder;
  /** @default 'sre_knowledge' */
  readonly collection?: string;
  /** For messages. @default 'qdrant' */
  readonly url?: string;
}

export class QdrantKnowledgeStore implements KnowledgeStore {
  public readonly location: string;
  private readonly collection: string;
  private ready?: Promise<void>;

  public constructor(private readonly options: QdrantKnowledgeStoreOptions) {
    this.collection = options.collection ?? DEFAULT_COLLECTION;
    this.location = `qdrant:${options.url ?? ''}/collections/${this.collection}`;
  }

  public async upsert(entry: KnowledgeEntry): Promise<void> {
    await this.upsertMany([entry]);
  }

  /** One upsert call of every point (Qdrant applies a batch as one operation). */
  public async upsertMany(entries: readonly KnowledgeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const vectors = await Promise.all(entries.map((e) => this.options.embedder.embed(e.searchable_text)));
    await this.ensureCollection(vectors[0]!.length);
    await this.call('upsert', () =>
      this.options.client.upsert(this.collection, { wait: true, points: entries.map((e, i) => ({ id: pointId(e.incident_id), vector: vectors[i]!, payload: { ...e } })) }),
    );
  }

  public async search(text: string, top = 3): Promise<SimilarIncident[]> {
    if (!Number.isInteger(top) || top < 1) throw new RangeError(`top must be a whole number ≥ 1, got ${top}`);
    const vector = await this.options.embedder.embed(text);
    if (!(await this.call('collectionExists', () => this.options.client.collectionExists(this.collection))).exists) return [];
    const result = await this.call('query', () => this.options.client.query(this.collection, { query: vector, limit: top, with_payload: true }));
    return result.points.map((p) => {
      const entry = parseKnowledgeEntry(p.payload, `${this.location} point ${String(p.id)}`);
      return { incidentId: entry.incident_id, score: p.score, rootCause: entry.root_cause ?? '未确定', resolutionSteps: entry.resolution_steps };
    });
  }

  /** Creates the collection (cosine distance, the embedder's dimension) when it does not exist. */
  private ensureCollection(size: number): Promise<void> {
    this.ready ??= (async () => {
      const { exists } = await this.call('collectionExists', () => this.options.client.collectionExists(this.collection));
      if (!exists) await this.call('createCollection', () => this.options.client.createCollection(this.collection, { vectors: { size, distance: 'Cosine' } }));
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new KnowledgeStoreError(`${this.location}: ${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
