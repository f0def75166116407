/**
 * Breaker changes that used to go unrecorded (issue 3: every change is a timeline event, and the
 * global breaker tells the on-call SRE and the team lead): a trip by INSUFFICIENT_DATA alarms,
 * which belongs to no incident, and a cool-down that ends at the action dispatcher's gate.
 * A LocalEngine in memory with a recording notifier, the shipped rotation file and a set clock.
 */
import type { Notification } from '../../lib/notify';
import { getGlobalBreaker, recordRemediationResult } from '../../lib/breaker';
import { getTimeline, openOrJoinIncident, pinPlaybookHash } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { runCore } from '../../lib/runtime/core';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { alarmEvent } from '../helpers/events';
import { recordingNotifier } from '../helpers/recording-notifier';
import { loadRotationFile } from '../../lib/approval/oncall-file';

const T0 = new Date('2026-02-09T14:15:00.000Z');
let clock = T0;
let sent: Notification[];
let engine: LocalEngine;

beforeEach(async () => {
  clock = T0;
  const recording = recordingNotifier();
  sent = recording.sent;
  engine = await new LocalEngine({ notifier: recording.notifier, oncall: loadRotationFile(), breakerConfig: { coolDownSeconds: 60 }, now: () => clock }).start();
});

afterEach(async () => {
  await engine.stop();
});

describe('breaker changes no incident caused', () => {
  it('pages the on-call SRE and the team lead when INSUFFICIENT_DATA alarms trip the global breaker', async () => {
    // prepare
    const event = alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage', { state: 'INSUFFICIENT_DATA', at: T0 });
    for (let i = 0; i < 3; i += 1) await handleAlarmEvent(event, { ...engine.intakeDeps(), recent: undefined });
    expect(sent).toEqual([]);
    // act: the 4th makes the failure rate 4 of 4
    await handleAlarmEvent(event, { ...engine.intakeDeps(), recent: undefined });
    // assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ kind: 'breaker_changed', title: 'global breaker CLOSED → OPEN (data collection)', incidentId: 'sre-agent/breaker/global' });
    expect(new Set(sent[0]!.recipients?.map((r) => r.role))).toEqual(new Set(['oncall_sre', 'team_lead']));
  });
});

describe("the action dispatcher's breaker gate", () => {
  it("writes a cool-down that ends at the gate on the incident's timeline", async () => {
    // prepare: three failed remediations open the global breaker at T0
    const { incident } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: T0, anomalyStartedAt: T0 });
    for (let i = 0; i < 3; i += 1) await recordRemediationResult(engine.doc, engine.tables, engine.breakerConfig, T0, { service: 'redis-cache', ok: false });
    expect((await engine.dispatchDeps().gate('redis-cache', incident.id)).mode).toBe('diagnose_only');
    // act: the 60-second cool-down is over
    clock = new Date(T0.getTime() + 60_000);
    const decision = await engine.dispatchDeps().gate('redis-cache', incident.id);
    // assess
    expect(decision.mode).toBe('auto');
    const changes = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'breaker_changed');
    expect(changes.map((e) => e.summary)).toEqual([expect.stringMatching(/^global breaker OPEN → CLOSED: .*\(notify oncall_sre \+ team_lead\)$/)]);
    expect(sent.map((n) => n.title)).toEqual([expect.stringMatching(/^global breaker OPEN → CLOSED/)]);
  });
});

