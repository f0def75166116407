/**
 * Reports and the knowledge base as the deployed functions wire them (lib/runtime/aws.ts
 * `reportingFromEnvironment`, from each function's synthesized environment), their calls
 * evaluated against the synthesized roles by the IAM check. S3, Bedrock and Secrets Manager
 * through aws-sdk-client-mock (an in-memory bucket that honours If-None-Match / If-Match and
 * answers a missing key as S3 does: 404 to a role with s3:ListBucket, 403 to one without), Qdrant
 * as a local server speaking its REST shapes. No AWS, no Redis or MariaDB.
 */
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from '../../bin/sre-agent';
import { KnowledgeStoreError } from '../../lib/knowledge/store';
import { IamCheck, stackFacts } from '../../lib/local/iam';
import { deniedCalls } from '../helpers/iam';
import { knowledgeEntry } from '../helpers/knowledge';
import { reportingFromEnvironment } from '../../lib/runtime/aws-reporting';
import { EnvironmentError } from '../../lib/runtime/errors';

const REPO = path.resolve(__dirname, '../..');
const FIXTURE_MANIFEST = path.join(REPO, 'test/fixtures/infra/index.json');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const BASE_CONFIG = (CDK_JSON_CONTEXT['sre-agent:config'] ?? {}) as Record<string, unknown>;
const BUCKET = 'sre-agent-reports';
const WORLD = { environment: { INCIDENTS_TABLE: 'sre-agent-incidents', BREAKERS_TABLE: 'sre-agent-breakers', APPROVALS_TABLE: 'sre-agent-approvals', REPORTS_BUCKET: BUCKET } };
const WRITERS = ['report', 'executionEnded', 'reconcile', 'resolve'];

