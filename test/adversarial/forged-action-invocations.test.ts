/**
 * Attacks on the action Lambdas as deployed (handler = actionLambda(action, its targets), DynamoDB on
 * dynalite, real Redis): someone with lambda:InvokeFunction forges, replays or races payloads.
 * Every one of these ran on the old guard (issue 9); each test proves the new one refuses it, and
 * that nothing reached the target.
 */
import Redis from 'ioredis';
import { findApprovalForStep, requestApproval } from '../../lib/approval/store';
import { resetBreaker, tripServiceBreaker } from '../../lib/breaker';
import { claimStep, finishStep, getTimeline, pinPlaybookHash, readIncidentWithSteps, transitionIncident } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { loadCompiledPlaybooks } from '../../lib/compiled/manifest';
import { approvalBinding } from '../../lib/policy';
import { closeActionTargets } from '../../lib/runtime/action-lambda';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';
import { startedIncident, type StartedIncident } from '../helpers/started-incident';
import { defaultPolicy } from '../../lib/policy/files';

const tables = LAMBDA_TEST_TABLES;
const DB = 6;
const prefix = `cache:adversarial-${process.pid}:`;
let dynamo: LocalDynamo;
let redis: Redis;
const savedEnv = { ...process.env };
const playbooks = loadCompiledPlaybooks();

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint, { REDIS_URL: `redis://127.0.0.1:6379/${DB}` }));
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: DB });
});

afterAll(async () => {
  process.env = savedEnv;
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await closeActionTargets();
  await dynamo.stop();
});

let n = 0;
/** An incident of `playbook` on a service of its own (so breakers and open keys do not mix). */
async function incident(playbook: string, service?: string): Promise<StartedIncident> {
  n += 1;
  return startedIncident(dynamo.doc, tables, { playbook, service: service ?? `svc-${process.pid}-${n}` });
}

const handlerOf = async (action: string) => ((await import(`../../lambdas/actions/${action}`)) as { handler: (e: unknown) => Promise<{ summary: string; outputs: Record<string, unknown> }> }).handler;
const refused = (rule: string, text?: string) => expect.objectContaining({ name: 'PolicyViolationError', rule, ...(text ? { message: expect.stringContaining(text) } : {}) });
const stepRecord = async (inc: StartedIncident, step: string) => (await readIncidentWithSteps(dynamo.doc, tables, inc.incident.id))?.steps[step];
const refusals = async (inc: StartedIncident) => (await getTimeline(dynamo.doc, tables, inc.incident.id)).filter((e) => e.type === 'action_refused');

/** An earlier step that succeeded with these outputs (what its action's dispatcher stores). */
async function storedOutputs(inc: StartedIncident, step: string, outputs: Record<string, unknown>): Promise<void> {
  const claim = await claimStep(dynamo.doc, tables, { incidentId: inc.incident.id, step, action: playbooks.step(inc.incident.playbook, step)!.action, executionArn: inc.executionArn, now: new Date() });
  await finishStep(dynamo.doc, tables, inc.incident.id, step, claim.record.claimId, { state: 'done', summary: 'earlier step', outputs }, new Date());
}

