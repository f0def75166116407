/**
 * DynamoDB round trips on the alarm path, counted (not timed) on the real code path: a LocalEngine
 * on dynalite in memory, the compiled kafka-consumer-lag machine, the intake as the trigger
 * Lambda runs it, a logging middleware on the engine's DynamoDB client (bench/round-trips.ts).
 * No targets: the first action fails as "target not configured", after it was invoked, which
 * is where the path ends.
 */
import { getIncident, getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { alarmRoundTrips, criticalPathOf, describePath, DynamoCallLog, roundTrips, type DynamoCall } from '../../bench/round-trips';
import { alarmEvent } from '../helpers/events';

const ALARM = 'sre-agent/kafka-consumer-lag/billing-consumer/kafka_consumer_lag';

let engine: LocalEngine;

beforeEach(async () => {
  engine = await new LocalEngine({ speedUp: 1 }).start();
});

afterEach(async () => {
  await engine.stop();
});

describe('DynamoDB round trips per alarm', () => {
  it('opens a new incident and starts its execution in 4 round trips, then investigates before its first action; a repeat costs one conditional write', async () => {
    // act
    const { newIncident, repeat } = await alarmRoundTrips(engine, (at) => alarmEvent(ALARM, { at }));
    // assess
    expect(newIncident.outcome).toBe('started');
    // Opening the incident and starting its execution: 4 round trips. Since issue 13 the execution
    // investigates (read-only checks, their conclusion) before its first action: those calls follow.
    const path = describePath(newIncident.calls);
    expect(path.split(' → ').slice(0, 4).join(' → ')).toBe('GetItem → UpdateItem → TransactWriteItems → TransactWriteItems');
    expect(newIncident.opening.roundTrips).toBe(4);
    expect(describePath(newIncident.opening.calls)).toBe('GetItem → UpdateItem → TransactWriteItems → TransactWriteItems');
    // The fifth round trip on is the investigation's: each check reads the incident it investigates
    // (in parallel), the conclusion reads it once and sends its two writes (the timeline's
    // investigation_completed, the breakers' data-collection flag) together.
    expect(path.split(' → ')[4]).toBe('GetItem ‖ GetItem ‖ GetItem');
    const investigation = newIncident.calls.slice(newIncident.calls.findIndex((c, i) => i >= 4 && c.operation === 'GetItem'));
    expect(investigation.map((c) => c.operation).sort()).toEqual(['GetItem', 'GetItem', 'GetItem', 'GetItem', 'PutItem', 'UpdateItem', 'UpdateItem']);
    expect(newIncident.roundTrips).toBeLessThanOrEqual(8);
    expect(repeat.outcome).toBe('joined');
    expect(repeat.calls.map((c) => c.operation)).toEqual(['UpdateItem']);
  });

  it('loses nothing the slower path wrote: the incident is MITIGATING under its execution and playbook version, with its events in order', async () => {
    // act
    const log = DynamoCallLog.attach(engine.doc);
    const path = await criticalPathOf(engine, log, alarmEvent(ALARM));
    // assess
    const incident = await getIncident(engine.doc, engine.tables, path.incidentId!);
    expect(path.outcome).toBe('started');
    expect(incident).toMatchObject({ status: 'MITIGATING', playbookHash: engine.compiled.get('kafka-consumer-lag')!.hash, executionArn: expect.stringContaining(incident.id) });
    expect(incident.timestamps.investigatedAt).toBeDefined();
    const timeline = await getTimeline(engine.doc, engine.tables, incident.id);
    expect(timeline.slice(0, 3).map((e) => e.type)).toEqual(['incident_opened', 'execution_started', 'status_changed']);
    expect(new Set(timeline.map((e) => e.seq)).size).toBe(timeline.length);
  });

  it('counts parallel calls as one round trip and a call sent after the others came back as the next', () => {
    const call = (sentAt: number, answeredAt: number): DynamoCall => ({ operation: 'PutItem', lane: 'intake', sentAt, answeredAt, items: 1, readUnits: 0, writeUnits: 1 });
    expect(roundTrips([call(0, 5), call(1, 4), call(6, 8), call(7, 9), call(9, 10)])).toBe(3);
    expect(roundTrips([])).toBe(0);
  });
});
