/**
 * A CloudWatch alarm evaluated locally, as CloudWatch evaluates it: the alarm's statistic per
 * period, its metric math, M out of N datapoints, and the four ways of treating missing data with
 * the evaluation range and the "premature alarm" rule of the CloudWatch user guide
 * ("Configuring how CloudWatch alarms treat missing data"; its two example tables are the unit
 * tests). Drills detect with it, so they detect with exactly the stack's alarms.
 *
 * Two things CloudWatch does not publish, chosen here and documented:
 * - the evaluation range is Evaluation Periods + 2 (the guide's examples: 3 → 5);
 * - a period counts once it is complete: the newest datapoint is the period that ended at or
 *   before `now` (periods aligned to multiples of the period since the epoch, as CloudWatch aligns them).
 */
import type { AlarmExpression, AlarmMetric, AlarmSpec, ComparisonOperator } from './detection';
import { MetricError } from './errors';
import type { MetricPoint, MetricSource } from './source';
import { fromBaseUnits } from './units';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One period of the evaluation range. */
export interface AlarmDatapoint {
  /** Start of the period. */
  readonly at: Date;
  /** The alarm's series there (metric unit for a plain alarm, base units for metric math); null when missing. */
  readonly value: number | null;
  /** Whether the value crosses the threshold; null when missing. */
  readonly breaching: boolean | null;
}

export interface AlarmEvaluation {
  readonly state: AlarmState;
  /** True when `state` is the previous state kept (treat missing data `ignore`, nothing to decide on). */
  readonly retained: boolean;
  /** The evaluation range, oldest first. */
  readonly datapoints: readonly AlarmDatapoint[];
  /** Why, in CloudWatch's manner ("Threshold Crossed: 2 out of the last 3 datapoints ..."). */
  readonly reason: string;
}

export interface AlarmEvaluationOptions {
  /**
   * The alarm's state before this evaluation (kept by treat missing data `ignore`).
   * @default 'INSUFFICIENT_DATA' (a new alarm's state)
   */
  readonly previousState?: AlarmState;
  /**
   * Periods retrieved to make up for missing ones.
   * @default evaluationPeriods + 2
   */
  readonly evaluationRange?: number;
}

/** A statistic or series the local evaluator cannot compute; names the alarm. */
export class AlarmEvaluationError extends MetricError {
  public readonly alarm: string;
  public constructor(alarm: string, message: string) {
    super(`alarm ${alarm}: ${message}`);
    this.name = 'AlarmEvaluationError';
    this.alarm = alarm;
  }
}

/** The statistic of one period's raw values (CloudWatch's names; percentiles by nearest rank). */
export function statistic(stat: string, values: readonly number[], alarm = '(alarm)'): number | null {
  if (values.length === 0) return null;
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'SampleCount':
      return values.length;
    default: {
      const p = /^p(\d{1,2}(?:\.\d+)?|100)$/.exec(stat);
      if (!p) throw new AlarmEvaluationError(alarm, `statistic "${stat}" is not evaluated locally (Sum, Average, Maximum, Minimum, SampleCount, pNN)`);
      const sorted = [...values].sort((a, b) => a - b);
      // Rounded first: 99.9 / 100 × 1000 is 999.0000000000001 in floating point, and ranks are whole.
      const rankIndex = Math.max(0, Math.ceil(Number(((Number(p[1]) / 100) * sorted.length).toPrecision(12))) - 1);
      return sorted[rankIndex] as number;
    }
  }
}

