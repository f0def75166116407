/**
 * End-to-end tests of the local engine: alarm intake → the compiled redis-memory-pressure state
 * machine (aws-local-stepfunctions, waits sped up 600×: a 10-minute approval window lasts 1 s) →
 * in-process actions against the real Redis at 127.0.0.1:6379, DB 7, on dynalite in memory.
 * A fresh engine per test; keys are named per run and removed after each test. A test that acts
 * inside a window (decides an approval, resolves at level 3) holds that window at its real length
 * (LocalEngineOptions.realTimeStates): however loaded the machine, it cannot pass before the test acts.
 */
import { createHook } from 'node:async_hooks';
import { Redis } from 'ioredis';
import { findApprovalForStep, type ApprovalRecord } from '../../lib/approval';
import type { DecisionOutcome } from '../../lib/approval/callback';
import { getServiceBreaker, tripGlobalBreaker } from '../../lib/breaker';
import { getIncident, getTimeline, type Incident, type TimelineEvent } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { handleAlarmEvent, type IntakeResult } from '../../lib/runtime/intake';
import { decideOnEngine, type Decision } from '../helpers/approvals';
import { alarmEvent } from '../helpers/events';
import { expectNoDenials } from '../helpers/iam';
import { keysMatching as keysOf } from '../helpers/redis';

const RUN = `e2e-${process.pid}-${Date.now()}`;
const SERVICE = 'redis-cache';
const ALARM = `sre-agent/redis-memory-pressure/${SERVICE}/redis_memory_usage`;
const SCALE = 'scale_redis_cluster';
/** The scale-up's level-2 approval window (10 minutes; 1 s at 600×). */
const SCALE_L2_WINDOW = `${SCALE}: approval L2 (on-call SRE)`;
/** The incident's wait at level 3 before it climbs to level 4 (15 minutes; 1.5 s at 600×). */
const L4_WINDOW = 'Wait: escalation window L4';
const CACHE_KEYS = 40;
const SESSION_KEYS = 10;

let redis: Redis;
let engine: LocalEngine;

const keysMatching = (pattern: string) => keysOf(redis, pattern);

async function seedKeys(): Promise<void> {
  const pipe = redis.pipeline();
  for (let i = 0; i < CACHE_KEYS; i += 1) pipe.set(`cache:${RUN}:${i}`, `cached-${i}`);
  for (let i = 0; i < SESSION_KEYS; i += 1) pipe.set(`session:${RUN}:${i}`, `session-${i}`);
  await pipe.exec();
}

/** Memory usage (and evictions) for the service, as the alarm saw them. */
function putMetrics(memoryPercent: number, at: Date): void {
  engine.metrics.put([
    { name: 'redis_memory_usage', value: memoryPercent, unit: 'Percent', at },
    { name: 'redis_evicted_keys', value: 0, unit: 'Count', at },
  ]);
}

function postAlarm(at = new Date()): Promise<IntakeResult> {
  // As the trigger Lambda, under its role.
  return engine.asFunction('trigger', () => handleAlarmEvent(alarmEvent(ALARM, { at }), { doc: engine.doc, tables: engine.tables, breakerConfig: {}, starter: engine, machines: engine.playbooks, now: () => new Date() }));
}

async function timeline(id: string): Promise<TimelineEvent[]> {
  return getTimeline(engine.doc, engine.tables, id);
}

async function incident(id: string): Promise<Incident> {
  return getIncident(engine.doc, engine.tables, id);
}

/** Polls until `probe` returns a value (the approval record appears while the execution waits). */
async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The level-2 approval record of the scale step, once the execution has asked for it. */
function level2Approval(id: string): Promise<ApprovalRecord> {
  return waitFor(async () => {
    const rec = await findApprovalForStep(engine.doc, engine.tables, id, SCALE);
    return rec?.level === 2 && rec.status === 'PENDING' ? rec : undefined;
  }, `the level-2 approval of ${SCALE}`);
}

const stepEvents = (events: readonly TimelineEvent[], step: string) => events.filter((e) => e.step === step);

/** Decides as the approval pages decide (test/helpers/approvals). */
const decide = (approvalId: string, decision: Decision): Promise<DecisionOutcome> => decideOnEngine(engine, approvalId, decision);

/** A fresh engine at 600×, with `realTimeStates` held at their real length. */
async function startEngine(realTimeStates: readonly string[] = []): Promise<void> {
  engine = await new LocalEngine({ speedUp: 600, targets: { redis }, iam: true, holdMetrics: true, realTimeStates }).start();
  await seedKeys();
}

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 7 });
});