type CfnJson = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
function template(config: Record<string, unknown>): CfnJson {
  const { stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': config }, manifestFile: FIXTURE_MANIFEST });
  return Template.fromStack(stack).toJSON() as CfnJson;
}

const entry = knowledgeEntry;
const report = (id: string) => ({ json: { incidentId: id, version: 1 } as never, markdown: { 'zh-CN': `## 事件报告 ${id}`, en: `## Incident report ${id}` } });

type Stub = ReturnType<typeof mockClient>;


/**
 * An S3 bucket in memory with S3's conditional writes, and S3's answer to a missing key: 404
 * NoSuchKey when the caller may s3:ListBucket the bucket, else 403 AccessDenied.
 */
function fakeS3(check: () => IamCheck, caller: () => string) {
  const s3 = mockClient(S3Client);
  const objects = new Map<string, { body: string; etag: string }>();
  let n = 0;
  const fail = (name: string, status: number, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
  s3.on(GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
    const o = objects.get(`${input.Bucket}/${input.Key}`);
    if (o) return { Body: { transformToString: async () => o.body }, ETag: o.etag };
    const c = check();
    const before = c.decisions.length;
    await c.authorize(caller(), [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${input.Bucket}` }], 'S3 missing-key answer');
    const mayList = c.decisions[before]!.allowed;
    c.decisions.splice(before, 1);
    throw mayList ? fail('NoSuchKey', 404, 'The specified key does not exist.') : fail('AccessDenied', 403, 'Access Denied');
  });
  s3.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: string; IfMatch?: string; IfNoneMatch?: string }) => {
    const key = `${input.Bucket}/${input.Key}`;
    const current = objects.get(key);
    if ((input.IfNoneMatch === '*' && current) || (input.IfMatch !== undefined && input.IfMatch !== current?.etag)) throw fail('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    const etag = `"e${(n += 1)}"`;
    objects.set(key, { body: input.Body, etag });
    return { ETag: etag };
  });
  return { s3, objects };
}

describe('reports and the embedded knowledge base in the reports bucket, under the synthesized roles', () => {
  let json: CfnJson;
  let check: IamCheck;
  let caller = 'report';
  let bucket: ReturnType<typeof fakeS3>;
  beforeAll(() => {
    json = template(BASE_CONFIG);
    check = new IamCheck(stackFacts(json as never, WORLD), { enforce: false });
  }, 180_000);
  beforeEach(() => {
    bucket = fakeS3(() => check, () => caller);
  });
  afterEach(() => bucket.s3.restore());
  const env = (fn: string) => ({ ...check.role(fn).environment }) as NodeJS.ProcessEnv;

  it.each(WRITERS)('%s writes a report and the first and later knowledge entries, reads them back, and every call is allowed', async (fn) => {
    // prepare: the stores as the function's Lambda wires them
    caller = fn;
    const stored = reportingFromEnvironment(env(fn))!;
    // act
    const { location } = await stored.reports.save(report('INC-20260209-001'));
    const back = await stored.reports.get('INC-20260209-001');
    await stored.knowledge.upsert(entry('INC-20260209-001', 'Redis pool change raised API latency'));
    await stored.knowledge.upsert(entry('INC-20260210-002', 'Kafka consumer lag after a rebalance'));
    const hits = await stored.knowledge.search('kafka lag', 1);
    // assess
    expect(location).toBe(`s3://${BUCKET}/reports/INC-20260209-001.json`);
    expect(back).toEqual(report('INC-20260209-001'));
    expect(stored.knowledge.location).toBe(`s3://${BUCKET}/knowledge/entries.json`);
    const puts = bucket.s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).filter((p) => p.Key === 'knowledge/entries.json');
    expect(puts.map((p) => (p.IfNoneMatch ? 'If-None-Match' : p.IfMatch ? 'If-Match' : 'unconditional'))).toEqual(['If-None-Match', 'If-Match']);
    expect(hits.map((h) => h.incidentId)).toEqual(['INC-20260210-002']);
    expect(await deniedCalls(check, fn, 'S3Client', bucket.s3)).toEqual([]);
  });

  it('lets the investigation read the knowledge base and not write it', async () => {
    // prepare: an entry written by the report function
    caller = 'report';
    await reportingFromEnvironment(env('report'))!.knowledge.upsert(entry('INC-20260209-001', 'Redis pool change raised API latency'));
    bucket.s3.resetHistory();
    caller = 'investigate';
    const stored = reportingFromEnvironment(env('investigate'))!;
    // act
    const hits = await stored.knowledge.search('redis latency', 3);
    // assess
    expect(hits.map((h) => h.incidentId)).toEqual(['INC-20260209-001']);
    expect(await deniedCalls(check, 'investigate', 'S3Client', bucket.s3)).toEqual([]);
    bucket.s3.resetHistory();
    await stored.knowledge.upsert(entry('INC-20260210-002', 'Kafka consumer lag'));
    expect(await deniedCalls(check, 'investigate', 'S3Client', bucket.s3)).toEqual([`s3:PutObject on arn:aws:s3:::${BUCKET}/knowledge/entries.json`]);
    await stored.reports.save(report('INC-20260210-002')).catch(() => undefined);
    expect((await deniedCalls(check, 'investigate', 'S3Client', bucket.s3)).filter((d) => d.includes('/reports/'))).toEqual([
      `s3:PutObject on arn:aws:s3:::${BUCKET}/reports/INC-20260210-002.zh-CN.md`,
      `s3:PutObject on arn:aws:s3:::${BUCKET}/reports/INC-20260210-002.en.md`,
      `s3:PutObject on arn:aws:s3:::${BUCKET}/reports/INC-20260210-002.json`,
    ]);
  });

  it('denies a function without the grant, and a writer on another bucket or outside its prefixes', async () => {
    caller = 'evaluate';
    await reportingFromEnvironment({ ...env('evaluate'), REPORTS_BUCKET: BUCKET })!.reports.save(report('INC-20260209-001'));
    expect(await deniedCalls(check, 'evaluate', 'S3Client', bucket.s3)).toEqual(expect.arrayContaining([`s3:PutObject on arn:aws:s3:::${BUCKET}/reports/INC-20260209-001.json`]));
    bucket.s3.resetHistory();
    caller = 'report';
    await reportingFromEnvironment({ ...env('report'), REPORTS_BUCKET: 'payments-exports' })!.reports.save(report('INC-20260209-001'));
    expect(await deniedCalls(check, 'report', 'S3Client', bucket.s3)).toEqual(expect.arrayContaining([`s3:PutObject on arn:aws:s3:::payments-exports/reports/INC-20260209-001.json`]));
    bucket.s3.resetHistory();
    await new S3Client({}).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'audit/INC-20260209-001.json', Body: '{}' }));
    expect(await deniedCalls(check, 'report', 'S3Client', bucket.s3)).toEqual([`s3:PutObject on arn:aws:s3:::${BUCKET}/audit/INC-20260209-001.json`]);
  });

  it('needs s3:ListBucket: without it S3 answers the first knowledge read with 403 and the knowledge base is never written', async () => {
    // prepare: the report role with its ListBucket statement removed from the template
    const edited = structuredClone(json);
    const roleOf = (fn: string) => check.role(fn).roleName;
    for (const r of Object.values(edited.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' || !JSON.stringify(r.Properties.Roles).includes(roleOf('report'))) continue;
      const doc = r.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
      doc.Statement = doc.Statement.filter((st) => ![st.Action].flat().includes('s3:ListBucket'));
    }
    const without = new IamCheck(stackFacts(edited as never, WORLD), { enforce: false });
    bucket.s3.restore();
    bucket = fakeS3(() => without, () => 'report');
    // act / assess
    const upsert = reportingFromEnvironment(env('report'))!.knowledge.upsert(entry('INC-20260209-001', 'x'));
    await expect(upsert).rejects.toThrow(KnowledgeStoreError);
    await expect(upsert).rejects.toThrow(`s3://${BUCKET}/knowledge/entries.json: GetObject failed: Access Denied`);
    expect(bucket.s3.commandCalls(PutObjectCommand)).toEqual([]);
  });

  it('refuses a bad bucket name at cold start, naming the variable', () => {
    expect(() => reportingFromEnvironment({ REPORTS_BUCKET: 'Reports_Bucket' })).toThrow(EnvironmentError);
    expect(() => reportingFromEnvironment({ REPORTS_BUCKET: 'Reports_Bucket' })).toThrow(/REPORTS_BUCKET: an S3 bucket name/);
    expect(() => reportingFromEnvironment({ REPORTS_BUCKET: BUCKET, KNOWLEDGE_QDRANT_URL: 'https://q.example' })).toThrow(/KNOWLEDGE_QDRANT_URL: Qdrant needs a Bedrock embedding model/);
    expect(reportingFromEnvironment({})).toBeUndefined();
  });

  it('fails the cold start of a function given REPORTS_BUCKET whose entry does not wire the stores (reports would silently go nowhere)', async () => {
    const { awsCoreDeps } = await import('../../lib/runtime/aws');
    // The compiled configuration from the repository, where the bundle's config/ would be in Lambda.
    const report = { ...env('report'), SRE_AGENT_CONFIG_DIR: path.resolve(__dirname, '../../statemachines') };
    expect(() => awsCoreDeps(report)).toThrow(EnvironmentError);
    expect(() => awsCoreDeps(report)).toThrow(/REPORTS_BUCKET is set but this function's entry does not wire reports/);
    expect(awsCoreDeps(report, { reporting: reportingFromEnvironment }).knowledge?.location).toBe(`s3://${BUCKET}/knowledge/entries.json`);
  });
});

