/**
 * The knowledge base and report stores at their boundaries: Qdrant through the real
 * @qdrant/js-client-rest against a local HTTP server speaking Qdrant's REST shapes, Bedrock and
 * S3 through aws-sdk-client-mock, the data-folder stores on a temporary folder (read back by a
 * new instance, as after a restart).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { QdrantClient } from '@qdrant/js-client-rest';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockEmbedder } from '../../lib/knowledge/bedrock';
import { FileEntries, OramaKnowledgeStore, importEntries } from '../../lib/knowledge';
import { localKnowledgeStore } from '../../lib/knowledge/local';
import { QdrantKnowledgeStore, pointId, type Embedder } from '../../lib/knowledge/qdrant';
import { S3Entries } from '../../lib/knowledge/s3';
import { FileReportStore } from '../../lib/report';
import { S3ReportStore } from '../../lib/report/s3-store';
import { QDRANT_CLIENT_ALIAS } from '../../lib/infra/bundling';
import { knowledgeEntry } from '../helpers/knowledge';

const entry = knowledgeEntry;

/** A toy embedder: counts of a few words, so nearness is predictable. */
const words = ['redis', 'kafka', 'latency', 'memory'];
const embedder: Embedder = { model: 'toy', embed: async (t) => words.map((w) => (t.toLowerCase().includes(w) ? 1 : 0) + 0.01) };

