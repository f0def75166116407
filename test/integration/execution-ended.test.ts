/**
 * An execution that ends before its playbook does (issue 3: no incident left open for ever):
 * `recordExecutionEnded` on a LocalEngine in memory (no notifier, nobody on call), and the
 * engine calling it when a run fails or when it stops under running playbooks (data folder kept).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getGlobalBreaker, recordActiveAnomaly } from '../../lib/breaker';
import { findOpenIncident, getIncident, getTimeline, listIncidents, openOrJoinIncident, transitionIncident, type Incident } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { recordExecutionEnded, runCore } from '../../lib/runtime/core';
import { executionName } from '../../lib/runtime/executions';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { alarmEvent } from '../helpers/events';

const PLAYBOOK = 'matching-engine-latency';
const SERVICE = 'matching-engine';

let engine: LocalEngine;

const open = async (): Promise<Incident> =>
  (
    await openOrJoinIncident(engine.doc, engine.tables, {
      playbook: PLAYBOOK,
      service: SERVICE,
      severity: 'HIGH',
      alarm: { name: `sre-agent/${PLAYBOOK}/${SERVICE}/matching_engine_latency_p99` },
      detectedAt: new Date(),
      anomalyStartedAt: new Date(),
    })
  ).incident;

const statusOf = async (id: string) => (await getIncident(engine.doc, engine.tables, id)).status;

async function waitForStatus(id: string, status: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await statusOf(id)) !== status) {
    if (Date.now() > deadline) throw new Error(`${id} is ${await statusOf(id)}, not ${status}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('recordExecutionEnded', () => {
  beforeEach(async () => {
    engine = await new LocalEngine({ notifier: false, oncall: false }).start();
  });

  afterEach(async () => {
    await engine.stop();
  });

  it('fails the incident of a FAILED execution, frees its (playbook, service) and takes it out of the global breaker count', async () => {
    // prepare
    const incident = await open();
    await recordActiveAnomaly(engine.doc, engine.tables, {}, new Date(), { incidentId: incident.id, severity: 'HIGH' });
    // act
    const result = await recordExecutionEnded({ executionName: incident.id, status: 'FAILED', error: 'Lambda.Unknown', cause: 'Runtime exited with error: signal: killed' }, engine.coreDeps());
    // assess
    expect(result).toEqual({ outcome: 'failed', incidentId: incident.id });
    expect(await statusOf(incident.id)).toBe('FAILED');
    const changed = (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'status_changed').at(-1);
    expect(changed?.summary).toBe('OPEN → FAILED: playbook execution FAILED: Lambda.Unknown (Runtime exited with error: signal: killed)');
    expect(await findOpenIncident(engine.doc, engine.tables, PLAYBOOK, SERVICE)).toBeUndefined();
    expect((await getGlobalBreaker(engine.doc, engine.tables, {})).activeHighSeverity).toEqual([]);
    expect((await open()).id).not.toBe(incident.id); // the next alarm opens a new incident
  });

  it('hands an ABORTED execution\'s incident to people (ESCALATED): later alarms join it', async () => {
    const incident = await open();

    const result = await recordExecutionEnded({ executionName: incident.id, status: 'ABORTED' }, engine.coreDeps());

    expect(result.outcome).toBe('escalated');
    expect(await statusOf(incident.id)).toBe('ESCALATED');
    expect((await open()).id).toBe(incident.id);
  });

  it('only records the end on an ESCALATED incident, and leaves a RESOLVED one alone', async () => {
    // prepare
    const escalated = await open();
    await transitionIncident(engine.doc, engine.tables, escalated.id, 'ESCALATED', new Date());
    // act
    const onEscalated = await recordExecutionEnded({ executionName: escalated.id, status: 'TIMED_OUT' }, engine.coreDeps());
    await transitionIncident(engine.doc, engine.tables, escalated.id, 'RESOLVED', new Date());
    const onResolved = await recordExecutionEnded({ executionName: escalated.id, status: 'FAILED' }, engine.coreDeps());
    // assess
    expect(onEscalated.outcome).toBe('recorded');
    expect(onResolved.outcome).toBe('already_final');
    const types = (await getTimeline(engine.doc, engine.tables, escalated.id)).map((e) => e.type);
    expect(types.filter((t) => t === 'execution_ended')).toHaveLength(1);
    expect(await statusOf(escalated.id)).toBe('RESOLVED');
  });

  it('leaves executions not named after an incident alone, and names the field of a bad status', async () => {
    await expect(recordExecutionEnded({ executionName: 'a1b2c3-scheduled', status: 'FAILED' }, engine.coreDeps())).resolves.toEqual({ outcome: 'not_an_incident' });
    await expect(recordExecutionEnded({ executionName: 'INC-20260209-001', status: 'SUCCEEDED' }, engine.coreDeps())).rejects.toThrow(/status/);
    await expect(recordExecutionEnded({ executionName: 'INC-20260209-999', status: 'FAILED' }, engine.coreDeps())).rejects.toThrow('INC-20260209-999');
  });

  it('is what the local engine does when a run fails: the execution FAILED, its incident FAILED', async () => {
    // prepare: an execution whose first state cannot parse its input (a severity that does not exist)
    const incident = await open();
    // act
    await engine.startExecution({ playbook: PLAYBOOK, name: executionName(incident.id), input: { incident: { id: incident.id, playbook: PLAYBOOK, service: SERVICE, severity: 'URGENT' } } });
    await engine.executions.get(executionName(incident.id))!.done;
    // assess
    expect(engine.executions.get(executionName(incident.id))?.status).toBe('FAILED');
    await waitForStatus(incident.id, 'FAILED');
  });
});

describe('scheduled runs (not named after an incident)', () => {
  beforeEach(async () => {
    engine = await new LocalEngine({ notifier: false, oncall: false, speedUp: 600 }).start();
  });

  afterEach(async () => {
    await engine.stop();
  });

  it('open their incident in Start incident, tied to the run, so that the run\'s end is recorded on it', async () => {
    // prepare: what the compiled Start incident state sends for a run an EventBridge schedule started
    const name = '8f14e45f-ceea-467f-a0e6-8b2b0a3c1d9e';
    const started = (await runCore(
      'Fn_incident',
      { op: 'start', playbook: 'certificate-expiry-warning', playbook_hash: engine.compiled.get('certificate-expiry-warning')!.hash, kind: 'schedule', service: null, risk: 'LOW', input: { context: { trigger: 'schedule' } }, execution: name, executionArn: `arn:aws:states:us-east-1:123456789012:execution:certificate-expiry-warning:${name}` },
      engine.coreDeps(),
    )) as { incident: { id: string } };
    // act
    const ended = await recordExecutionEnded({ executionName: name, status: 'TIMED_OUT' }, engine.coreDeps());
    // assess
    expect((await getIncident(engine.doc, engine.tables, started.incident.id)).executionArn).toBe(`arn:aws:states:us-east-1:123456789012:execution:certificate-expiry-warning:${name}`);
    expect(ended).toEqual({ outcome: 'failed', incidentId: started.incident.id });
    expect(await statusOf(started.incident.id)).toBe('FAILED');
  });

  it('run the scheduled playbook on the local engine from the input a schedule sends (no incident yet)', async () => {
    // act
    await engine.startExecution({ playbook: 'certificate-expiry-warning', name: 'daily-check-1', input: { context: { trigger: 'schedule', scheduled_at: '2026-02-09T01:00:00Z' } } });
    const exec = engine.executions.get('daily-check-1')!;
    await exec.done;
    // assess: Start incident opened one and tied the run to it; the run went on past it
    const incidents = await listIncidents(engine.doc, engine.tables);
    expect(incidents).toEqual([expect.objectContaining({ playbook: 'certificate-expiry-warning', executionArn: exec.executionArn })]);
    const types = (await getTimeline(engine.doc, engine.tables, incidents[0]!.id)).map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['incident_opened', 'execution_started', 'status_changed']);
    expect(types.length).toBeGreaterThan(4);
    expect(exec.error?.cause ?? '').not.toContain('IncidentNotFound');
  });
});

describe('LocalEngine stop under running playbooks', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-ended-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('records their incidents FAILED (LocalEngineStopped) before it closes the store', async () => {
    // prepare: a real-time engine; the kafka playbook's first action fails (no Kafka target) and it goes on waiting
    engine = await new LocalEngine({ dataDir: dir, notifier: false, oncall: false }).start();
    const started = await handleAlarmEvent(alarmEvent('sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag'), engine.intakeDeps());
    await waitForStatus(started.incidentId!, 'MITIGATING');
    // act
    await engine.stop();
    // assess: read back from the data folder
    engine = await new LocalEngine({ dataDir: dir, notifier: false, oncall: false }).start();
    try {
      expect(await statusOf(started.incidentId!)).toBe('FAILED');
      const changed = (await getTimeline(engine.doc, engine.tables, started.incidentId!)).filter((e) => e.type === 'status_changed').at(-1);
      expect(changed?.summary).toContain('LocalEngineStopped (the local engine stopped while the playbook ran)');
    } finally {
      await engine.stop();
    }
  });
});
