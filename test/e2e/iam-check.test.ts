/**
 * The IAM check bites: redis-memory-pressure on the local engine (real Redis, DB 8), once under
 * the synthesized roles as they are (the run passes, no call denied) and once with one grant taken
 * out of the synthesized template (the analysis action's access to its incident's items): the
 * run then fails at that step with AccessDeniedException, as it would in AWS.
 */
import { Redis } from 'ioredis';
import { getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { FUNCTION_METADATA_KEY, type CfnTemplate } from '../../lib/local/iam';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { alarmEvent } from '../helpers/events';

const SERVICE = 'redis-cache';
const ALARM = `sre-agent/redis-memory-pressure/${SERVICE}/redis_memory_usage`;
let redis: Redis;

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 8 });
});

afterAll(async () => {
  await redis.quit();
});

/** Removes from a function's role every statement that grants an action on the incidents table. */
function withoutIncidentAccess(fn: string): (t: CfnTemplate) => void {
  return (t) => {
    const [, lambda] = Object.entries(t.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[FUNCTION_METADATA_KEY] === fn)!;
    const role = ((lambda.Properties!.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'])[0];
    for (const r of Object.values(t.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' || !JSON.stringify(r.Properties!.Roles).includes(`"${role}"`)) continue;
      const doc = r.Properties!.PolicyDocument as { Statement: { Resource?: unknown }[] };
      doc.Statement = doc.Statement.filter((st) => !JSON.stringify(st.Resource ?? '').includes('DataIncidents'));
    }
  };
}

async function runOnce(engine: LocalEngine): Promise<string> {
  const now = new Date();
  engine.metrics.put([
    { name: 'redis_memory_usage', value: 93, at: new Date(now.getTime() - 1000) },
    { name: 'redis_evicted_keys', value: 0, at: new Date(now.getTime() - 1000) },
  ]);
  const started = await engine.asFunction('trigger', () => handleAlarmEvent(alarmEvent(ALARM, { at: now }), engine.intakeDeps()));
  expect(started.outcome).toBe('started');
  await engine.quiet();
  return started.incidentId!;
}

describe('the IAM check on the local engine', () => {
  it('passes a run under the synthesized roles as they are: every AWS call of every function allowed', async () => {
    // prepare
    const engine = await new LocalEngine({ speedUp: 600, targets: { redis }, notifier: false, iam: true }).start();
    try {
      // act
      const id = await runOnce(engine);
      // assess
      const events = await getTimeline(engine.doc, engine.tables, id);
      expect(events.find((e) => e.type === 'action' && e.step === 'analyze_redis_keys')).toBeDefined();
      expect(engine.iam!.denials()).toEqual([]);
      // The run touched DynamoDB as several functions, each under its own role.
      const callers = new Set(engine.iam!.decisions.filter((d) => d.action.startsWith('dynamodb:')).map((d) => d.function));
      expect([...callers]).toEqual(expect.arrayContaining(['trigger', 'incident', 'breaker', 'action:redis_analysis', 'action:redis_command']));
    } finally {
      await engine.stop();
    }
  });

  it('fails the run at the step whose role lost one grant, with AccessDeniedException, as AWS would', async () => {
    // prepare: the analysis action may no longer touch the incidents table
    const engine = await new LocalEngine({ speedUp: 600, targets: { redis }, notifier: false, iam: { editTemplate: withoutIncidentAccess('action:redis_analysis') } }).start();
    try {
      // act
      const id = await runOnce(engine);
      // assess: the denial is recorded, and the step failed on it instead of running
      expect(engine.iam!.denials()[0]).toMatchObject({ function: 'action:redis_analysis', action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:local:000000000000:table/sre-agent-incidents', allowed: false });
      const events = await getTimeline(engine.doc, engine.tables, id);
      expect(events.find((e) => e.type === 'action' && e.step === 'analyze_redis_keys')).toBeUndefined();
      const failed = events.find((e) => e.type === 'step_failed' && e.step === 'analyze_redis_keys');
      expect(JSON.stringify(failed)).toContain('AccessDeniedException');
    } finally {
      await engine.stop();
    }
  });
});
