/**
 * When an anomaly began, from the CloudWatch "Alarm State Change" event that reported it (issue
 * 13: MTTD = detection − anomaly start, the alarm's first breaching datapoint).
 *
 * CloudWatch puts in `detail.state.reasonData` (a JSON string) the `threshold`, the `startDate`
 * of the evaluated range and, since 2021, `evaluatedDatapoints`: `{timestamp, sampleCount?,
 * value?}` per evaluated period (newest first; a period without data has no value). Which
 * datapoints breach is the alarm's comparison, which the event carries only in `reason`
 * ("... were greater than the threshold (50.0) ..."). The anomaly start is the earliest
 * datapoint that crosses the threshold; when that cannot be told, CloudWatch's `startDate`, and
 * failing that the state change itself — each fallback with the reason it was taken.
 */
import type { AnomalyStart } from '../incident';

/** What the intake needs of the alarm's state (the event's `detail.state`). */
export interface AlarmStateForStart {
  readonly reason?: string;
  readonly reasonData?: string;
  readonly timestamp: string;
}

export interface AnomalyStartResult extends AnomalyStart {
  /** ISO-8601 UTC. */
  readonly at: string;
}

type Comparison = (value: number, threshold: number) => boolean;

/** CloudWatch's wording of its four threshold comparisons in a state reason, longest first. */
const COMPARISONS: readonly (readonly [string, Comparison])[] = [
  ['greater than or equal to', (v, t) => v >= t],
  ['less than or equal to', (v, t) => v <= t],
  ['greater than', (v, t) => v > t],
  ['less than', (v, t) => v < t],
];

/** The comparison a threshold alarm's reason states ("... was greater than the threshold ..."), if one. */
export function comparisonOfReason(reason: string | undefined): { words: string; crosses: Comparison } | undefined {
  const m = /\b(?:was|were) (greater than or equal to|less than or equal to|greater than|less than) the threshold\b/.exec(reason ?? '');
  const found = m ? COMPARISONS.find(([w]) => w === m[1]) : undefined;
  return found ? { words: found[0], crosses: found[1] } : undefined;
}

const iso = (text: unknown): string | undefined => {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
};

/**
 * The anomaly start of an alarm state change: the earliest breaching datapoint of
 * `evaluatedDatapoints`, else `startDate` (with why), else the state change's timestamp.
 *
 * @example
 * anomalyStartOf({ reason: '3 out of the last 3 datapoints [...] were greater than the threshold (10.0) ...', reasonData: '{"threshold":10,"startDate":"2026-02-09T13:57:00.000+0000","evaluatedDatapoints":[{"timestamp":"2026-02-09T13:59:00.000+0000","value":14},{"timestamp":"2026-02-09T13:58:00.000+0000","value":12},{"timestamp":"2026-02-09T13:57:00.000+0000","value":9}]}', timestamp: '2026-02-09T14:00:30.000+0000' })
 * // { at: '2026-02-09T13:58:00.000Z', basis: 'first_breaching_datapoint', startDate: '2026-02-09T13:57:00.000Z' }
 */
export function anomalyStartOf(state: AlarmStateForStart): AnomalyStartResult {
  const changedAt = new Date(state.timestamp).toISOString();
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(state.reasonData ?? '');
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { at: changedAt, basis: 'state_change', fallback: 'reasonData is not a JSON object' };
    data = parsed as Record<string, unknown>;
  } catch {
    return { at: changedAt, basis: 'state_change', fallback: state.reasonData === undefined ? 'the event has no reasonData' : 'reasonData is not JSON' };
  }
  const startDate = iso(data.startDate);
  const fallback = (why: string): AnomalyStartResult =>
    startDate ? { at: startDate, basis: 'start_date', fallback: why, startDate } : { at: changedAt, basis: 'state_change', fallback: `${why}; reasonData has no valid startDate` };

  const points = data.evaluatedDatapoints;
  if (!Array.isArray(points) || points.length === 0) return fallback('reasonData has no evaluatedDatapoints');
  const threshold = data.threshold;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) return fallback('reasonData has no numeric threshold');
  const comparison = comparisonOfReason(state.reason);
  if (!comparison) return fallback('the reason states no threshold comparison (greater/less than)');
  let first: string | undefined;
  for (const p of points as unknown[]) {
    if (!p || typeof p !== 'object') continue;
    const { timestamp, value } = p as { timestamp?: unknown; value?: unknown };
    const at = iso(timestamp);
    if (!at || typeof value !== 'number' || !Number.isFinite(value) || !comparison.crosses(value, threshold)) continue;
    if (first === undefined || at < first) first = at;
  }
  if (!first) return fallback(`no evaluated datapoint is ${comparison.words} the threshold ${threshold}`);
  return { at: first, basis: 'first_breaching_datapoint', ...(startDate ? { startDate } : {}) };
}
