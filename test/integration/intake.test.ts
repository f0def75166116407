/**
 * Integration tests of alarm intake (handleAlarmEvent) against dynalite (in-process, in memory,
 * random port; fresh tables per test). Executions are started through a stub ExecutionStarter with
 * Step Functions' name semantics (our own port): here we count starts, the e2e tests run them.
 */
import { gate, getGlobalBreaker } from '../../lib/breaker';
import { getIncident, getTimeline, listIncidents, type Incident } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import type { Manifest, MachineManifest } from '../../lib/compiled/manifest';
import type { ExecutionStarter, StartRequest, StartResult } from '../../lib/runtime/executions';
import { handleAlarmEvent, listDeadLetters, type IntakeDeps, type IntakeResult } from '../../lib/runtime/intake';
import manifest from '../../statemachines/index.json';
import mathSample from '../fixtures/events/aws-doc-metric-math-alarm.json';
import { alarmEvent, awsSampleEvent } from '../helpers/events';

const MACHINES: readonly MachineManifest[] = (manifest as unknown as Manifest).machines;
const REDIS_ALARM = 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage';

/**
 * Starts nothing; remembers each execution name as StartExecution would (a second start with the
 * same name is `alreadyStarted`). `failFirst` throws on the first call, as a process that crashed
 * between writing the incident and calling StartExecution.
 */
class CountingStarter implements ExecutionStarter {
  public readonly started = new Map<string, StartRequest>();
  public calls = 0;
  public constructor(private failFirst = false) {}

  public async startExecution(req: StartRequest): Promise<StartResult> {
    this.calls += 1;
    if (this.failFirst) {
      this.failFirst = false;
      throw new Error('simulated crash before StartExecution');
    }
    const executionArn = `arn:aws:states:us-east-1:123456789012:execution:${req.playbook}:${req.name}`;
    if (this.started.has(req.name)) return { executionArn, alreadyStarted: true };
    this.started.set(req.name, req);
    return { executionArn, alreadyStarted: false };
  }
}

let dynamo: LocalDynamo;
let tableCount = 0;
let starter: CountingStarter;
let deps: IntakeDeps;

function intakeDeps(s: ExecutionStarter): IntakeDeps {
  return { doc: dynamo.doc, tables: deps.tables, breakerConfig: {}, starter: s, machines: MACHINES, now: () => new Date() };
}

const post = (event: unknown): Promise<IntakeResult> => handleAlarmEvent(event, deps);
const allIncidents = (): Promise<Incident[]> => listIncidents(dynamo.doc, deps.tables, { limit: 10_000 });
const typesOf = async (id: string): Promise<string[]> => (await getTimeline(dynamo.doc, deps.tables, id)).map((e) => e.type);

beforeAll(async () => {
  dynamo = await startDynalite({ port: 0 });
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tableCount += 1;
  const tables = { incidents: `incidents-${tableCount}`, breakers: `breakers-${tableCount}` };
  await createTables(dynamo.client, tables);
  starter = new CountingStarter();
  deps = { doc: dynamo.doc, tables, breakerConfig: {}, starter, machines: MACHINES, now: () => new Date() };
});