async function cacheKeys(count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${n}:${i}`);
  for (const k of keys) await redis.set(k, 'x');
  return keys;
}

describe('forged action invocations (through the deployed handlers)', () => {
  it('a payload claiming mode "auto" and risk LOW does not run a step the playbook gates on approval', async () => {
    // The old guard took approval from the payload's mode/risk: rolling_restart ran unapproved.
    const inc = await incident('rds-connection-exhaustion');
    await storedOutputs(inc, 'kill_idle_connections', { leaking_service: 'order-service', identified_leaking_service: 'order-service' });
    const restart = await handlerOf('rolling_restart');
    await expect(restart(inc.actionPayload('restart_leaking_pods', { mode: 'auto', risk: 'LOW', approvers: [] }))).rejects.toEqual(refused('invocation-shape', 'mode, risk, approvers'));
    // The honest shape is refused too: the compiled step waits for approval and none exists.
    await expect(restart(inc.actionPayload('restart_leaking_pods'))).rejects.toEqual(refused('approval-required', 'compiled to wait for approval'));
    expect(await stepRecord(inc, 'restart_leaking_pods')).toBeUndefined();
    expect(await refusals(inc)).toHaveLength(1);
  });

  it('naming another service cannot get past an open service breaker: the service comes from the incident', async () => {
    const inc = await incident('redis-memory-pressure');
    const keys = await cacheKeys(3);
    await tripServiceBreaker(dynamo.doc, tables, {}, new Date(), { service: inc.incident.service, reason: 'three attempts without recovery' });
    try {
      const flush = await handlerOf('redis_command');
      await expect(flush(inc.actionPayload('flush_expired_keys', { incident: { id: inc.incident.id, service: 'some-other-service' } }))).rejects.toEqual(refused('invocation-shape', 'incident'));
      await expect(flush(inc.actionPayload('flush_expired_keys'))).rejects.toEqual(refused('breaker-gate', 'service_stopped'));
      expect(await redis.exists(...keys)).toBe(keys.length);
    } finally {
      await resetBreaker(dynamo.doc, tables, {}, new Date(), { service: inc.incident.service, actor: 'test' });
    }
  });

  it('a made-up incident id runs nothing and writes nothing', async () => {
    const inc = await incident('redis-memory-pressure');
    const keys = await cacheKeys(2);
    const flush = await handlerOf('redis_command');
    await expect(flush(inc.actionPayload('flush_expired_keys', { incidentId: 'INC-20991231-999' }))).rejects.toEqual(refused('incident-active', 'does not exist'));
    expect(await redis.exists(...keys)).toBe(2);
    expect(await readIncidentWithSteps(dynamo.doc, tables, 'INC-20991231-999')).toBeUndefined();
  });

  it.each(['RESOLVED', 'FAILED', 'ESCALATED'] as const)('a step of a %s incident is refused', async (status) => {
    const inc = await incident('redis-memory-pressure');
    const keys = await cacheKeys(2);
    await transitionIncident(dynamo.doc, tables, inc.incident.id, status, new Date());
    await expect((await handlerOf('redis_command'))(inc.actionPayload('flush_expired_keys'))).rejects.toEqual(refused('incident-active', status));
    expect(await redis.exists(...keys)).toBe(2);
  });

  it("another step's APPROVED approval does not let kubectl_rollout_undo run", async () => {
    // The old guard keyed approvals by (incident, step) only: the gc step's approval ran the rollback.
    const inc = await incident('matching-engine-latency', 'matching-engine');
    const gc = playbooks.step('matching-engine-latency', 'trigger_manual_gc')!;
    const rec = await requestApproval(dynamo.doc, tables, { incidentId: inc.incident.id, step: gc.name, action: gc.action, level: 2, approvers: gc.approvers, minApprovals: gc.minApprovals, taskToken: 't', timeoutSeconds: 600, totalSeconds: 3300, binding: approvalBinding(gc.action, gc.params, gc.targets, defaultPolicy()), params: gc.params }, new Date());
    const { decideApproval } = await import('../../lib/approval/store');
    await decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'oncall_sre', person: 'John Park', decision: 'approve' }, new Date());
    const undo = await handlerOf('kubectl_rollout_undo');
    // Borrowing the gc step's name for the rollback: the compiled step runs api_call.
    await expect(undo({ ...inc.actionPayload('trigger_manual_gc'), params: { deployment: 'matching-engine' } })).rejects.toEqual(refused('compiled-step', 'runs api_call, not kubectl_rollout_undo'));
    // The rollback's own step has no approval at all.
    await expect(undo(inc.actionPayload('rollback_matching_engine'))).rejects.toEqual(refused('approval-required'));
    expect(await stepRecord(inc, 'rollback_matching_engine')).toBeUndefined();
  });

  it('an approval bound to other parameters does not cover this invocation, and the error names both', async () => {
    const inc = await incident('rds-connection-exhaustion');
    const step = playbooks.step('rds-connection-exhaustion', 'restart_leaking_pods')!;
    // Approved for order-service, while the stored outputs (none here) resolve the deployment otherwise.
    const forgedBinding = approvalBinding('rolling_restart', { deployment: 'order-service', strategy: 'one_at_a_time' }, [{ kind: 'service', name: 'order-service' }], defaultPolicy());
    const rec = await requestApproval(dynamo.doc, tables, { incidentId: inc.incident.id, step: step.name, action: step.action, level: 2, approvers: step.approvers, minApprovals: step.minApprovals, taskToken: 't2', timeoutSeconds: 600, totalSeconds: 3300, binding: forgedBinding, params: {} }, new Date());
    const { decideApproval } = await import('../../lib/approval/store');
    await decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'oncall_sre', person: 'John Park', decision: 'approve' }, new Date());
    // The step's template names an output no step recorded: it does not resolve to order-service.
    await expect((await handlerOf('rolling_restart'))(inc.actionPayload('restart_leaking_pods'))).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('leaking_service') });
    expect((await findApprovalForStep(dynamo.doc, tables, inc.incident.id, step.name))?.usedAt).toBeUndefined();
  });

  it('parameters changed in the payload are refused, naming them', async () => {
    const inc = await incident('redis-memory-pressure');
    const flush = await handlerOf('redis_command');
    const compiled = playbooks.step('redis-memory-pressure', 'flush_expired_keys')!.params;
    await expect(flush(inc.actionPayload('flush_expired_keys', { params: { ...compiled, command: "redis-cli --scan --pattern 'session:*' | xargs redis-cli UNLINK" } }))).rejects.toEqual(refused('compiled-params', 'parameter(s) command differ'));
  });

  it('an invocation naming another execution is refused', async () => {
    const inc = await incident('redis-memory-pressure');
    await expect((await handlerOf('redis_command'))(inc.actionPayload('flush_expired_keys', { execution: `${inc.executionArn}-replayed-elsewhere` }))).rejects.toEqual(refused('execution'));
  });

  it('an incident pinned to another playbook version is refused (a partial deploy)', async () => {
    const inc = await incident('redis-memory-pressure');
    // Pinned at start: a second pin to another hash is refused, so forge the stored one directly.
    await expect(pinPlaybookHash(dynamo.doc, tables, inc.incident.id, 'e'.repeat(64))).rejects.toMatchObject({ name: 'IncidentError' });
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await dynamo.doc.send(new UpdateCommand({ TableName: tables.incidents, Key: { pk: inc.incident.id, sk: 'INCIDENT' }, UpdateExpression: 'SET playbookHash = :h', ExpressionAttributeValues: { ':h': 'e'.repeat(64) } }));
    await expect((await handlerOf('redis_command'))(inc.actionPayload('flush_expired_keys'))).rejects.toEqual(refused('playbook-hash', 'eeeeeeeeeeee'));
  });

  it('a replayed invocation of a step that ran returns its stored result and acts once', async () => {
    const inc = await incident('redis-memory-pressure');
    const flush = await handlerOf('redis_command');
    await cacheKeys(3);
    const first = await flush(inc.actionPayload('flush_expired_keys'));
    const fresh = await cacheKeys(4);
    // act: the same payload again (a redelivery, or someone replaying it)
    const again = await flush(inc.actionPayload('flush_expired_keys'));
    // assess: same answer, the new keys untouched, one action on the timeline
    expect(again).toEqual(first);
    expect(await redis.exists(...fresh)).toBe(4);
    const events = await getTimeline(dynamo.doc, tables, inc.incident.id);
    expect(events.filter((e) => e.type === 'action').map((e) => e.step)).toEqual(['flush_expired_keys']);
    expect(events.filter((e) => e.type === 'action_replayed')).toHaveLength(1);
    await redis.del(...fresh);
  });

  it('two invocations of one step at once: one acts, the other is refused or gets its result', async () => {
    const inc = await incident('redis-memory-pressure');
    const flush = await handlerOf('redis_command');
    await cacheKeys(20);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => flush(inc.actionPayload('flush_expired_keys'))));
    const events = await getTimeline(dynamo.doc, tables, inc.incident.id);
    // Exactly one attempt acted; the others were refused while it ran, or replayed its result.
    expect(events.filter((e) => e.type === 'action')).toHaveLength(1);
    expect((await stepRecord(inc, 'flush_expired_keys'))).toMatchObject({ state: 'done', attempt: 1 });
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toEqual(refused('step-claim', 'already running'));
  });
});
