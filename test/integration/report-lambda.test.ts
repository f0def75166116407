/**
 * The report and investigate Lambdas as deployed with the reports bucket: their handler modules
 * on a real DynamoDB API (dynalite, reached through AWS_ENDPOINT_URL_DYNAMODB) with REPORTS_BUCKET
 * set, S3 and CloudWatch through aws-sdk-client-mock (an in-memory bucket with S3's conditional
 * writes). The report lands in the bucket, the incident links its s3:// location, the closed
 * incident's §5.2 entry lands in knowledge/entries.json, and the next investigation finds it.
 * Each function runs under the IAM check as its synthesized role.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { getIncident, getTimeline, openOrJoinIncident, transitionIncident } from '../../lib/incident';
import { currentCaller } from '../../lib/local/iam';
import { allowedResources, checkedFake } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';

const tables = LAMBDA_TEST_TABLES;
const BUCKET = 'sre-agent-reports-test';
const objects = new Map<string, { body: string; etag: string }>();
const s3 = mockClient(S3Client);
const fail = (name: string, status: number, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
s3.on(GetObjectCommand).callsFake(
  checkedFake(S3Client, GetObjectCommand, async (input: { Bucket: string; Key: string }) => {
    const o = objects.get(`${input.Bucket}/${input.Key}`);
    if (o) return { Body: { transformToString: async () => o.body }, ETag: o.etag };
    // S3 answers a missing key with 404 only to a caller that may list the bucket, else with 403 AccessDenied (what the check throws).
    const caller = currentCaller();
    if (caller) await caller.check.authorize(caller.fn, [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${input.Bucket}` }], 'S3 missing-key answer');
    throw fail('NoSuchKey', 404, 'The specified key does not exist.');
  }),
);
let etags = 0;
s3.on(PutObjectCommand).callsFake(
  checkedFake(S3Client, PutObjectCommand, (input: { Bucket: string; Key: string; Body: string; IfMatch?: string; IfNoneMatch?: string }) => {
    const key = `${input.Bucket}/${input.Key}`;
    const current = objects.get(key);
    if ((input.IfNoneMatch === '*' && current) || (input.IfMatch !== undefined && input.IfMatch !== current?.etag)) throw fail('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
    objects.set(key, { body: input.Body, etag: `"e${(etags += 1)}"` });
    return { ETag: `"e${etags}"` };
  }),
);
// No metric data (the impact line says so), no notifier credentials.
mockClient(CloudWatchClient).on(GetMetricDataCommand).callsFake(checkedFake(CloudWatchClient, GetMetricDataCommand, () => ({ MetricDataResults: [] })));
mockClient(SecretsManagerClient)
  .on(GetSecretValueCommand)
  .callsFake(
    checkedFake(SecretsManagerClient, GetSecretValueCommand, () => {
      throw new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} });
    }),
  );

let reportHandler: (event: unknown) => Promise<unknown>;
const lambda = lambdaHarness({
  environment: { REPORTS_BUCKET: BUCKET },
  afterStart: async () => {
    ({ handler: reportHandler } = (await import('../../lambdas/report')) as unknown as { handler: typeof reportHandler });
  },
});

/** The report function invoked as itself. */
function report(event: unknown): Promise<unknown> {
  return lambda.check.runAs('report', () => reportHandler(event));
}

describe('report Lambda with the reports bucket', () => {
  it('writes the report to reports/, links its s3:// location from the incident, and puts the closed incident into knowledge/entries.json', async () => {
    // prepare: an incident that resolved
    const now = new Date();
    const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'HIGH', alarm: { name: 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage' }, detectedAt: now, anomalyStartedAt: now });
    await transitionIncident(lambda.dynamo.doc, tables, incident.id, 'RESOLVED', new Date(), { actor: 'agent', reason: 'recovery verified' });
    // act: the machine's `Write report` Task
    const out = (await report({ op: 'report', playbook: 'redis-memory-pressure', incident: { id: incident.id, playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'HIGH' } })) as { location: string; markdown: string };
    // assess
    const location = `s3://${BUCKET}/reports/${incident.id}.json`;
    expect(out.location).toBe(location);
    expect((await getIncident(lambda.dynamo.doc, tables, incident.id)).report?.location).toBe(location);
    expect([...objects.keys()].filter((k) => k.includes('/reports/')).sort()).toEqual([`${BUCKET}/reports/${incident.id}.en.md`, `${BUCKET}/reports/${incident.id}.json`, `${BUCKET}/reports/${incident.id}.zh-CN.md`]);
    expect(objects.get(`${BUCKET}/reports/${incident.id}.zh-CN.md`)?.body).toBe(out.markdown);
    const written = (await getTimeline(lambda.dynamo.doc, tables, incident.id)).filter((e) => e.type === 'report_written').at(-1);
    expect(written?.data).toMatchObject({ location, knowledge: 'written' });
    const kb = JSON.parse(objects.get(`${BUCKET}/knowledge/entries.json`)!.body) as { entries: { incident_id: string; service: string }[] };
    expect(kb.entries.map((e) => [e.incident_id, e.service])).toEqual([[incident.id, 'redis-cache']]);
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'report', 's3:PutObject').sort()).toEqual([`arn:aws:s3:::${BUCKET}/knowledge/entries.json`, ...['en.md', 'json', 'zh-CN.md'].map((x) => `arn:aws:s3:::${BUCKET}/reports/${incident.id}.${x}`)]);
    // The first knowledge read found no entries.json: S3 says 404 (not 403) because the role may list the bucket.
    expect(allowedResources(lambda.check, 'report', 's3:ListBucket')).toEqual([`arn:aws:s3:::${BUCKET}`]);
  });

  it('lets the next investigation of the service find it among similar past incidents (the investigate Lambda)', async () => {
    // prepare: the past incident of the first test is in the knowledge base; a new one opens
    const pastId = (JSON.parse(objects.get(`${BUCKET}/knowledge/entries.json`)!.body) as { entries: { incident_id: string }[] }).entries[0]!.incident_id;
    const now = new Date();
    const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'HIGH', alarm: { name: 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage' }, detectedAt: now, anomalyStartedAt: now });
    const { handler: investigate } = (await import('../../lambdas/investigate')) as unknown as { handler: (event: unknown) => Promise<unknown> };
    // act: the machine's `Conclude investigation` Task (no check could run: no Redis configured)
    await lambda.check.runAs('investigate', () => investigate({ op: 'conclude', playbook: 'redis-memory-pressure', incident: { id: incident.id, playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'HIGH' }, checks: [] }));
    // assess
    const completed = (await getTimeline(lambda.dynamo.doc, tables, incident.id)).find((e) => e.type === 'investigation_completed');
    const result = (completed?.data as { investigation: { similar: { incidentId: string }[]; checks: { name: string; status: string }[] } }).investigation;
    expect(result.similar.map((s) => s.incidentId)).toEqual([pastId]);
    expect(result.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'similar_incidents', status: 'ok' })]));
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'investigate', 's3:GetObject')).toEqual([`arn:aws:s3:::${BUCKET}/knowledge/entries.json`]);
  });
});
