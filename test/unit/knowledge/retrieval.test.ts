/**
 * Retrieval evaluation of the embedded knowledge base (issue 13): 36 past incidents of the
 * seven seed scenarios and others (test/fixtures/knowledge/incidents.jsonl, the seed's §5.2
 * shape, Chinese and English) and queries that paraphrase them, Chinese and English, some
 * across languages: queries.json (40, the set the glossary was grown on) and
 * queries-heldout.json (16, written after the glossary was frozen). Prints recall@3 and MRR of
 * the default store and of variants; the target is recall@3 ≥ 0.8 on each set. No network.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MemoryEntries, OramaKnowledgeStore, parseKnowledgeEntry, type OramaKnowledgeStoreOptions } from '../../../lib/knowledge';

interface Query {
  readonly query: string;
  readonly lang: 'zh' | 'en';
  readonly relevant: readonly string[];
}

const DIR = path.resolve(__dirname, '../../fixtures/knowledge');
const entries = readFileSync(path.join(DIR, 'incidents.jsonl'), 'utf8').trim().split('\n').map((line, i) => parseKnowledgeEntry(JSON.parse(line), `incidents.jsonl:${i + 1}`));
const tuning = JSON.parse(readFileSync(path.join(DIR, 'queries.json'), 'utf8')) as Query[];
const heldOut = JSON.parse(readFileSync(path.join(DIR, 'queries-heldout.json'), 'utf8')) as Query[];

async function evaluate(queries: readonly Query[], options?: OramaKnowledgeStoreOptions) {
  const store = new OramaKnowledgeStore(new MemoryEntries(), options);
  await store.upsertMany(entries);
  const ranks: (number | undefined)[] = [];
  const misses: string[] = [];
  for (const q of queries) {
    const hits = await store.search(q.query, 10);
    const rank = hits.findIndex((h) => q.relevant.includes(h.incidentId));
    ranks.push(rank < 0 ? undefined : rank + 1);
    if (rank < 0 || rank >= 3) misses.push(`  [${q.lang}] ${q.query} → ${hits.slice(0, 3).map((h) => h.incidentId).join(', ')} (want ${q.relevant.join(', ')}, rank ${rank < 0 ? '-' : rank + 1})`);
  }
  const at3 = (lang?: string) => {
    const list = queries.map((q, i) => [q, ranks[i]] as const).filter(([q]) => !lang || q.lang === lang);
    return list.filter(([, r]) => r !== undefined && r <= 3).length / list.length;
  };
  const mrr = ranks.reduce((s: number, r) => s + (r ? 1 / r : 0), 0) / ranks.length;
  return { recall: at3(), zh: at3('zh'), en: at3('en'), mrr, misses };
}

const line = (name: string, r: Awaited<ReturnType<typeof evaluate>>) => `  ${name}: recall@3 ${r.recall.toFixed(3)} (zh ${r.zh.toFixed(2)}, en ${r.en.toFixed(2)}), MRR ${r.mrr.toFixed(3)}`;

describe('knowledge base retrieval (labelled set)', () => {
  it.each([
    ['the tuning queries', tuning],
    ['the held-out queries', heldOut],
  ])('finds the right past incident in the top 3 for at least 80%% of %s', async (name, queries) => {
    expect(entries.length).toBeGreaterThanOrEqual(30);

    const standard = await evaluate(queries);
    const variants = [
      line('default: Orama, Mandarin + English tokenizers, concept glossary', standard),
      line('with Chinese character bigrams', await evaluate(queries, { bigrams: true })),
      line('without the concept glossary', await evaluate(queries, { concepts: false })),
    ];
    process.stdout.write(`\n${name} (${queries.length} queries, ${entries.length} incidents):\n${variants.join('\n')}\n  missed in the top 3 (default):\n${standard.misses.join('\n') || '  none'}\n`);
    expect(standard.recall).toBeGreaterThanOrEqual(0.8);
  });
});
