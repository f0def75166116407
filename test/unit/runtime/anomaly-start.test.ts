/**
 * The anomaly start of an alarm state change (issue 13's MTTD): the earliest breaching datapoint
 * of CloudWatch's `reasonData.evaluatedDatapoints`, else `startDate`, else the state change, with
 * the reason of each fallback. Events are the AWS documentation's sample with reasonData changed.
 */
import { anomalyStartOf, comparisonOfReason } from '../../../lib/runtime/anomaly-start';
import { awsSampleEvent } from '../../helpers/events';

const cw = (hhmmss: string) => `2026-02-09T${hhmmss}.000+0000`;
const iso = (hhmmss: string) => `2026-02-09T${hhmmss}.000Z`;
const REASON_GT = 'Threshold Crossed: 2 out of the last 3 datapoints [14.0 (09/02/26 14:02:00), 12.0 (09/02/26 14:01:00)] were greater than the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition).';

/** The AWS sample's ALARM state with the given reason and reasonData. */
function state(reasonData: unknown, reason = REASON_GT) {
  const s = awsSampleEvent().detail.state;
  return { ...s, reason, timestamp: cw('14:03:10'), reasonData: typeof reasonData === 'string' ? reasonData : JSON.stringify(reasonData) };
}

/** reasonData as CloudWatch writes it: newest datapoint first, a missing period without value. */
const reasonData = (points: readonly { t: string; v?: number }[], extra: Record<string, unknown> = {}) => ({
  version: '1.0',
  queryDate: cw('14:03:10'),
  startDate: cw('13:59:00'),
  statistic: 'Maximum',
  period: 60,
  recentDatapoints: points.filter((p) => p.v !== undefined).map((p) => p.v),
  threshold: 10,
  evaluatedDatapoints: points.map((p) => ({ timestamp: cw(p.t), ...(p.v !== undefined ? { sampleCount: 1, value: p.v } : {}) })),
  ...extra,
});

describe('anomalyStartOf', () => {
  it('takes the earliest breaching datapoint, not startDate (the start of the evaluated range)', () => {
    const r = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: 14 }, { t: '14:01:00', v: 12 }, { t: '14:00:00', v: 9 }, { t: '13:59:00', v: 8 }])));

    expect(r).toEqual({ at: iso('14:01:00'), basis: 'first_breaching_datapoint', startDate: iso('13:59:00') });
  });

  it('counts the earliest breach of an M-of-N run across a dip and a missing period', () => {
    const r = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: 14 }, { t: '14:01:00' }, { t: '14:00:00', v: 9 }, { t: '13:59:00', v: 11 }])));

    expect(r.at).toBe(iso('13:59:00'));
    expect(r.basis).toBe('first_breaching_datapoint');
  });

  it.each([
    ['greater than or equal to', 10, true],
    ['greater than', 10, false],
    ['less than', 9, true],
    ['less than or equal to', 10, true],
    ['less than', 10, false],
  ])('reads the comparison "%s" from the reason (value %d breaches: %s)', (words, value, breaches) => {
    const r = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: value }]), `Threshold Crossed: 1 out of the last 1 datapoints [${value}.0 (09/02/26 14:02:00)] was ${words} the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition).`));

    expect(r.basis).toBe(breaches ? 'first_breaching_datapoint' : 'start_date');
  });

  it('falls back to startDate, naming why, when the datapoints cannot say', () => {
    const noPoints = anomalyStartOf(state(reasonData([], { evaluatedDatapoints: undefined })));
    const noComparison = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: 14 }]), 'Threshold Crossed: no datapoints were received for 3 periods'));
    const noThreshold = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: 14 }], { threshold: 'ten' })));
    const noneBreach = anomalyStartOf(state(reasonData([{ t: '14:02:00', v: 3 }, { t: '14:01:00' }])));

    expect(noPoints).toEqual({ at: iso('13:59:00'), basis: 'start_date', startDate: iso('13:59:00'), fallback: 'reasonData has no evaluatedDatapoints' });
    expect(noComparison.fallback).toBe('the reason states no threshold comparison (greater/less than)');
    expect(noThreshold.fallback).toBe('reasonData has no numeric threshold');
    expect(noneBreach.fallback).toBe('no evaluated datapoint is greater than the threshold 10');
    for (const r of [noComparison, noThreshold, noneBreach]) expect(r).toMatchObject({ at: iso('13:59:00'), basis: 'start_date' });
  });

  it('falls back to the state change when reasonData is missing, garbled or has no startDate', () => {
    const { reasonData: _drop, ...withoutData } = state({});
    const cases = [
      [withoutData, 'the event has no reasonData'],
      [state('{"version":"1.0","startDate":'), 'reasonData is not JSON'],
      [state('[1,2]'), 'reasonData is not a JSON object'],
      [state(reasonData([], { evaluatedDatapoints: [], startDate: 'yesterday' })), 'reasonData has no evaluatedDatapoints; reasonData has no valid startDate'],
    ] as const;

    for (const [s, why] of cases) expect(anomalyStartOf(s)).toEqual({ at: iso('14:03:10'), basis: 'state_change', fallback: why });
  });

  it("reads the AWS documentation's own sample (no evaluatedDatapoints) as its startDate", () => {
    const r = anomalyStartOf(awsSampleEvent().detail.state);

    expect(r).toEqual({ at: '2019-10-02T16:59:00.000Z', basis: 'start_date', startDate: '2019-10-02T16:59:00.000Z', fallback: 'reasonData has no evaluatedDatapoints' });
  });

  it('ignores datapoints it cannot read (no timestamp, a string value) instead of failing', () => {
    const data = reasonData([{ t: '14:02:00', v: 14 }]);
    const r = anomalyStartOf(state({ ...data, evaluatedDatapoints: [null, { value: 99 }, { timestamp: cw('13:00:00'), value: '99' }, ...data.evaluatedDatapoints] }));

    expect(r).toMatchObject({ at: iso('14:02:00'), basis: 'first_breaching_datapoint' });
  });
});

describe('comparisonOfReason', () => {
  it('reads the longest wording first and nothing from an OK reason', () => {
    expect(comparisonOfReason('1 out of the last 1 datapoints [5.0] was less than or equal to the threshold (5.0)')?.words).toBe('less than or equal to');
    expect(comparisonOfReason('1 out of the last 1 datapoints [0.06] was not greater than the threshold (50.0)')).toBeUndefined();
    expect(comparisonOfReason(undefined)).toBeUndefined();
  });
});
