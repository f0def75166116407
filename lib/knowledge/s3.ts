/**
 * The embedded knowledge base's entries in S3 (AWS, without Qdrant): one object, replaced with a
 * conditional put — If-Match on the ETag read, or If-None-Match: * for the first write — so two
 * functions closing incidents at once never lose each other's entries (S3 answers 412 to the
 * one that lost; it reads again and retries). The SDK package is loaded at the first call
 * (lib/runtime/lazy-sdk.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { entriesDocument, parseEntriesDocument, type EntryPersistence, type EntrySnapshot } from './entries';
import type { KnowledgeEntry } from './entry';
import { KnowledgeStoreError } from './store';

export const DEFAULT_KNOWLEDGE_KEY = 'knowledge/entries.json';

export interface S3EntriesOptions {
  readonly client: Pick<S3Client, 'send'>;
  readonly bucket: string;
  /** @default 'knowledge/entries.json' */
  readonly key?: string;
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export class S3Entries implements EntryPersistence {
  public readonly location: string;
  private readonly key: string;

  public constructor(private readonly options: S3EntriesOptions) {
    this.key = options.key ?? DEFAULT_KNOWLEDGE_KEY;
    this.location = `s3://${options.bucket}/${this.key}`;
  }

  public async load(): Promise<EntrySnapshot> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const out = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key }));
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      return { entries: parseEntriesDocument(text, this.location), version: out.ETag };
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey' || status(err) === 404) return { entries: [] };
      if (err instanceof KnowledgeStoreError) throw err;
      throw new KnowledgeStoreError(`${this.location}: GetObject failed: ${(err as Error).message}`, { cause: err });
    }
  }

  public async replace(entries: readonly KnowledgeEntry[], expected: string | undefined): Promise<boolean> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key,
          Body: entriesDocument(entries),
          ContentType: 'application/json; charset=utf-8',
          ...(expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: expected }),
        }),
      );
      return true;
    } catch (err) {
      // 412: someone wrote since we read; 409: a concurrent conditional write is in flight.
      if (status(err) === 412 || status(err) === 409 || (err as Error).name === 'PreconditionFailed') return false;
      throw new KnowledgeStoreError(`${this.location}: PutObject failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