describe('QdrantKnowledgeStore (js-client-rest against a local Qdrant REST server)', () => {
  let server: Server;
  let url: string;
  const requests: { method: string; path: string; body: unknown; apiKey?: string }[] = [];
  const collections = new Map<string, { size: number; points: Map<string, { vector: number[]; payload: Record<string, unknown> }> }>();
  const ok = (result: unknown) => JSON.stringify({ result, status: 'ok', time: 0.001 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const body = text ? JSON.parse(text) : undefined;
        requests.push({ method: req.method ?? '', path: u.pathname, body, apiKey: req.headers['api-key'] as string | undefined });
        res.setHeader('content-type', 'application/json');
        let m: RegExpMatchArray | null;
        if (req.method === 'GET' && (m = u.pathname.match(/^\/collections\/([^/]+)\/exists$/))) return res.end(ok({ exists: collections.has(m[1]!) }));
        if (req.method === 'PUT' && (m = u.pathname.match(/^\/collections\/([^/]+)$/))) {
          collections.set(m[1]!, { size: body.vectors.size, points: new Map() });
          return res.end(ok(true));
        }
        if (req.method === 'PUT' && (m = u.pathname.match(/^\/collections\/([^/]+)\/points$/))) {
          const c = collections.get(m[1]!);
          if (!c) return res.writeHead(404).end(JSON.stringify({ status: { error: `Not found: Collection \`${m[1]}\` doesn't exist!` }, time: 0 }));
          for (const p of body.points) {
            if (p.vector.length !== c.size) return res.writeHead(400).end(JSON.stringify({ status: { error: 'Wrong input: Vector dimension error' }, time: 0 }));
            c.points.set(p.id, { vector: p.vector, payload: p.payload });
          }
          return res.end(ok({ operation_id: 1, status: 'completed' }));
        }
        if (req.method === 'POST' && (m = u.pathname.match(/^\/collections\/([^/]+)\/points\/query$/))) {
          const c = collections.get(m[1]!)!;
          const q = body.query as number[];
          const cos = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
          const points = [...c.points].map(([id, p]) => ({ id, version: 1, score: cos(q, p.vector), payload: body.with_payload ? p.payload : undefined })).sort((a, b) => b.score - a.score).slice(0, body.limit);
          return res.end(ok({ points }));
        }
        res.writeHead(404).end(JSON.stringify({ status: { error: 'not found' }, time: 0 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('creates sre_knowledge on first upsert, upserts the seed entry with a UUID id and the entry as payload, and finds it', async () => {
    const store = new QdrantKnowledgeStore({ client: new QdrantClient({ url, apiKey: 'k-123', checkCompatibility: false }), embedder, url });

    await store.upsert(entry('INC-20260209-001', 'Redis pool change raised API latency'));
    await store.upsert(entry('INC-20260210-002', 'Kafka consumer lag'));
    const hits = await store.search('latency after a redis change', 1);

    expect(requests.filter((r) => r.method === 'PUT' && r.path === '/collections/sre_knowledge')).toHaveLength(1);
    const put = requests.find((r) => r.path === '/collections/sre_knowledge/points')!;
    expect(put.body).toMatchObject({ points: [{ id: pointId('INC-20260209-001'), payload: { incident_id: 'INC-20260209-001', searchable_text: 'Redis pool change raised API latency', success: true } }] });
    expect(pointId('INC-20260209-001')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(put.apiKey).toBe('k-123');
    expect(hits).toEqual([{ incidentId: 'INC-20260209-001', score: expect.any(Number), rootCause: 'root of INC-20260209-001', resolutionSteps: ['fixed INC-20260209-001'] }]);
  });

  it('works the same through the client build the Lambda bundles carry (the browser build on the runtime\'s fetch, lib/infra/bundling QDRANT_CLIENT_ALIAS)', async () => {
    const bundled = require(path.resolve(__dirname, '../..', QDRANT_CLIENT_ALIAS['@qdrant/js-client-rest'])) as { QdrantClient: typeof QdrantClient };
    const store = new QdrantKnowledgeStore({ client: new bundled.QdrantClient({ url, apiKey: 'k-123', checkCompatibility: false }), embedder, collection: 'bundled', url });

    await store.upsert(entry('INC-20260211-003', 'Redis pool change raised API latency'));
    const hits = await store.search('latency after a redis change', 1);

    expect(requests.filter((r) => r.path === '/collections/bundled/points').at(-1)?.apiKey).toBe('k-123');
    expect(hits.map((h) => h.incidentId)).toEqual(['INC-20260211-003']);
  });

  it('names the collection and the failure when Qdrant refuses', async () => {
    const store = new QdrantKnowledgeStore({ client: new QdrantClient({ url, checkCompatibility: false }), embedder: { model: 'bad', embed: async () => [1, 2] }, url });

    await expect(store.upsert(entry('INC-20260211-001', 'x'))).rejects.toThrow(`qdrant:${url}/collections/sre_knowledge: upsert failed`);
  });

  it('finds nothing in a collection that does not exist yet', async () => {
    const store = new QdrantKnowledgeStore({ client: new QdrantClient({ url, checkCompatibility: false }), embedder, collection: 'empty', url });

    expect(await store.search('anything')).toEqual([]);
  });
});

describe('BedrockEmbedder (aws-sdk-client-mock)', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  afterEach(() => bedrock.reset());

  it('sends Titan V2 its text, dimensions and normalize, and returns the embedding', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: new TextEncoder().encode(JSON.stringify({ embedding: new Array(256).fill(0.5), inputTextTokenCount: 4 })) as never });

    const v = await new BedrockEmbedder({ client: new BedrockRuntimeClient({}), dimensions: 256 }).embed('Redis 连接池');

    expect(v).toHaveLength(256);
    const call = bedrock.commandCalls(InvokeModelCommand)[0]!.args[0].input;
    expect(call.modelId).toBe('amazon.titan-embed-text-v2:0');
    expect(JSON.parse(call.body as string)).toEqual({ inputText: 'Redis 连接池', dimensions: 256, normalize: true });
  });

  it('refuses an answer without an embedding of the asked size, and names the model on a failure', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: new TextEncoder().encode(JSON.stringify({ embedding: [1, 2] })) as never });
    const embed = new BedrockEmbedder({ client: new BedrockRuntimeClient({}) });
    await expect(embed.embed('x')).rejects.toThrow('Bedrock amazon.titan-embed-text-v2:0: the answer has no embedding of 1024 numbers');

    bedrock.on(InvokeModelCommand).rejects(Object.assign(new Error('not authorized to invoke the model'), { name: 'AccessDeniedException' }));
    await expect(embed.embed('x')).rejects.toThrow('Bedrock amazon.titan-embed-text-v2:0: InvokeModel failed: not authorized to invoke the model');
  });
});

