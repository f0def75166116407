/**
 * Action Lambdas as deployed (handler = actionHandler(action)): the runtime guard refuses what the
 * compiler would, even when the function is invoked directly, and a permitted call really acts
 * (real Redis; DynamoDB is dynalite through AWS_ENDPOINT_URL_DYNAMODB).
 */
import Redis from 'ioredis';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { getTimeline, openOrJoinIncident } from '../../lib/incident';
import { tripGlobalBreaker } from '../../lib/breaker';
import { closeAwsTargets } from '../../lib/runtime/aws';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';

const tables = LAMBDA_TEST_TABLES;
let dynamo: LocalDynamo;
let redis: Redis;
let incidentId: string;
const prefix = `cache:lambda-test-${process.pid}:`;

function invocation(action: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { step: 'flush', action, params, risk: 'LOW', mode: 'auto', approvers: [], incident: { id: incidentId, playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM' }, context: {}, steps: {}, ...extra };
}

const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint, { REDIS_URL: 'redis://127.0.0.1:6379/5' }));
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 5 });
  incidentId = (await openOrJoinIncident(dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM', detectedAt: new Date(), anomalyStartedAt: new Date() })).incident.id;
});

afterAll(async () => {
  process.env = savedEnv;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await closeAwsTargets();
  await dynamo.stop();
});

describe('action Lambdas', () => {
  it('redis_command unlinks the cache keys and records the action in the timeline', async () => {
    await redis.set(`${prefix}a`, '1');
    await redis.set(`${prefix}b`, '2');
    const { handler } = await import('../../lib/actions/redis_command');
    const r = await handler(invocation('redis_command', { command: `redis-cli --scan --pattern '${prefix}*' | xargs redis-cli UNLINK` }));
    expect(r.outputs.unlinked).toBe(2);
    expect(await redis.exists(`${prefix}a`, `${prefix}b`)).toBe(0);
    expect((await getTimeline(dynamo.doc, tables, incidentId)).map((e) => e.type)).toContain('action');
  });

  it('kubectl_rollout_undo invoked directly without an approval record is refused (HIGH risk)', async () => {
    const { handler } = await import('../../lib/actions/kubectl_rollout_undo');
    await expect(handler(invocation('kubectl_rollout_undo', { deployment: 'trading-api' }, { risk: 'HIGH', step: 'rollback' }))).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('no approval record') });
  });

  it('a payload claiming "auto" for the matching engine is refused: protected service', async () => {
    const { handler } = await import('../../lib/actions/api_call');
    await expect(handler(invocation('api_call', { endpoint: 'matching-engine:8080/admin/gc' }, { step: 'gc' }))).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('matching-engine is a protected service') });
  });

  it('a FLUSHALL smuggled into a direct invocation is refused and Redis keeps its data', async () => {
    await redis.set(`${prefix}keep`, '1');
    const { handler } = await import('../../lib/actions/redis_command');
    await expect(handler(invocation('redis_command', { command: 'FLUSHALL' }))).rejects.toMatchObject({ name: 'PolicyViolationError' });
    expect(await redis.exists(`${prefix}keep`)).toBe(1);
  });

  it('with the global breaker open (diagnose-only), a mutating action is refused but a read-only one runs', async () => {
    await tripGlobalBreaker(dynamo.doc, tables, {}, new Date(), { reason: 'test' });
    const flush = (await import('../../lib/actions/redis_command')).handler;
    await expect(flush(invocation('redis_command', { command: `redis-cli --scan --pattern '${prefix}*' | xargs redis-cli UNLINK` }))).rejects.toMatchObject({ name: 'PolicyViolationError', message: expect.stringContaining('diagnose_only') });
    expect(await redis.exists(`${prefix}keep`)).toBe(1);
    const analyse = (await import('../../lib/actions/redis_analysis')).handler;
    const r = await analyse(invocation('redis_analysis', { commands: ['INFO memory', 'DBSIZE'] }, { step: 'analyse' }));
    expect(r.outputs.dbsize).toBeGreaterThanOrEqual(1);
  });

  it('an invocation routed to the wrong function is refused', async () => {
    const { handler } = await import('../../lib/actions/redis_analysis');
    await expect(handler(invocation('rds_failover', {}))).rejects.toMatchObject({ name: 'PolicyViolationError' });
  });
});