afterEach(async () => {
  await engine.quiet();
  await engine.stop();
  expectNoDenials(engine);
  const keys = await keysMatching(`*${RUN}*`);
  if (keys.length > 0) await redis.unlink(...keys);
});

afterAll(async () => {
  await redis.quit();
});

describe('LocalEngine redis-memory-pressure', () => {
  beforeEach(() => startEngine());

  it('flushes cache keys, asks L2 → L3 → L4 for the scale-up, lets it expire and escalates while memory stays high', async () => {
    // prepare
    const at = new Date();
    putMetrics(91, new Date(at.getTime() - 1000));
    // act
    const started = await postAlarm(at);
    await engine.quiet();
    // assess
    expect(started.outcome).toBe('started');
    const id = started.incidentId!;
    expect(await keysMatching(`cache:${RUN}:*`)).toEqual([]);
    expect(await keysMatching(`session:${RUN}:*`)).toHaveLength(SESSION_KEYS);
    const events = await timeline(id);
    const approvalFlow = stepEvents(events, SCALE).filter((e) => e.type.startsWith('approval_'));
    expect(approvalFlow.map((e) => e.type)).toEqual([
      'approval_requested',
      'approval_escalated',
      'approval_requested',
      'approval_escalated',
      'approval_requested',
      'approval_expired',
    ]);
    expect(approvalFlow.filter((e) => e.type === 'approval_requested').map((e) => e.data?.level)).toEqual([2, 3, 4]);
    expect(stepEvents(events, SCALE).map((e) => e.type)).not.toContain('action');
    expect(events.find((e) => e.type === 'recovery_checked')?.summary).toContain('not recovered: redis_memory_usage > 85%');
    expect((await incident(id)).status).toBe('ESCALATED');
    // Unresolved, the incident itself climbs: on-call SRE, then L3 and L4 at each window's end.
    expect(events.filter((e) => e.type === 'incident_escalated').map((e) => e.data?.level)).toEqual([3, 4]);
    expect((await engine.reports.get(id))?.markdown['zh-CN']).toContain(id);
    // At level 4 the execution goes on checking recovery, one director window apart.
    expect(engine.executions.get(id)?.status).toBe('RUNNING');
    await waitFor(async () => ((await timeline(id)).filter((e) => e.type === 'recovery_checked').length >= 3 ? true : undefined), 'two more recovery checks at level 4', 15_000);
  });

  it('keeps checking recovery at level 4 and resolves the incident on a recovery it sees', async () => {
    // prepare: memory stays high, nobody approves: the incident reaches level 4
    putMetrics(91, new Date(Date.now() - 1000));
    const id = (await postAlarm()).incidentId!;
    await engine.quiet();
    expect((await incident(id)).status).toBe('ESCALATED');
    // act: memory comes down while people look at it
    putMetrics(40, new Date());
    await engine.executions.get(id)!.done;
    // assess: the agent saw the recovery and resolved the incident (a real recovery: its breaker is told)
    const events = await timeline(id);
    expect((await incident(id)).status).toBe('RESOLVED');
    expect(events.filter((e) => e.type === 'recovery_checked').at(-1)?.summary).toBe('recovery verified: detection rules no longer hold');
    expect(events.find((e) => e.type === 'status_changed' && e.summary.startsWith('ESCALATED → RESOLVED'))?.actor).toBe('agent');
    expect(engine.executions.get(id)?.status).toBe('SUCCEEDED');
  });

  it('skips the scale-up and resolves when memory drops to 50% after the cleanup', async () => {
    // prepare
    const at = new Date();
    putMetrics(91, new Date(at.getTime() - 1000));
    // act
    const started = await postAlarm(at);
    // The execution needs several round trips to dynalite before it evaluates the condition;
    // this newer point is in the store long before then.
    putMetrics(50, new Date());
    await engine.quiet();
    // assess
    const id = started.incidentId!;
    expect(await keysMatching(`cache:${RUN}:*`)).toEqual([]);
    expect(await keysMatching(`session:${RUN}:*`)).toHaveLength(SESSION_KEYS);
    const events = await timeline(id);
    const scale = stepEvents(events, SCALE);
    expect(scale.map((e) => e.type)).toEqual(['condition_evaluated']);
    expect(scale[0]?.summary).toContain('is false');
    expect(events.find((e) => e.type === 'recovery_checked')?.summary).toBe('recovery verified: detection rules no longer hold');
    const resolved = await incident(id);
    expect(resolved.status).toBe('RESOLVED');
    expect(resolved.timestamps.resolvedAt).toBeDefined();
    expect(await engine.reports.get(id)).toBeDefined();
  });


  it('skips every mutating step in diagnose_only mode while the global breaker is open, and still runs the analysis', async () => {
    // prepare
    putMetrics(91, new Date(Date.now() - 1000));
    await tripGlobalBreaker(engine.doc, engine.tables, {}, new Date(), { reason: 'war room: change freeze' });
    // act
    const started = await postAlarm();
    await engine.quiet();
    // assess
    const events = await timeline(started.incidentId!);
    const analysis = stepEvents(events, 'analyze_redis_keys');
    expect(analysis.map((e) => e.type)).toEqual(['action']);
    for (const step of ['flush_expired_keys', SCALE]) {
      const skipped = stepEvents(events, step).filter((e) => e.type === 'step_skipped');
      expect(skipped).toHaveLength(1);
      expect(skipped[0]?.summary).toContain('diagnose_only');
      expect(stepEvents(events, step).map((e) => e.type)).not.toContain('action');
    }
    expect(stepEvents(events, SCALE).map((e) => e.type)).not.toContain('approval_requested');
    expect(await keysMatching(`cache:${RUN}:*`)).toHaveLength(CACHE_KEYS);
  });
});