describe('the knowledge base on Qdrant with Bedrock embeddings, under the synthesized roles', () => {
  const SECRET = 'sre-agent/qdrant-api-key';
  const MODEL = 'amazon.titan-embed-text-v2:0';
  let server: Server;
  let url: string;
  let check: IamCheck;
  const requests: { method: string; path: string; apiKey?: string }[] = [];
  const collections = new Map<string, Map<string, Record<string, unknown>>>();
  const ok = (result: unknown) => JSON.stringify({ result, status: 'ok', time: 0.001 });
  let bedrock: Stub;
  let secrets: Stub;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const p = new URL(req.url ?? '/', 'http://x').pathname;
        const body = text ? JSON.parse(text) : undefined;
        requests.push({ method: req.method ?? '', path: p, apiKey: req.headers['api-key'] as string | undefined });
        res.setHeader('content-type', 'application/json');
        let m: RegExpMatchArray | null;
        if ((m = p.match(/^\/collections\/([^/]+)\/exists$/))) return res.end(ok({ exists: collections.has(m[1]!) }));
        if (req.method === 'PUT' && (m = p.match(/^\/collections\/([^/]+)$/))) return collections.set(m[1]!, new Map()), res.end(ok(true));
        if (req.method === 'PUT' && (m = p.match(/^\/collections\/([^/]+)\/points$/))) {
          for (const pt of body.points) collections.get(m[1]!)!.set(pt.id, pt.payload);
          return res.end(ok({ operation_id: 1, status: 'completed' }));
        }
        if (req.method === 'POST' && (m = p.match(/^\/collections\/([^/]+)\/points\/query$/))) return res.end(ok({ points: [...collections.get(m[1]!)!].map(([id, payload]) => ({ id, version: 1, score: 0.9, payload })) }));
        res.writeHead(404).end(JSON.stringify({ status: { error: 'not found' }, time: 0 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = template({ ...BASE_CONFIG, knowledge: { qdrantUrl: 'https://qdrant.internal.example:6333', qdrantApiKeySecret: SECRET, bedrockModelId: MODEL } });
    check = new IamCheck(stackFacts(json as never, WORLD), { enforce: false });
  }, 180_000);
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    bedrock = mockClient(BedrockRuntimeClient);
    bedrock.on(InvokeModelCommand).resolves({ body: new TextEncoder().encode(JSON.stringify({ embedding: Array.from({ length: 1024 }, (_, i) => Math.cos(i)) })) } as never);
    secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({ SecretString: 'qdrant-key-from-the-secret' });
  });
  afterEach(() => {
    bedrock.restore();
    secrets.restore();
  });
  /** The function's synthesized environment, pointed at the local Qdrant. */
  const env = (fn: string) => ({ ...check.role(fn).environment, KNOWLEDGE_QDRANT_URL: url }) as NodeJS.ProcessEnv;

  it.each([...WRITERS, 'investigate'])('%s embeds with the configured model and reaches Qdrant with the key from the secret, every call allowed', async (fn) => {
    requests.length = 0;
    const stored = reportingFromEnvironment(env(fn))!;
    // act
    if (fn !== 'investigate') await stored.knowledge.upsert(entry('INC-20260209-001', 'Redis pool change raised API latency'));
    const hits = await stored.knowledge.search('redis latency', 3);
    // assess
    expect(stored.knowledge.location).toBe(`qdrant:${url}/collections/sre_knowledge`);
    expect(hits.map((h) => h.incidentId)).toEqual(['INC-20260209-001']);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((r) => r.apiKey === 'qdrant-key-from-the-secret')).toBe(true);
    expect(bedrock.commandCalls(InvokeModelCommand).every((c) => c.args[0].input.modelId === MODEL)).toBe(true);
    expect(await deniedCalls(check, fn, 'BedrockRuntimeClient', bedrock)).toEqual([]);
    expect(await deniedCalls(check, fn, 'SecretsManagerClient', secrets)).toEqual([]);
  });

  it('denies InvokeModel to a function without the grant, and on another model', async () => {
    await reportingFromEnvironment({ ...env('report'), KNOWLEDGE_BEDROCK_MODEL_ID: 'cohere.embed-multilingual-v3' })!.knowledge.search('redis');
    expect(await deniedCalls(check, 'report', 'BedrockRuntimeClient', bedrock)).toEqual(['bedrock:InvokeModel on arn:aws:bedrock:local::foundation-model/cohere.embed-multilingual-v3']);
    bedrock.resetHistory();
    await reportingFromEnvironment({ ...env('report') })!.knowledge.search('redis');
    expect(await deniedCalls(check, 'evaluate', 'BedrockRuntimeClient', bedrock)).toEqual([`bedrock:InvokeModel on arn:aws:bedrock:local::foundation-model/${MODEL}`]);
  });

  it('names the secret when the API key secret does not exist, and sends nothing to Qdrant', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: SECRET }).rejects(new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} }));
    requests.length = 0;
    await expect(reportingFromEnvironment(env('report'))!.knowledge.search('redis')).rejects.toThrow(`the Qdrant API key secret ${SECRET} (KNOWLEDGE_QDRANT_API_KEY_SECRET) does not exist or is empty`);
    expect(requests).toEqual([]);
  });
});
