/**
 * Reports and the knowledge base of a deployed function, from its environment (REPORTS_BUCKET and
 * the KNOWLEDGE_ variables the stack writes with `reportsEnvironmentSchema`). Wired by the entries
 * of the functions that write reports or search the knowledge base (see AwsWiring in aws.ts); the
 * S3, Bedrock and Qdrant clients and the stores' code load at first use, not at cold start.
 */
import type { KnowledgeStore } from '../knowledge/store';
import { KnowledgeStoreError } from '../knowledge/store';
import { readSecret, secretsManagerReader } from '../notify/secrets';
import type { ReportStore } from '../report';
import { reportsEnvironmentSchema } from './environment';
import { EnvironmentError } from './errors';
import { once } from './lazy-sdk';

/** Where a function's reports and knowledge base are (REPORTS_BUCKET and the KNOWLEDGE_ variables). */
export interface AwsReporting {
  readonly reports: ReportStore;
  readonly knowledge: KnowledgeStore;
}

/**
 * Reports and the knowledge base from a function's environment, or undefined when it has no
 * REPORTS_BUCKET (the functions that neither write reports nor search the knowledge base):
 * reports under `reports/` of the bucket; the knowledge base embedded in the same bucket
 * (`knowledge/entries.json`, replaced with conditional puts), or on Qdrant with Bedrock
 * embeddings when KNOWLEDGE_QDRANT_URL is set (its API key read from the secret
 * KNOWLEDGE_QDRANT_API_KEY_SECRET). The S3, Bedrock and Qdrant clients and the stores' code load
 * at first use, not at cold start.
 * @throws EnvironmentError naming the variables at fault
 */
export function reportingFromEnvironment(env: NodeJS.ProcessEnv): AwsReporting | undefined {
  if (env.REPORTS_BUCKET === undefined) return undefined;
  const parsed = reportsEnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new EnvironmentError(`reports environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, [...new Set(parsed.error.issues.map((i) => i.path.join('.')))]);
  const e = parsed.data;
  const bucket = e.REPORTS_BUCKET;
  const s3 = once(async () => new (await import('@aws-sdk/client-s3')).S3Client({}));
  const reportStore = once(async () => new (await import('../report/s3-store')).S3ReportStore({ client: await s3(), bucket }));
  const reports: ReportStore = { save: async (report) => (await reportStore()).save(report), get: async (id) => (await reportStore()).get(id) };
  let store: () => Promise<KnowledgeStore>;
  let location: string;
  const qdrantUrl = e.KNOWLEDGE_QDRANT_URL;
  const modelId = e.KNOWLEDGE_BEDROCK_MODEL_ID;
  if (qdrantUrl && modelId) {
    location = `qdrant:${qdrantUrl}/collections/sre_knowledge`;
    const secretId = e.KNOWLEDGE_QDRANT_API_KEY_SECRET;
    store = once(async () => {
      const [{ QdrantClient }, { QdrantKnowledgeStore }, { BedrockEmbedder }, { BedrockRuntimeClient }] = await Promise.all([import('@qdrant/js-client-rest'), import('../knowledge/qdrant'), import('../knowledge/bedrock'), import('@aws-sdk/client-bedrock-runtime')]);
      const apiKey = secretId ? await readSecret({ secretId }, secretsManagerReader(new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({}))) : undefined;
      if (secretId && !apiKey) throw new KnowledgeStoreError(`${location}: the Qdrant API key secret ${secretId} (KNOWLEDGE_QDRANT_API_KEY_SECRET) does not exist or is empty; create it with aws secretsmanager create-secret`);
      return new QdrantKnowledgeStore({ client: new QdrantClient({ url: qdrantUrl, ...(apiKey ? { apiKey } : {}), checkCompatibility: false }), embedder: new BedrockEmbedder({ client: new BedrockRuntimeClient({}), modelId }), url: qdrantUrl });
    });
  } else {
    // lib/knowledge/s3.ts DEFAULT_KNOWLEDGE_KEY (not imported: it would load the S3 client at cold start).
    location = `s3://${bucket}/knowledge/entries.json`;
    store = once(async () => {
      const [{ OramaKnowledgeStore }, { S3Entries }] = await Promise.all([import('../knowledge/orama'), import('../knowledge/s3')]);
      return new OramaKnowledgeStore(new S3Entries({ client: await s3(), bucket }));
    });
  }
  const knowledge: KnowledgeStore = {
    location,
    upsert: async (entry) => (await store()).upsert(entry),
    upsertMany: async (entries) => {
      const s = await store();
      if (s.upsertMany) await s.upsertMany(entries);
      else for (const entry of entries) await s.upsert(entry);
    },
    search: async (text, top) => (await store()).search(text, top),
  };
  return { reports, knowledge };
}