describe('S3 stores (aws-sdk-client-mock)', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  /** What the stores read of a GetObject body (the SDK's stream mixin). */
  const body = (text: string) => ({ transformToString: async () => text }) as never;

  it('S3Entries writes the first document with If-None-Match, later ones with If-Match on the ETag, and retries a lost race', async () => {
    const objects: { text?: string; etag?: string } = {};
    let racedOnce = false;
    s3.on(GetObjectCommand).callsFake(() => {
      if (!objects.text) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: body(objects.text), ETag: objects.etag };
    });
    s3.on(PutObjectCommand).callsFake((input: { Body: string; IfMatch?: string; IfNoneMatch?: string }) => {
      if (input.IfMatch && !racedOnce) {
        racedOnce = true; // another writer got there first
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      }
      if ((input.IfNoneMatch === '*' && objects.text) || (input.IfMatch && input.IfMatch !== objects.etag)) throw Object.assign(new Error('precondition'), { $metadata: { httpStatusCode: 412 } });
      objects.text = input.Body;
      objects.etag = `"e${Math.random()}"`;
      return { ETag: objects.etag };
    });
    const store = new OramaKnowledgeStore(new S3Entries({ client: new S3Client({}), bucket: 'reports-bucket' }));

    await store.upsert(entry('INC-1', 'redis memory'));
    await store.upsert(entry('INC-2', 'kafka lag'));

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({ Bucket: 'reports-bucket', Key: 'knowledge/entries.json', IfNoneMatch: '*' });
    expect(puts.slice(1).every((p) => typeof p.IfMatch === 'string')).toBe(true);
    expect(puts).toHaveLength(3); // the lost race was retried
    expect((await store.entries()).map((e) => e.incident_id)).toEqual(['INC-1', 'INC-2']);
    expect((await store.search('kafka', 1))[0]?.incidentId).toBe('INC-2');
  });

  it('S3ReportStore puts the JSON and both Markdown files under reports/ and reads them back', async () => {
    const objects = new Map<string, string>();
    s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => void objects.set(input.Key, input.Body));
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const text = objects.get(input.Key);
      if (text === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: body(text) };
    });
    const store = new S3ReportStore({ client: new S3Client({}), bucket: 'reports-bucket' });
    const report = { json: { incidentId: 'INC-20260209-001', version: 1 } as never, markdown: { 'zh-CN': '## 事件报告', en: '## Incident report' } };

    const { location } = await store.save(report);

    expect(location).toBe('s3://reports-bucket/reports/INC-20260209-001.json');
    expect([...objects.keys()].sort()).toEqual(['reports/INC-20260209-001.en.md', 'reports/INC-20260209-001.json', 'reports/INC-20260209-001.zh-CN.md']);
    expect(await store.get('INC-20260209-001')).toEqual(report);
    expect(await store.get('INC-20260209-002')).toBeUndefined();
  });
});

describe('data-folder stores (read back by a new instance, as after a restart)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sre-kb-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('FileReportStore keeps the JSON and both languages, refusing ids that would leave the folder', async () => {
    const report = { json: { incidentId: 'INC-20260209-001' } as never, markdown: { 'zh-CN': 'zh', en: 'en' } };
    await new FileReportStore(dir).save(report);

    expect(await new FileReportStore(dir).get('INC-20260209-001')).toEqual(report);
    await expect(new FileReportStore(dir).get('../../etc/passwd')).rejects.toThrow('"../../etc/passwd" is not an incident id (INC-YYYYMMDD-NNN)');
  });

  it('kb import lands every entry of the file or none: a bad line names file:line and field', async () => {
    const good = path.join(dir, 'good.jsonl');
    const bad = path.join(dir, 'bad.jsonl');
    require('node:fs').writeFileSync(good, `${JSON.stringify(entry('A-1', 'redis'))}\n\n${JSON.stringify(entry('A-2', 'kafka'))}\n`);
    require('node:fs').writeFileSync(bad, `${JSON.stringify(entry('B-1', 'x'))}\n${JSON.stringify({ ...entry('B-2', 'y'), severity: 'P1' })}\n${JSON.stringify({ ...entry('B-3', 'z'), resolution_steps: 'one' })}\n`);

    expect(await importEntries(localKnowledgeStore(dir), good)).toBe(2);
    await expect(importEntries(localKnowledgeStore(dir), bad)).rejects.toThrow(/bad\.jsonl:2: field severity: .*\n.*bad\.jsonl:3: field resolution_steps: .*\n2 bad line\(s\); nothing was imported/);

    const after = await new FileEntries(path.join(dir, 'knowledge')).load();
    expect(after.entries.map((e) => e.incident_id)).toEqual(['A-1', 'A-2']);
    expect(JSON.parse(readFileSync(path.join(dir, 'knowledge/entries.json'), 'utf8')).format).toBe(1);
  });

  it('keeps concurrent upserts of two stores on the same folder (lock and conditional replace)', async () => {
    const a = localKnowledgeStore(dir);
    const b = localKnowledgeStore(dir);

    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).upsert(entry(`C-${i}`, `entry ${i}`))));

    expect((await localKnowledgeStore(dir).entries()).map((e) => e.incident_id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `C-${i}`).sort());
  });
});
