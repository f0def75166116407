/**
 * Embeddings from Amazon Bedrock (InvokeModel on Titan Text Embeddings V2: `{inputText,
 * dimensions, normalize}` → `{embedding}`), for the Qdrant knowledge store. The SDK package is
 * loaded at the first call (lib/runtime/lazy-sdk.ts).
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Embedder } from './qdrant';
import { KnowledgeStoreError } from './store';

export const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';
/** Titan V2 accepts 256, 512 or 1024. */
export const EMBEDDING_DIMENSIONS = [256, 512, 1024] as const;
/** Titan V2 takes at most 8,192 tokens; entries are far shorter, a pasted log is cut here. */
const MAX_CHARS = 20_000;

export interface BedrockEmbedderOptions {
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  /** @default 'amazon.titan-embed-text-v2:0' */
  readonly modelId?: string;
  /** @default 1024 */
  readonly dimensions?: (typeof EMBEDDING_DIMENSIONS)[number];
}

export class BedrockEmbedder implements Embedder {
  public readonly model: string;
  private readonly dimensions: number;

  public constructor(private readonly options: BedrockEmbedderOptions) {
    this.model = options.modelId ?? DEFAULT_EMBEDDING_MODEL;
    this.dimensions = options.dimensions ?? 1024;
    if (!(EMBEDDING_DIMENSIONS as readonly number[]).includes(this.dimensions)) throw new RangeError(`dimensions must be one of ${EMBEDDING_DIMENSIONS.join(', ')}, got ${this.dimensions}`);
  }

  public async embed(text: string): Promise<number[]> {
    const { InvokeModelCommand } = await import('@aws-sdk/client-bedrock-runtime');
    let body: { embedding?: unknown };
    try {
      const out = await this.options.client.send(
        new InvokeModelCommand({
          modelId: this.model,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify({ inputText: text.slice(0, MAX_CHARS), dimensions: this.dimensions, normalize: true }),
        }),
      );
      body = JSON.parse(new TextDecoder().decode(out.body)) as { embedding?: unknown };
    } catch (err) {
      throw new KnowledgeStoreError(`Bedrock ${this.model}: InvokeModel failed: ${(err as Error).message}`, { cause: err });
    }
    const v = body.embedding;
    if (!Array.isArray(v) || v.length !== this.dimensions || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new KnowledgeStoreError(`Bedrock ${this.model}: the answer has no embedding of ${this.dimensions} numbers`);
    }
    return v as number[];
  }
}
