/**
 * Action Lambdas as deployed (handler = actionLambda(action, its targets)), invoked the way the compiled
 * machine invokes them, each under the IAM check as its synthesized role: a permitted call really
 * acts (real Redis; DynamoDB is dynalite through AWS_ENDPOINT_URL_DYNAMODB) and is recorded;
 * forged invocations are test/adversarial's.
 */
import Redis from 'ioredis';
import { getTimeline } from '../../lib/incident';
import { tripGlobalBreaker, resetBreaker } from '../../lib/breaker';
import { closeActionTargets } from '../../lib/runtime/action-lambda';
import { allowedResources } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';
import { startedIncident, type StartedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
let redis: Redis;
const prefix = `cache:lambda-test-${process.pid}:`;

const lambda = lambdaHarness({
  environment: { REDIS_URL: 'redis://127.0.0.1:6379/5' },
  afterStart: () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, db: 5 });
  },
  beforeStop: async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await closeActionTargets();
  },
});

/** The action's function, invoked as itself. */
async function actionHandler(name: 'redis_command' | 'redis_analysis'): Promise<(event: unknown) => Promise<{ outputs: Record<string, unknown> }>> {
  const { handler } = (await import(`../../lambdas/actions/${name}`)) as { handler: (event: unknown) => Promise<{ outputs: Record<string, unknown> }> };
  return (event) => lambda.check.runAs(`action:${name}`, () => handler(event));
}

/** redis-memory-pressure's flush step unlinks `cache:*`; the test's keys live under it. */
async function incident(): Promise<StartedIncident> {
  return startedIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: `redis-cache-${Math.random().toString(36).slice(2, 8)}` });
}

describe('action Lambdas', () => {
  it('redis_command unlinks the cache keys and records the action in the timeline', async () => {
    // prepare
    const inc = await incident();
    await redis.set(`${prefix}a`, '1');
    await redis.set(`${prefix}b`, '2');
    const handler = await actionHandler('redis_command');
    // act
    const r = await handler(inc.actionPayload('flush_expired_keys'));
    // assess
    expect(Number(r.outputs.unlinked)).toBeGreaterThanOrEqual(2);
    expect(await redis.exists(`${prefix}a`, `${prefix}b`)).toBe(0);
    const events = await getTimeline(lambda.dynamo.doc, tables, inc.incident.id);
    expect(events.find((e) => e.type === 'action')).toMatchObject({ step: 'flush_expired_keys', data: { action: 'redis_command', attempt: 1 } });
    expect(lambda.check.denials()).toEqual([]);
    // The breakers read and the timeline written, each as the action's own role.
    expect(allowedResources(lambda.check, 'action:redis_command', 'dynamodb:GetItem')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/brk']);
    expect(allowedResources(lambda.check, 'action:redis_command', 'dynamodb:PutItem')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/inc']);
  });

  it('with the global breaker open (diagnose-only), a mutating action is refused but a read-only one runs', async () => {
    // prepare
    const inc = await incident();
    await redis.set(`${prefix}keep`, '1');
    await tripGlobalBreaker(lambda.dynamo.doc, tables, {}, new Date(), { reason: 'test' });
    try {
      // act
      const flush = await actionHandler('redis_command');
      const refused = flush(inc.actionPayload('flush_expired_keys'));
      const analyse = await actionHandler('redis_analysis');
      const r = await analyse(inc.actionPayload('analyze_redis_keys'));
      // assess
      await expect(refused).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'breaker-gate', message: expect.stringContaining('diagnose_only') });
      expect(await redis.exists(`${prefix}keep`)).toBe(1);
      expect(r.outputs.dbsize).toBeGreaterThanOrEqual(1);
      expect(lambda.check.denials()).toEqual([]);
      expect(allowedResources(lambda.check, 'action:redis_analysis', 'dynamodb:PutItem')).toEqual(['arn:aws:dynamodb:us-east-1:123456789012:table/inc']);
    } finally {
      await resetBreaker(lambda.dynamo.doc, tables, {}, new Date(), { actor: 'test' });
    }
  });
});
