/**
 * Attacks on the breakers' accounting (seed §3.2): OK events that would talk the global breaker's
 * count of active anomalies down, and a hand resolve that would pass for a recovery. The alarm
 * intake of the local engine, on its tables, with the seed's matching-engine playbook (HIGH).
 */
import { getGlobalBreaker, getServiceBreaker, recordRemediationAttempt } from '../../lib/breaker';
import { getIncident, getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { resolveByHand } from '../../lib/runtime/core';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { alarmEvent } from '../helpers/events';

let engine: LocalEngine;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: false }).start();
});

afterAll(async () => engine.stop());

const activeHigh = async () => (await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).activeHighSeverity ?? [];

let n = 0;
/** A HIGH incident opened by an alarm, its execution stopped at once (only the accounting is under test). */
async function openHigh(alarmSuffix = 'matching_engine_latency_p99', at = new Date(Date.now() - 60_000)) {
  n += 1;
  const alarm = `sre-agent/matching-engine-latency/matching-engine-${n}/${alarmSuffix}`;
  const r = await handleAlarmEvent(alarmEvent(alarm, { at }), engine.intakeDeps());
  const exec = engine.executions.get(r.incidentId!);
  if (exec) await engine.stopExecution(exec.executionArn, 'test: accounting only').catch(() => undefined);
  return { id: r.incidentId!, alarm };
}

describe('breaker accounting under attack', () => {
  it('50 forged OK events do not bring the active-anomaly count to 0 while the incidents stay open', async () => {
    // prepare: six HIGH anomalies
    const opened = await Promise.all(Array.from({ length: 6 }, () => openHigh()));
    for (const o of opened) expect(await activeHigh()).toContain(o.id);
    // act: OKs for alarms that never fired on those incidents, and OKs older than the firings
    const forged = opened.flatMap((o, i) => [
      alarmEvent(o.alarm.replace(/\/[^/]+$/, '/some_other_alarm'), { state: 'OK' }),
      alarmEvent(o.alarm, { state: 'OK', at: new Date(Date.now() - 3_600_000 - i) }),
    ]);
    const more = Array.from({ length: 50 - forged.length }, (_, i) => alarmEvent(opened[i % 6]!.alarm.replace(/\/[^/]+$/, `/forged_${i}`), { state: 'OK' }));
    const results = await Promise.all([...forged, ...more].map((e) => handleAlarmEvent(e, { ...engine.intakeDeps(), recent: undefined })));
    // assess
    expect(results.filter((r) => r.outcome === 'recovery_recorded')).toEqual([]);
    for (const o of opened) expect(await activeHigh()).toContain(o.id);
  });

  it('an OK for the alarm that fired counts once, and the anomaly stops counting; a new firing counts it again', async () => {
    const o = await openHigh();
    const ok = alarmEvent(o.alarm, { state: 'OK' });
    // act: the real OK, delivered three times to three hosts (no shared idempotency memory)
    const host = () => ({ ...engine.intakeDeps(), recent: undefined });
    const results = await Promise.all([ok, ok, structuredClone(ok)].map((e) => handleAlarmEvent(e, host())));
    // assess: counted once
    expect(results.filter((r) => r.outcome === 'recovery_recorded')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'ok_not_counted')).toHaveLength(2);
    expect((await getTimeline(engine.doc, engine.tables, o.id)).filter((e) => e.type === 'alarm_ok')).toHaveLength(1);
    expect(await activeHigh()).not.toContain(o.id);
    // act: the alarm fires again
    await handleAlarmEvent(alarmEvent(o.alarm, { at: new Date(Date.now() + 1000) }), engine.intakeDeps());
    expect(await activeHigh()).toContain(o.id);
  });

  it('with two alarms on one incident, one OK is not a recovery of the incident', async () => {
    const o = await openHigh('matching_engine_latency_p99');
    const second = o.alarm.replace(/\/[^/]+$/, '/matching_engine_queue_depth');
    await handleAlarmEvent(alarmEvent(second), engine.intakeDeps());
    await handleAlarmEvent(alarmEvent(o.alarm, { state: 'OK', at: new Date(Date.now() + 1000) }), engine.intakeDeps());
    expect(await activeHigh()).toContain(o.id);
    await handleAlarmEvent(alarmEvent(second, { state: 'OK', at: new Date(Date.now() + 2000) }), engine.intakeDeps());
    expect(await activeHigh()).not.toContain(o.id);
  });

  it('a hand resolve is not a recovery: the service keeps its attempt count and its breaker', async () => {
    const o = await openHigh();
    const service = (await getIncident(engine.doc, engine.tables, o.id)).service;
    for (let i = 0; i < 3; i += 1) await recordRemediationAttempt(engine.doc, engine.tables, engine.breakerConfig, new Date(), service);
    const refused = await recordRemediationAttempt(engine.doc, engine.tables, engine.breakerConfig, new Date(), service);
    expect(refused.allowed).toBe(false);
    // act
    await resolveByHand(engine.coreDeps(), o.id, { person: 'Li Na', reason: 'restarted the pods myself' });
    // assess: resolved, out of the active count, but the breaker stays open and the attempts stay counted
    expect((await getIncident(engine.doc, engine.tables, o.id)).status).toBe('RESOLVED');
    expect(await activeHigh()).not.toContain(o.id);
    const breaker = await getServiceBreaker(engine.doc, engine.tables, engine.breakerConfig, new Date(), service);
    expect(breaker.state).toBe('OPEN');
    expect(breaker.attempts).toHaveLength(3);
  });
});
