/**
 * The drills' alarm events carry CloudWatch's reasonData.evaluatedDatapoints (newest first, a
 * missing period without value) and startDate (the oldest evaluated period), so the intake reads
 * the anomaly start from the first breaching datapoint, as it would from CloudWatch (issue 13's MTTD).
 * A kafka lag alarm, 2 out of 3, evaluated by the local evaluator on constructed datapoints.
 */
import { alarmEvent } from '../../lib/local/drill/runner';
import { evaluateAlarm } from '../../lib/metrics/alarm-evaluation';
import { detectionAlarms } from '../../lib/metrics/detection';
import { defaultCatalogue } from '../../lib/playbook/catalogue-file';
import { alarmEventSchema } from '../../lib/runtime/intake';
import { anomalyStartOf } from '../../lib/runtime/anomaly-start';

const NOW = new Date('2026-03-02T12:00:30.000Z');
const minute = (k: number) => new Date(Date.parse('2026-03-02T12:00:00.000Z') - (k + 1) * 60_000);
const [lag] = detectionAlarms({ playbook: 'kafka-consumer-lag', service: 'order-consumer', detection: { primary: ['kafka_consumer_lag > 10000'] } }, defaultCatalogue(), { dimensions: { 'Consumer Group': 'g', Topic: 't' } }).alarms;
const spec = { ...lag!, evaluationPeriods: 3, datapointsToAlarm: 2 };

/** Lag per minute, oldest first (k minutes back), undefined for a period without data. */
function evaluated(values: readonly (number | undefined)[]) {
  const points = values.flatMap((v, i) => (v === undefined ? [] : [{ at: new Date(minute(values.length - 1 - i).getTime() + 20_000), value: v }]));
  return evaluateAlarm(spec, { m1: points }, NOW);
}

describe('drill alarm events (lib/local/drill/runner alarmEvent)', () => {
  it('lists the deciding datapoints newest first; the intake takes the first breaching one, after startDate', () => {
    // prepare: 500, then 12000 (first breach), 9000, 15000 → ALARM on 2 of the last 3
    const e = evaluated([500, 12_000, 9_000, 15_000]);
    // act
    const event = alarmEventSchema.parse(alarmEvent(spec, e, NOW));
    const data = JSON.parse(event.detail.state.reasonData!) as { startDate: string; evaluatedDatapoints: { timestamp: string; value?: number }[] };
    const start = anomalyStartOf(event.detail.state);
    // assess
    expect(e.state).toBe('ALARM');
    expect(data.evaluatedDatapoints.map((d) => d.value)).toEqual([15_000, 9_000, 12_000]);
    expect(data.startDate).toBe(minute(2).toISOString().replace('Z', '+0000'));
    expect(start).toEqual({ at: minute(2).toISOString(), basis: 'first_breaching_datapoint', startDate: minute(2).toISOString() });
  });

  it('lists the whole range, missing periods without value, when fewer than N have data', () => {
    // prepare: only two periods with data in the range of five; missing data treated as breaching → ALARM
    const breaching = { ...spec, treatMissingData: 'breaching' as const };
    const e = evaluateAlarm(breaching, { m1: [{ at: new Date(minute(2).getTime() + 20_000), value: 12_000 }, { at: new Date(minute(0).getTime() + 20_000), value: 15_000 }] }, NOW);
    // act
    const event = alarmEventSchema.parse(alarmEvent(breaching, e, NOW));
    const data = JSON.parse(event.detail.state.reasonData!) as { evaluatedDatapoints: { timestamp: string; value?: number }[] };
    // assess: a missing period is no breach to date from; the first real one is
    expect(e.state).toBe('ALARM');
    expect(data.evaluatedDatapoints.map((d) => d.value ?? null)).toEqual([15_000, null, 12_000, null, null]);
    expect(anomalyStartOf(event.detail.state)).toMatchObject({ at: minute(2).toISOString(), basis: 'first_breaching_datapoint' });
  });
});
