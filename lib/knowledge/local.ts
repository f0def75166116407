/** The knowledge base of a local data folder: `<data-dir>/knowledge/entries.json` behind the embedded Orama store. */
import * as path from 'node:path';
import { FileEntries } from './entries';
import { OramaKnowledgeStore } from './orama';

export function localKnowledgeStore(dataDir: string): OramaKnowledgeStore {
  return new OramaKnowledgeStore(new FileEntries(path.join(dataDir, 'knowledge')));
}