describe('Function: handleAlarmEvent', () => {
  describe('bad events', () => {
    it('dead-letters the AWS sample event (alarm ServerCpuTooHigh) with a reason naming the alarm', async () => {
      // act
      const result = await post(awsSampleEvent());
      // assess
      expect(result.outcome).toBe('dead_letter');
      expect(result.reason).toContain('"ServerCpuTooHigh"');
      expect((await listDeadLetters(dynamo.doc, deps.tables)).map((l) => l.reason)).toEqual([result.reason]);
      expect(await allIncidents()).toEqual([]);
      expect(starter.calls).toBe(0);
    });

    it('dead-letters an event without detail.state with a reason naming the field', async () => {
      // prepare
      const event = alarmEvent(REDIS_ALARM) as unknown as { detail: Record<string, unknown> };
      delete event.detail.state;
      // act
      const result = await post(event);
      // assess
      expect(result.outcome).toBe('dead_letter');
      expect(result.reason).toMatch(/^malformed alarm event: detail\.state: /);
      expect((await listDeadLetters(dynamo.doc, deps.tables)).map((l) => l.reason)).toEqual([result.reason]);
      expect(await allIncidents()).toEqual([]);
      expect(starter.calls).toBe(0);
    });

    it('lists both dead letters, newest first, with the event kept', async () => {
      // prepare
      const malformed = alarmEvent(REDIS_ALARM) as unknown as { detail: Record<string, unknown> };
      delete malformed.detail.state;
      await post(awsSampleEvent());
      await post(malformed);
      // act
      const letters = await listDeadLetters(dynamo.doc, deps.tables);
      // assess
      expect(letters).toHaveLength(2);
      expect(letters[0]?.reason).toContain('detail.state');
      expect(letters[1]?.reason).toContain('ServerCpuTooHigh');
      expect(JSON.parse(letters[1]?.event ?? '{}')).toEqual(awsSampleEvent());
      expect(await allIncidents()).toEqual([]);
    });
  });

  describe('the AWS sample events', () => {
    it('takes the metric-math alarm sample (several metrics, an expression) once its name follows the convention', async () => {
      // prepare: the documentation's event as sent, only the alarm name changed
      const event = JSON.parse(JSON.stringify(mathSample)) as typeof mathSample;
      event.detail.alarmName = 'sre-agent/traffic-surge/trading-api/api_request_rate';
      // act
      const result = await post(event);
      // assess
      expect(result.outcome).toBe('started');
      const incident = await getIncident(dynamo.doc, deps.tables, result.incidentId!);
      expect(incident).toMatchObject({ playbook: 'traffic-surge', service: 'trading-api', alarm: { name: event.detail.alarmName, reason: event.detail.state.reason } });
      expect(incident.timestamps.detectedAt).toBe(new Date(event.detail.state.timestamp.replace('+0000', 'Z')).toISOString());
    });
  });

  describe('anomaly start (MTTD)', () => {
    it("records the alarm's first breaching datapoint as the anomaly start, with its basis, on the incident and its opened event", async () => {
      // prepare: the sample with CloudWatch's evaluatedDatapoints (newest first): 3 of the last 4 periods above 85%
      const event = alarmEvent(REDIS_ALARM, { at: new Date('2026-02-09T14:05:10.000Z') });
      event.detail.state.reason = 'Threshold Crossed: 3 out of the last 4 datapoints [0.93 (09/02/26 14:04:00), 0.91 (09/02/26 14:03:00), 0.88 (09/02/26 14:02:00)] were greater than the threshold (0.85) (minimum 3 datapoints for OK -> ALARM transition).';
      event.detail.state.reasonData = JSON.stringify({
        version: '1.0', queryDate: '2026-02-09T14:05:10.000+0000', startDate: '2026-02-09T14:01:00.000+0000', statistic: 'Maximum', period: 60, recentDatapoints: [0.93, 0.91, 0.88, 0.8], threshold: 0.85,
        evaluatedDatapoints: [0.93, 0.91, 0.88, 0.8].map((value, i) => ({ timestamp: `2026-02-09T14:0${4 - i}:00.000+0000`, sampleCount: 1, value })),
      });
      // act
      const result = await post(event);
      // assess
      const incident = await getIncident(dynamo.doc, deps.tables, result.incidentId!);
      expect(incident.timestamps.anomalyStartedAt).toBe('2026-02-09T14:02:00.000Z');
      expect(incident.anomalyStart).toEqual({ basis: 'first_breaching_datapoint', startDate: '2026-02-09T14:01:00.000Z' });
      const opened = (await getTimeline(dynamo.doc, deps.tables, incident.id)).find((e) => e.type === 'incident_opened');
      expect(opened?.data).toMatchObject({ anomalyStartedAt: '2026-02-09T14:02:00.000Z', anomalyStart: { basis: 'first_breaching_datapoint' } });
    });

    it("falls back to CloudWatch's startDate for the AWS sample's reasonData (no datapoints) and says why", async () => {
      const result = await post(alarmEvent(REDIS_ALARM, { at: new Date('2026-02-09T14:05:10.000Z') }));

      const incident = await getIncident(dynamo.doc, deps.tables, result.incidentId!);
      expect(incident.timestamps.anomalyStartedAt).toBe('2026-02-09T14:00:10.000Z');
      expect(incident.anomalyStart).toEqual({ basis: 'start_date', startDate: '2026-02-09T14:00:10.000Z', fallback: 'reasonData has no evaluatedDatapoints' });
    });
  });

  describe('idempotency', () => {
    it('opens one incident and starts one execution when the same event is delivered 5 times in a row', async () => {
      // prepare
      const event = alarmEvent(REDIS_ALARM);
      // act
      const results: IntakeResult[] = [];
      for (let i = 0; i < 5; i += 1) results.push(await post(event));
      // assess
      expect(results.map((r) => r.outcome)).toEqual(['started', 'already_started', 'already_started', 'already_started', 'already_started']);
      expect(new Set(results.map((r) => r.incidentId)).size).toBe(1);
      const incidents = await allIncidents();
      expect(incidents).toHaveLength(1);
      expect(starter.started.size).toBe(1);
      expect(incidents[0]?.executionArn).toBe(results[0]?.executionArn);
      const types = await typesOf(incidents[0]!.id);
      expect(types.filter((t) => t === 'incident_opened')).toHaveLength(1);
      expect(types.filter((t) => t === 'execution_started')).toHaveLength(1);
      expect(types).not.toContain('alarm_joined');
    });

    it('opens one incident and starts one execution when the same event is delivered 5 times at once', async () => {
      // prepare
      const event = alarmEvent(REDIS_ALARM);
      // act
      const results = await Promise.all(Array.from({ length: 5 }, () => post(structuredClone(event))));
      // assess
      expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
      expect(new Set(results.map((r) => r.incidentId)).size).toBe(1);
      const incidents = await allIncidents();
      expect(incidents).toHaveLength(1);
      expect(starter.started.size).toBe(1);
      expect(incidents[0]?.executionArn).toBeDefined();
      const types = await typesOf(incidents[0]!.id);
      expect(types.filter((t) => t === 'incident_opened')).toHaveLength(1);
      expect(types.filter((t) => t === 'execution_started')).toHaveLength(1);
    });

    it('opens exactly 50 incidents and starts 50 executions for 200 concurrent alarms over 50 services', async () => {
      // prepare: 4 alarms (different metrics) per service, all for redis-memory-pressure
      const metrics = ['redis_memory_usage', 'redis_evicted_keys', 'redis_memory_usage/replica-1', 'redis_evicted_keys/replica-1'];
      const services = Array.from({ length: 50 }, (_, i) => `redis-shard-${String(i).padStart(2, '0')}`);
      const events = services.flatMap((s) => metrics.map((m) => alarmEvent(`sre-agent/redis-memory-pressure/${s}/${m}`)));
      // act
      const results = await Promise.all(events.map((e) => post(e)));
      // assess
      expect(results.filter((r) => r.outcome === 'dead_letter')).toEqual([]);
      const incidents = await allIncidents();
      expect(incidents).toHaveLength(50);
      expect(new Set(incidents.map((i) => i.service))).toEqual(new Set(services));
      expect(starter.started.size).toBe(50);
      expect(new Set([...starter.started.values()].map((r) => (r.input as { incident: { service: string } }).incident.service))).toEqual(new Set(services));
      for (const incident of incidents) {
        expect(incident.executionArn).toBe(`arn:aws:states:us-east-1:123456789012:execution:redis-memory-pressure:${incident.id}`);
        const types = await typesOf(incident.id);
        expect(types.filter((t) => t === 'alarm_joined')).toHaveLength(3);
        expect(types.filter((t) => t === 'execution_started')).toHaveLength(1);
      }
    });

    it('resumes after a crash between the incident write and StartExecution: same incident, one execution, ARN attached', async () => {
      // prepare
      const crashing = new CountingStarter(true);
      const event = alarmEvent(REDIS_ALARM);
      await expect(handleAlarmEvent(event, intakeDeps(crashing))).rejects.toThrow('simulated crash before StartExecution');
      const [orphan] = await allIncidents();
      expect(orphan?.executionArn).toBeUndefined();
      // act: EventBridge redelivers the same event
      const result = await handleAlarmEvent(event, intakeDeps(crashing));
      // assess
      expect(result.outcome).toBe('started');
      expect(result.incidentId).toBe(orphan?.id);
      const incidents = await allIncidents();
      expect(incidents).toHaveLength(1);
      expect(crashing.started.size).toBe(1);
      expect((await getIncident(dynamo.doc, deps.tables, orphan!.id)).executionArn).toBe(result.executionArn);
      expect((await typesOf(orphan!.id)).filter((t) => t === 'execution_started')).toHaveLength(1);
    });
  });

  describe('repeat lane (the local engine under an alarm storm)', () => {
    /** A lane that holds every repeat until released, and counts what entered it. */
    function heldLane(): { lane: NonNullable<IntakeDeps['repeatLane']>; waiting: () => number; release: () => void } {
      const held: (() => void)[] = [];
      return {
        lane: (work) => new Promise<void>((resolve) => held.push(resolve)).then(work),
        waiting: () => held.length,
        release: () => held.splice(0).forEach((go) => go()),
      };
    }

    it("holds a repeat firing in the lane while a new alarm and a new incident's alarm go past it", async () => {
      // prepare
      const { lane, waiting, release } = heldLane();
      deps = { ...deps, repeatLane: lane };
      const opened = await post(alarmEvent(REDIS_ALARM, { at: new Date('2026-02-09T14:15:00Z') }));
      expect(waiting()).toBe(0); // the opener never waits
      // act
      const repeat = post(alarmEvent(REDIS_ALARM, { at: new Date('2026-02-09T14:16:00Z') }));
      const newAlarm = await post(alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_evicted_keys', { at: new Date('2026-02-09T14:16:00Z') }));
      const otherService = await post(alarmEvent('sre-agent/redis-memory-pressure/redis-session/redis_memory_usage', { at: new Date('2026-02-09T14:16:00Z') }));
      // assess: only the repeat waits; nothing of it is written yet
      expect(waiting()).toBe(1);
      expect(newAlarm).toMatchObject({ outcome: 'joined', incidentId: opened.incidentId });
      expect(otherService.outcome).toBe('started');
      expect((await getIncident(dynamo.doc, deps.tables, opened.incidentId!)).alarms?.[REDIS_ALARM]?.fired).toBe(1);
      release();
      expect(await repeat).toMatchObject({ outcome: 'joined', incidentId: opened.incidentId });
      expect((await getIncident(dynamo.doc, deps.tables, opened.incidentId!)).alarms?.[REDIS_ALARM]).toMatchObject({ fired: 2, lastAt: '2026-02-09T14:16:00.000Z' });
      expect(starter.started.size).toBe(2);
    });

    it('counts every repeat exactly once through a lane of two, with one incident and one execution', async () => {
      // prepare: ten alarms of one service, seen by this host
      const pLimit = (await import('p-limit')).default;
      deps = { ...deps, repeatLane: pLimit(2) };
      const names = Array.from({ length: 10 }, (_, i) => `sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage/node-${i}`);
      for (const name of names) await post(alarmEvent(name, { at: new Date('2026-02-09T14:15:00Z') }));
      // act: each fires again, and each firing is delivered three times, all at once
      const again = names.flatMap((name) => Array.from({ length: 3 }, () => alarmEvent(name, { at: new Date('2026-02-09T14:16:00Z') })));
      const results = await Promise.all(again.map((e) => post(e)));
      // assess
      expect(new Set(results.map((r) => r.outcome))).toEqual(new Set(['joined']));
      const [incident, ...others] = await allIncidents();
      expect(others).toEqual([]);
      for (const name of names) expect(incident?.alarms?.[name]).toEqual({ firstAt: '2026-02-09T14:15:00.000Z', lastAt: '2026-02-09T14:16:00.000Z', fired: 2 });
      expect(starter.started.size).toBe(1);
    });
  });

  describe('OK and INSUFFICIENT_DATA', () => {
    it('records recovery on the open incident when the alarm returns to OK', async () => {
      // prepare
      const opened = await post(alarmEvent(REDIS_ALARM));
      // act
      const result = await post(alarmEvent(REDIS_ALARM, { state: 'OK', at: new Date(Date.now() + 60_000) }));
      // assess
      expect(result).toEqual({ outcome: 'recovery_recorded', incidentId: opened.incidentId });
      const timeline = await getTimeline(dynamo.doc, deps.tables, opened.incidentId!);
      const ok = timeline.filter((e) => e.type === 'alarm_ok');
      expect(ok).toHaveLength(1);
      expect(ok[0]?.summary).toContain(REDIS_ALARM);
      expect(starter.started.size).toBe(1);
    });

    it('records nothing for an OK without an open incident', async () => {
      // act
      const result = await post(alarmEvent(REDIS_ALARM, { state: 'OK' }));
      // assess
      expect(result.outcome).toBe('no_open_incident');
      expect(await allIncidents()).toEqual([]);
    });

    it('counts INSUFFICIENT_DATA as failed data collection: the 4th one trips the global breaker to diagnose_only', async () => {
      // prepare
      const event = alarmEvent(REDIS_ALARM, { state: 'INSUFFICIENT_DATA' });
      for (let i = 0; i < 3; i += 1) expect((await post(event)).outcome).toBe('insufficient_data');
      expect((await gate(dynamo.doc, deps.tables, {}, new Date())).mode).toBe('auto');
      // act
      const result = await post(event);
      // assess
      expect(result.outcome).toBe('insufficient_data');
      const decision = await gate(dynamo.doc, deps.tables, {}, new Date(), { service: 'redis-cache' });
      expect(decision.mode).toBe('diagnose_only');
      expect(decision.reason).toContain('data collection failing: 4 of the last 4');
      expect(await allIncidents()).toEqual([]);
      expect(starter.calls).toBe(0);
    });
  });

  describe('severity: the playbook risk, raised by the alarm', () => {
    /** An alarm event whose description (AlarmDescription) is `description`. */
    function describedAlarm(name: string, description: string, at = new Date('2026-02-09T14:15:00Z')) {
      const event = alarmEvent(name, { at });
      event.detail.configuration.description = description;
      return event;
    }
    const activeHigh = async () => (await getGlobalBreaker(dynamo.doc, deps.tables, {})).activeHighSeverity;

    it('opens at the upper end of the playbook risk when the alarm declares nothing', async () => {
      const redis = await post(alarmEvent(REDIS_ALARM)); // risk LOW-MEDIUM
      const matching = await post(alarmEvent('sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99')); // risk HIGH
      expect((await getIncident(dynamo.doc, deps.tables, redis.incidentId!)).severity).toBe('MEDIUM');
      expect((await getIncident(dynamo.doc, deps.tables, matching.incidentId!)).severity).toBe('HIGH');
      expect(await activeHigh()).toEqual([matching.incidentId]);
    });

    it('opens CRITICAL for an alarm whose description says severity=CRITICAL, and counts it toward the global breaker', async () => {
      // act
      const result = await post(describedAlarm(REDIS_ALARM, 'Redis memory above 85% on the order-book cache. severity=CRITICAL'));
      // assess
      const incident = await getIncident(dynamo.doc, deps.tables, result.incidentId!);
      expect(incident.severity).toBe('CRITICAL');
      expect(await activeHigh()).toEqual([incident.id]);
      expect((starter.started.get(incident.id)?.input as { incident: { severity: string } }).incident.severity).toBe('CRITICAL');
    });

    it('never lowers the playbook severity: "severity: low" on a HIGH playbook opens HIGH', async () => {
      const result = await post(describedAlarm('sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99', 'severity: low'));
      expect((await getIncident(dynamo.doc, deps.tables, result.incidentId!)).severity).toBe('HIGH');
    });

    it('opens at the playbook severity for a severity word that does not exist, and says which word', async () => {
      // act
      const result = await post(describedAlarm(REDIS_ALARM, 'severity=URGENT'));
      // assess: the alarm is handled, not dead-lettered
      expect(result).toMatchObject({ outcome: 'started', warning: 'alarm description declares severity "URGENT"; expected one of LOW, MEDIUM, HIGH, CRITICAL' });
      const incident = await getIncident(dynamo.doc, deps.tables, result.incidentId!);
      expect(incident.severity).toBe('MEDIUM');
      expect(incident.alarm?.details?.severityProblem).toBe(result.warning);
      expect(await listDeadLetters(dynamo.doc, deps.tables)).toEqual([]);
    });

    it('raises the open incident when a joining alarm declares worse, with a severity_raised event; a milder one changes nothing', async () => {
      // prepare
      const opened = await post(alarmEvent(REDIS_ALARM, { at: new Date('2026-02-09T14:15:00Z') }));
      const evictions = 'sre-agent/redis-memory-pressure/redis-cache/redis_evicted_keys';
      // act
      const joined = await post(describedAlarm(evictions, 'Evictions on the order-book cache. severity=HIGH', new Date('2026-02-09T14:16:00Z')));
      const milder = await post(describedAlarm(`${evictions}/replica-1`, 'severity=LOW', new Date('2026-02-09T14:17:00Z')));
      // assess
      expect(joined).toMatchObject({ outcome: 'joined', incidentId: opened.incidentId });
      expect(milder).toMatchObject({ outcome: 'joined', incidentId: opened.incidentId });
      expect((await getIncident(dynamo.doc, deps.tables, opened.incidentId!)).severity).toBe('HIGH');
      const raised = (await getTimeline(dynamo.doc, deps.tables, opened.incidentId!)).filter((e) => e.type === 'severity_raised');
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({ before: { severity: 'MEDIUM' }, after: { severity: 'HIGH' }, summary: `severity MEDIUM → HIGH: alarm ${evictions} declares severity=HIGH` });
      expect(await activeHigh()).toEqual([opened.incidentId]);
      expect(starter.started.size).toBe(1);
    });
  });

  describe('global breaker', () => {
    it('opens when a 6th HIGH-severity incident is open (more than 5), and says so on its timeline', async () => {
      // prepare: matching-engine-latency has risk HIGH
      const alarm = (i: number) => alarmEvent(`sre-agent/matching-engine-latency/matching-engine-${i}/matching_engine_latency_p99`);
      for (let i = 1; i <= 5; i += 1) await post(alarm(i));
      expect((await getGlobalBreaker(dynamo.doc, deps.tables, {})).state).toBe('CLOSED');
      expect((await gate(dynamo.doc, deps.tables, {}, new Date())).mode).toBe('auto');
      // act
      const sixth = await post(alarm(6));
      // assess
      const global = await getGlobalBreaker(dynamo.doc, deps.tables, {});
      expect(global).toMatchObject({ state: 'OPEN', cause: 'active_high_severity' });
      expect(global.activeHighSeverity).toHaveLength(6);
      expect((await gate(dynamo.doc, deps.tables, {}, new Date())).mode).toBe('diagnose_only');
      const changes = (await getTimeline(dynamo.doc, deps.tables, sixth.incidentId!)).filter((e) => e.type === 'breaker_changed');
      expect(changes).toHaveLength(1);
      expect(changes[0]?.summary).toMatch(/^global breaker CLOSED → OPEN: 6 active anomalies with severity ≥ HIGH/);
      expect((await allIncidents()).every((i) => i.severity === 'HIGH')).toBe(true);
    });
  });
});