function crosses(value: number, comparison: ComparisonOperator, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

const COMPARISON_WORDS: Readonly<Record<ComparisonOperator, string>> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/** Periods before the range that the expression needs (DIFF: one; FILL REPEAT: the slow metric's period). */
function lookback(spec: AlarmSpec): number {
  let extra = 0;
  const visit = (e: AlarmExpression): void => {
    if (e.type === 'diff') {
      extra = Math.max(extra, 1);
      visit(e.operand);
    } else if (e.type === 'repeat') {
      const id = e.operand.type === 'metric' ? e.operand.id : undefined;
      const m = spec.metrics.find((x) => x.id === id);
      extra = Math.max(extra, m ? Math.ceil(m.naturalPeriod / spec.period) : 1);
      visit(e.operand);
    } else if (e.type === 'arithmetic') {
      visit(e.left);
      visit(e.right);
    }
  };
  if (spec.expression) visit(spec.expression);
  return extra;
}

/** Period starts (ms) from oldest to newest: `count` complete periods ending at or before `now`. */
function periodStarts(spec: AlarmSpec, now: Date, count: number): number[] {
  const p = spec.period * 1000;
  const end = Math.floor(now.getTime() / p) * p;
  return Array.from({ length: count }, (_, i) => end - (count - i) * p);
}

function bucketed(spec: AlarmSpec, metric: AlarmMetric, points: readonly MetricPoint[], starts: readonly number[]): (number | null)[] {
  const p = spec.period * 1000;
  return starts.map((start) => {
    const values = points.filter((pt) => pt.at.getTime() >= start && pt.at.getTime() < start + p).map((pt) => fromBaseUnits(pt.value, metric.unit));
    return statistic(metric.stat, values, spec.name);
  });
}

function evaluateSeries(e: AlarmExpression, byId: ReadonlyMap<string, (number | null)[]>, length: number, alarm: string): (number | null)[] {
  switch (e.type) {
    case 'metric': {
      const s = byId.get(e.id);
      if (!s) throw new AlarmEvaluationError(alarm, `no series for metric ${e.id}`);
      return s;
    }
    case 'number':
      return Array.from({ length }, () => e.value);
    case 'arithmetic': {
      const l = evaluateSeries(e.left, byId, length, alarm);
      const r = evaluateSeries(e.right, byId, length, alarm);
      return l.map((a, i) => {
        const b = r[i] ?? null;
        if (a === null || b === null) return null;
        if (e.op === '/' && b === 0) return null;
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      });
    }
    case 'diff': {
      // CloudWatch DIFF: each value minus the preceding value of the series.
      const s = evaluateSeries(e.operand, byId, length, alarm);
      let previous: number | null = null;
      return s.map((v) => {
        if (v === null) return null;
        const d = previous === null ? null : v - previous;
        previous = v;
        return d;
      });
    }
    case 'repeat': {
      const s = evaluateSeries(e.operand, byId, length, alarm);
      let last: number | null = null;
      return s.map((v) => {
        if (v !== null) last = v;
        return v ?? last;
      });
    }
  }
}

function formatValue(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/**
 * Evaluates an alarm now over series keyed by the spec's metric ids (`m1`, `b1`...), values in
 * base units (seconds, ratios) as the metric port returns them.
 *
 * @throws AlarmEvaluationError for a statistic it cannot compute or a series it was not given.
 * @example
 * evaluateAlarm(spec, { m1: [{ at: new Date('2026-01-01T00:00:30Z'), value: 0.92 }] }, new Date('2026-01-01T00:01:05Z')).state // 'ALARM' for `redis_memory_usage > 85%`
 */
export function evaluateAlarm(spec: AlarmSpec, series: Readonly<Record<string, readonly MetricPoint[]>>, now: Date, options: AlarmEvaluationOptions = {}): AlarmEvaluation {
  const n = spec.evaluationPeriods;
  const m = spec.datapointsToAlarm;
  const range = options.evaluationRange ?? n + 2;
  if (!(Number.isInteger(range) && range >= n)) throw new AlarmEvaluationError(spec.name, `evaluation range ${range} is shorter than the ${n} evaluation periods`);
  const extra = lookback(spec);
  const starts = periodStarts(spec, now, range + extra);
  const byId = new Map<string, (number | null)[]>();
  for (const metric of spec.metrics) {
    const points = series[metric.id];
    if (points === undefined) throw new AlarmEvaluationError(spec.name, `no series given for ${metric.id} (${metric.baseline ? 'baseline of ' : ''}${metric.metric})`);
    byId.set(metric.id, bucketed(spec, metric, points, starts));
  }
  const values = (spec.expression ? evaluateSeries(spec.expression, byId, starts.length, spec.name) : (byId.get(spec.metrics[0]?.id ?? 'm1') as (number | null)[])).slice(extra);
  const datapoints: AlarmDatapoint[] = values.map((value, i) => ({
    at: new Date(starts[extra + i] as number),
    value,
    breaching: value === null ? null : crosses(value, spec.comparison, spec.threshold),
  }));
  return { ...decide(spec, datapoints, n, m, options.previousState ?? 'INSUFFICIENT_DATA'), datapoints };
}

/** The state from the evaluation range (oldest first), per the user guide's rules and tables. */
function decide(spec: AlarmSpec, range: readonly AlarmDatapoint[], n: number, m: number, previous: AlarmState): { state: AlarmState; retained: boolean; reason: string } {
  const real = range.filter((d) => d.value !== null);
  const breachingReal = real.filter((d) => d.breaching).length;
  const words = COMPARISON_WORDS[spec.comparison];
  const threshold = formatValue(spec.threshold);
  const crossed = (points: readonly AlarmDatapoint[], count: number, filled: number): string =>
    `${count} out of the last ${n} datapoints${filled > 0 ? ` (${filled} missing, treated as ${spec.treatMissingData})` : ''} [${points.map((d) => formatValue(d.value as number)).join(', ')}] ${count === 1 ? 'was' : 'were'} ${words} the threshold (${threshold}) (minimum ${m} datapoint${m === 1 ? '' : 's'} for ALARM)`;
  const retain = (why: string) => ({ state: previous, retained: true, reason: `${why}; missing data is ignored: the state stays ${previous}` });

  // Enough real datapoints: the most recent N of them decide, whatever the missing-data treatment.
  if (real.length >= n) {
    const recent = real.slice(-n);
    const count = recent.filter((d) => d.breaching).length;
    return count >= m ? { state: 'ALARM', retained: false, reason: `Threshold Crossed: ${crossed(recent, count, 0)}` } : { state: 'OK', retained: false, reason: `Threshold Crossed: ${crossed(recent, count, 0)}` };
  }
  const fill = n - real.length;
  switch (spec.treatMissingData) {
    case 'breaching': {
      const count = breachingReal + fill;
      return { state: count >= m ? 'ALARM' : 'OK', retained: false, reason: `Threshold Crossed: ${crossed(real, count, fill)}` };
    }
    case 'notBreaching':
      return { state: breachingReal >= m ? 'ALARM' : 'OK', retained: false, reason: `Threshold Crossed: ${crossed(real, breachingReal, fill)}` };
    case 'missing':
    case 'ignore': {
      if (real.length === 0) {
        if (spec.treatMissingData === 'ignore') return retain(`no datapoints in the last ${range.length} periods`);
        return { state: 'INSUFFICIENT_DATA', retained: false, reason: `Insufficient Data: no datapoints in the last ${range.length} periods` };
      }
      if (breachingReal >= m) return { state: 'ALARM', retained: false, reason: `Threshold Crossed: ${crossed(real, breachingReal, fill)}` };
      // "Avoiding premature transitions to alarm state": every real datapoint breaches and the
      // oldest is at least M periods old (so later ones are breaching or missing): ALARM.
      const oldest = range.findIndex((d) => d.value !== null);
      const age = range.length - 1 - oldest;
      if (breachingReal === real.length && age + 1 >= m) {
        if (spec.treatMissingData === 'ignore') return retain(`${breachingReal} breaching datapoint${breachingReal === 1 ? '' : 's'} and ${fill} missing`);
        return { state: 'ALARM', retained: false, reason: `Threshold Crossed: the oldest breaching datapoint is ${age + 1} periods old and none since is below the threshold: ${crossed(real, breachingReal, fill)}` };
      }
      if (breachingReal < real.length) return { state: 'OK', retained: false, reason: `Threshold Crossed: ${crossed(real, breachingReal, fill)}` };
      // Breaching, but too recent and too few to decide: wait for the next datapoints.
      if (spec.treatMissingData === 'ignore') return retain(`${breachingReal} recent breaching datapoint${breachingReal === 1 ? '' : 's'}, too few to decide`);
      return { state: 'INSUFFICIENT_DATA', retained: false, reason: `Insufficient Data: ${breachingReal} recent breaching datapoint${breachingReal === 1 ? '' : 's'} of the ${m} needed, the rest missing` };
    }
  }
}

/**
 * Evaluates an alarm against a metric source (the local metric store in drills): each metric's
 * series for the alarm's service, and each baseline computed as the stack's baseline function
 * computes it (the metric's mean over `window` centred `offset` before each period's start).
 *
 * @throws AlarmEvaluationError for a log-pattern alarm (log counts are not in the metric store: pass them to evaluateAlarm).
 */
export async function evaluateAlarmFromSource(spec: AlarmSpec, source: MetricSource, now: Date, options: AlarmEvaluationOptions = {}): Promise<AlarmEvaluation> {
  const range = (options.evaluationRange ?? spec.evaluationPeriods + 2) + lookback(spec);
  const starts = periodStarts(spec, now, range);
  const p = spec.period * 1000;
  const from = new Date((starts[0] as number) - 0);
  const series: Record<string, MetricPoint[]> = {};
  for (const metric of spec.metrics) {
    if (metric.logPattern) throw new AlarmEvaluationError(spec.name, 'log-pattern counts are not in the metric store; pass them to evaluateAlarm as m1');
    if (metric.baseline) {
      series[metric.id] = await baselineSeries(metric, spec.service, source, starts);
      continue;
    }
    // A repeated (slower) metric needs its latest value from before the range.
    const back = Math.max(0, metric.naturalPeriod * 1000 - p);
    series[metric.id] = await source.series({ name: metric.metric, service: spec.service, from: new Date(from.getTime() - back), to: now });
  }
  return evaluateAlarm(spec, series, now, options);
}

/**
 * What the baseline function publishes for each period start: the mean of the metric over
 * `window` centred `offset` earlier; no point where there was no data then.
 */
export async function baselineSeries(metric: AlarmMetric, service: string, source: MetricSource, starts: readonly number[]): Promise<MetricPoint[]> {
  const def = metric.baseline;
  if (!def || starts.length === 0) return [];
  const half = (def.windowSeconds * 1000) / 2;
  const offset = def.offsetSeconds * 1000;
  const points = await source.series({ name: metric.metric, service, from: new Date((starts[0] as number) - offset - half), to: new Date((starts[starts.length - 1] as number) - offset + half) });
  const out: MetricPoint[] = [];
  for (const start of starts) {
    const centre = start - offset;
    const inWindow = points.filter((pt) => pt.at.getTime() >= centre - half && pt.at.getTime() <= centre + half);
    if (inWindow.length > 0) out.push({ at: new Date(start), value: inWindow.reduce((s, pt) => s + pt.value, 0) / inWindow.length });
  }
  return out;
}
