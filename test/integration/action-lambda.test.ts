/**
 * Action Lambdas as deployed (handler = actionLambda(action, its targets)), invoked the way the compiled
 * machine invokes them: a permitted call really acts (real Redis; DynamoDB is dynalite through
 * AWS_ENDPOINT_URL_DYNAMODB) and is recorded; forged invocations are test/adversarial's.
 */
import Redis from 'ioredis';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { getTimeline } from '../../lib/incident';
import { tripGlobalBreaker, resetBreaker } from '../../lib/breaker';
import { closeActionTargets } from '../../lib/runtime/action-lambda';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';
import { startedIncident, type StartedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
let dynamo: LocalDynamo;
let redis: Redis;
const prefix = `cache:lambda-test-${process.pid}:`;

const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint, { REDIS_URL: 'redis://127.0.0.1:6379/5' }));
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 5 });
});

afterAll(async () => {
  process.env = savedEnv;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await closeActionTargets();
  await dynamo.stop();
});

/** redis-memory-pressure's flush step unlinks `cache:*`; the test's keys live under it. */
async function incident(): Promise<StartedIncident> {
  return startedIncident(dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: `redis-cache-${Math.random().toString(36).slice(2, 8)}` });
}

describe('action Lambdas', () => {
  it('redis_command unlinks the cache keys and records the action in the timeline', async () => {
    // prepare
    const inc = await incident();
    await redis.set(`${prefix}a`, '1');
    await redis.set(`${prefix}b`, '2');
    const { handler } = await import('../../lambdas/actions/redis_command');
    // act
    const r = await handler(inc.actionPayload('flush_expired_keys'));
    // assess
    expect(Number(r.outputs.unlinked)).toBeGreaterThanOrEqual(2);
    expect(await redis.exists(`${prefix}a`, `${prefix}b`)).toBe(0);
    const events = await getTimeline(dynamo.doc, tables, inc.incident.id);
    expect(events.find((e) => e.type === 'action')).toMatchObject({ step: 'flush_expired_keys', data: { action: 'redis_command', attempt: 1 } });
  });

  it('with the global breaker open (diagnose-only), a mutating action is refused but a read-only one runs', async () => {
    // prepare
    const inc = await incident();
    await redis.set(`${prefix}keep`, '1');
    await tripGlobalBreaker(dynamo.doc, tables, {}, new Date(), { reason: 'test' });
    try {
      // act
      const flush = (await import('../../lambdas/actions/redis_command')).handler;
      const refused = flush(inc.actionPayload('flush_expired_keys'));
      const analyse = (await import('../../lambdas/actions/redis_analysis')).handler;
      const r = await analyse(inc.actionPayload('analyze_redis_keys'));
      // assess
      await expect(refused).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'breaker-gate', message: expect.stringContaining('diagnose_only') });
      expect(await redis.exists(`${prefix}keep`)).toBe(1);
      expect(r.outputs.dbsize).toBeGreaterThanOrEqual(1);
    } finally {
      await resetBreaker(dynamo.doc, tables, {}, new Date(), { actor: 'test' });
    }
  });
});
