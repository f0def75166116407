/** The knowledge base of seed §5.2: entries, one store interface, the embedded Orama store, Qdrant with Bedrock embeddings. */
export type { SimilarIncident } from '../analysis/types';
export { knowledgeEntrySchema, parseKnowledgeEntry, searchableText, KnowledgeEntryError } from './entry';
export type { KnowledgeEntry } from './entry';
export type { KnowledgeStore } from './store';
export { KnowledgeStoreError } from './store';
export { FileEntries, MemoryEntries, entriesDocument, parseEntriesDocument } from './entries';
export type { EntryPersistence, EntrySnapshot } from './entries';
export { OramaKnowledgeStore } from './orama';
export type { OramaKnowledgeStoreOptions } from './orama';
export { CONCEPTS, conceptsOf, conceptTokens } from './glossary';
// Adapters are opt-in sub-paths (they load their clients): ./qdrant (QdrantKnowledgeStore), ./bedrock (BedrockEmbedder), ./s3 (S3Entries).
export type { Embedder } from './qdrant';
export { importEntries, readEntriesFile } from './import';