describe('LocalEngine redis-memory-pressure, a person decides the scale-up (its level-2 window held open)', () => {
  beforeEach(() => startEngine([SCALE_L2_WINDOW]));

  it('runs the scale-up once both roles approve, and records its failure (no ElastiCache target) instead of a silent success', async () => {
    // prepare
    putMetrics(91, new Date(Date.now() - 1000));
    const started = await postAlarm();
    const id = started.incidentId!;
    const pending = await level2Approval(id);
    // act
    const first = await decide(pending.approvalId, { role: 'oncall_sre', person: 'alice', decision: 'approve' });
    const second = await decide(pending.approvalId, { role: 'team_lead', person: 'bob', decision: 'approve' });
    await engine.quiet();
    // assess: approved at level 2 by the two people named, and the task waiting then was released
    expect(first.record.status).toBe('PENDING');
    expect(second).toMatchObject({ released: true, record: { status: 'APPROVED', level: 2 } });
    expect(second.record.decisions.map((d) => [d.role, d.person, d.decision])).toEqual([
      ['oncall_sre', 'alice', 'approve'],
      ['team_lead', 'bob', 'approve'],
    ]);
    const scale = stepEvents(await timeline(id), SCALE);
    expect(scale.filter((e) => e.type === 'approval_approved').map((e) => e.actor)).toEqual(['alice', 'bob']);
    expect(scale.map((e) => e.type)).not.toContain('approval_escalated');
    expect(scale.map((e) => e.type)).not.toContain('action');
    expect(scale.map((e) => e.type)).not.toContain('action_refused');
    // Past the guard: the attempt was counted (flush_expired_keys, then this one) before run failed.
    expect((await getServiceBreaker(engine.doc, engine.tables, {}, new Date(), SERVICE)).attempts).toHaveLength(2);
    const failed = scale.filter((e) => e.type === 'step_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.summary).toContain('TargetNotConfiguredError');
    expect(failed[0]?.summary).toContain('no elasticache target configured');
    expect((await incident(id)).status).toBe('ESCALATED');
  });

  it('records the rejection and never runs the scale-up when an approver rejects', async () => {
    // prepare
    putMetrics(91, new Date(Date.now() - 1000));
    const started = await postAlarm();
    const id = started.incidentId!;
    const pending = await level2Approval(id);
    // act
    const rejected = await decide(pending.approvalId, { role: 'oncall_sre', person: 'bob', decision: 'reject', reason: 'failover during the Asian open' });
    await engine.quiet();
    // assess
    expect(rejected).toMatchObject({ released: true, record: { status: 'REJECTED', level: 2 } });
    const scale = stepEvents(await timeline(id), SCALE);
    expect(scale.map((e) => e.type)).not.toContain('approval_escalated');
    const rejection = scale.filter((e) => e.type === 'approval_rejected');
    expect(rejection).toHaveLength(1);
    // The cause the playbook records is the one the decision sent: who rejected, in which role, and why.
    expect(rejection[0]?.summary).toContain('bob (oncall_sre) rejected scale_redis_cluster: failover during the Asian open');
    expect(scale.filter((e) => e.type === 'approval_rejected_by').map((e) => e.actor)).toEqual(['bob']);
    expect(scale.map((e) => e.type)).not.toContain('action');
    expect(scale.map((e) => e.type)).not.toContain('action_refused');
    expect(scale.map((e) => e.type)).not.toContain('step_failed');
    expect((await findApprovalForStep(engine.doc, engine.tables, id, SCALE))?.status).toBe('REJECTED');
    expect((await incident(id)).status).toBe('ESCALATED');
  });
});

describe('LocalEngine redis-memory-pressure, a person resolves at level 3 (the level-4 window held open)', () => {
  beforeEach(() => startEngine([L4_WINDOW]));

  it('stops the escalation climb when a person resolves the incident', async () => {
    // prepare: memory stays high, nobody approves, so the incident is escalated and climbs to level 3
    putMetrics(91, new Date(Date.now() - 1000));
    const started = await postAlarm();
    const id = started.incidentId!;
    await waitFor(async () => ((await timeline(id)).some((e) => e.type === 'incident_escalated' && e.data?.level === 3) ? true : undefined), 'the climb to level 3', 15_000);
    expect(engine.executions.get(id)?.states.at(-1)).toBe('Escalate incident to L3');
    // act: the on-call SRE fixed it by hand (the level-4 window is held open: level 4 can only come from the execution going on)
    const { resolveByHand } = await import('../../lib/runtime/core');
    await resolveByHand(engine.coreDeps(), id, { person: 'john', reason: 'failed over the cache by hand' }, (arn, cause) => engine.stopExecution(arn, cause));
    // assess: the execution stopped (nothing acts on it any more), resolved by the person, no level 4
    expect(engine.executions.get(id)?.status).toBe('ABORTED');
    await engine.quiet();
    const events = await timeline(id);
    expect(events.filter((e) => e.type === 'incident_escalated').map((e) => e.data?.level)).toEqual([3]);
    expect((await incident(id)).status).toBe('RESOLVED');
    expect(events.find((e) => e.type === 'status_changed' && e.summary.includes('RESOLVED'))?.actor).toBe('person:john');
    expect(events.find((e) => e.type === 'execution_stopped')?.summary).toContain('resolved by hand by john');
  });
});

describe('LocalEngine startExecution', () => {
  beforeEach(() => startEngine());

  it('starts nothing the second time a name is used (AWS name semantics)', async () => {
    // prepare
    const request = { playbook: 'redis-memory-pressure', name: `drill-${RUN}`, input: {} };
    // act
    const first = await engine.startExecution(request);
    const second = await engine.startExecution(request);
    // assess
    expect(first.alreadyStarted).toBe(false);
    expect(second).toEqual({ executionArn: first.executionArn, alreadyStarted: true });
    expect(engine.executions.size).toBe(1);
    // (It opened a manual incident that nothing resolves: stop it, as a person would.)
    await engine.stopExecution(first.executionArn, 'test over');
    expect(engine.executions.get(request.name)?.status).toBe('ABORTED');
  });
});

describe('LocalEngine stop', () => {
  beforeEach(() => startEngine());

  it('aborts an execution that is waiting (nothing would resume it) and then stops, leaving no timer behind', async () => {
    // Timers of a minute or more created from here on, until they fire or are cleared (the
    // approval Task's 10-minute timer once held jest open for 10 minutes after the tests).
    const longTimers = new Set<number>();
    const hook = createHook({
      init: (id, type, _trigger, resource) => void (type === 'Timeout' && ((resource as { _idleTimeout?: number })._idleTimeout ?? 0) >= 60_000 && longTimers.add(id)),
      destroy: (id) => void longTimers.delete(id),
    }).enable();
    // A real-time engine: the approval window of the scale-up is 10 minutes.
    const slow = await new LocalEngine({ targets: { redis }, iam: true, holdMetrics: true }).start();
    try {
      slow.metrics.put([
        { name: 'redis_memory_usage', value: 95, unit: 'Percent', at: new Date() },
        { name: 'redis_evicted_keys', value: 0, unit: 'Count', at: new Date() },
      ]);
      const started = await slow.asFunction('trigger', () => handleAlarmEvent(alarmEvent(ALARM, { at: new Date() }), { ...slow.intakeDeps(), recent: undefined }));
      await waitFor(async () => {
        const rec = await findApprovalForStep(slow.doc, slow.tables, started.incidentId!, SCALE);
        return rec?.status === 'PENDING' ? rec : undefined;
      }, 'the approval request of the scale-up');
    } finally {
      await slow.stop();
    }

    const exec = [...slow.executions.values()][0]!;
    expect(exec.status).toBe('ABORTED');
    expect(exec.stopDate).toBeDefined();
    expect(slow.tokens.size).toBe(0);
    await new Promise((r) => setImmediate(r));
    hook.disable();
    expect(longTimers.size).toBe(0);
  });
});