describe('a service breaker that opens (seed §3.2: stop, raise ticket priority, notify the owner)', () => {
  it("raises the incident's severity one level and tells the service owner, at the refused attempt", async () => {
    // prepare: three attempts on redis-cache in the hour, none recovered
    const { incident } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: T0, anomalyStartedAt: T0 });
    const deps = engine.dispatchDeps();
    for (let i = 0; i < 3; i += 1) expect((await deps.attempt('redis-cache', incident.id)).allowed).toBe(true);
    // act: the fourth is refused and opens the breaker
    const fourth = await deps.attempt('redis-cache', incident.id);
    // assess
    expect(fourth.allowed).toBe(false);
    const timeline = await getTimeline(engine.doc, engine.tables, incident.id);
    expect(timeline.filter((e) => e.type === 'breaker_changed').map((e) => e.summary)).toEqual([expect.stringMatching(/^breaker of redis-cache CLOSED → OPEN/)]);
    expect(timeline.filter((e) => e.type === 'severity_raised')).toEqual([expect.objectContaining({ before: { severity: 'MEDIUM' }, after: { severity: 'HIGH' } })]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toContain("its incident's severity (the ticket's priority) is now HIGH");
    expect(sent[0]!.recipients?.map((r) => r.role)).toEqual(['service_owner:redis-cache']);
  });
});

describe('missing metric data (issue 3: unknown, and it counts toward the data-collection failure rate)', () => {
  it('trips the global breaker after four condition checks and recovery checks without data, on the incident timeline', async () => {
    // prepare: no metric data at all for redis-cache
    const { incident } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: 'redis-memory-pressure', service: 'redis-cache', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: T0, anomalyStartedAt: T0 });
    // Start incident pins the compiled version: the condition evaluated is that version's.
    await pinPlaybookHash(engine.doc, engine.tables, incident.id, engine.compiled.get('redis-memory-pressure')!.hash);
    const refs = { incident: { id: incident.id, playbook: incident.playbook, service: incident.service, severity: incident.severity } };
    const condition = () => runCore('Fn_evaluate', { ...refs, op: 'condition', step: 'scale_redis_cluster', condition: 'redis_memory_usage still > 85% after cleanup' }, engine.coreDeps());
    const verify = () => runCore('Fn_evaluate', { ...refs, op: 'verify', playbook: incident.playbook, rules: ['redis_memory_usage > 85%'] }, engine.coreDeps());
    // act
    const results = [await condition(), await verify(), await condition()];
    expect(await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).toMatchObject({ state: 'CLOSED' });
    results.push(await verify());
    // assess: each one unknown, never false; the 4th of 4 failures opens the breaker
    expect(results.map((r) => (r as { result: string }).result)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).toMatchObject({ state: 'OPEN', cause: 'data_collection' });
    const changes = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'breaker_changed');
    expect(changes.map((e) => e.summary)).toEqual([expect.stringMatching(/^global breaker CLOSED → OPEN: data collection failing: 4 of the last 4/)]);
  });
});

describe("an approval message's metrics (template variables)", () => {
  it('show "unknown" without data, never 0, and count toward the data-collection failure rate', async () => {
    // prepare
    const { incident } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: 'traffic-surge', service: 'trading-api', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: T0, anomalyStartedAt: T0 });
    const request = (token: string) =>
      runCore(
        'Fn_approval_request',
        {
          incident: { id: incident.id, playbook: incident.playbook, service: incident.service, severity: incident.severity },
          op: 'request',
          taskToken: token,
          // The message is the compiled step's (seed: 当前 QPS: {{current_qps}}, 延迟 P99: {{current_p99}}).
          step: 'enable_rate_limiting',
          level: 2,
          timeout_seconds: 600,
        },
        engine.coreDeps(),
      ) as Promise<{ message: string }>;
    const collection = async () => (await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).dataCollection;
    // act: once without data, once with
    const blind = await request('token-1');
    engine.metrics.put([
      { name: 'api_request_rate', value: 42_000, unit: 'Count/Second', service: 'trading-api', at: clock },
      { name: 'api_latency_p99', value: 350, unit: 'Milliseconds', service: 'trading-api', at: clock },
    ]);
    const blindCollection = await collection();
    const seeing = await request('token-2');
    // assess
    expect(blind.message).toContain('当前 QPS: unknown, 延迟 P99: unknown');
    expect(blindCollection).toMatchObject({ samples: 1, failures: 1 });
    expect(seeing.message).toContain('当前 QPS: 42000/s, 延迟 P99: 350ms');
    expect(await collection()).toMatchObject({ samples: 2, failures: 1 });
  });
});
