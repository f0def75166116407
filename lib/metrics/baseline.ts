/**
 * The baselines the detection alarms compare with (`api_request_rate > baseline * 3`). CloudWatch
 * metric math cannot shift a series in time, so the stack's baseline function runs every minute and
 * publishes, for each baseline an alarm reads, the catalogue's baseline of its metric: the mean of
 * the metric's datapoints (its own statistic and period) over `window` centred `offset` before the
 * current period, as SreAgent/Baseline `<metric>` with the metric's dimensions. The runtime's
 * conditions (lib/metrics/evaluate.ts) and the local alarm evaluator compute the same mean.
 */
import type { CloudWatchClient, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { BASELINE_NAMESPACE, type AlarmSpec } from './detection';
import { MetricError } from './errors';
import type { BaselineTarget } from './baseline-target';

export { baselineTargetSchema, type BaselineTarget } from './baseline-target';

/** The distinct baselines a set of alarms reads (one per metric and dimensions). */
export function baselineTargets(alarms: readonly AlarmSpec[]): BaselineTarget[] {
  const out = new Map<string, BaselineTarget>();
  for (const alarm of alarms) {
    for (const b of alarm.metrics) {
      if (!b.baseline) continue;
      const source = alarm.metrics.find((m) => m.metric === b.metric && !m.baseline);
      if (!source) continue;
      const target: BaselineTarget = {
        metric: b.metric,
        namespace: source.namespace,
        metricName: source.metricName,
        dimensions: source.dimensions,
        stat: source.stat,
        period: source.naturalPeriod,
        unit: source.unit,
        offsetSeconds: b.baseline.offsetSeconds,
        windowSeconds: b.baseline.windowSeconds,
      };
      out.set(JSON.stringify([target.metric, target.dimensions]), target);
    }
  }
  return [...out.values()];
}

/** What one run published. */
export interface BaselineRun {
  readonly published: readonly { readonly metric: string; readonly dimensions: Readonly<Record<string, string>>; readonly value: number; readonly at: Date }[];
  /** Baselines without data in their window (nothing published: the alarm sees no data, never zero). */
  readonly missing: readonly string[];
}

/**
 * Reads each baseline's window with GetMetricData and publishes its mean for the current period.
 *
 * @throws MetricError when CloudWatch refuses a call (the scheduled run is retried by the next minute's).
 */
export async function publishBaselines(targets: readonly BaselineTarget[], client: Pick<CloudWatchClient, 'send'>, now: Date): Promise<BaselineRun> {
  // Loaded here, not at import: the stack (lib/infra/detection-alarms.ts) reads baselineTargets without the SDK.
  const { GetMetricDataCommand, PutMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
  const published: BaselineRun['published'][number][] = [];
  const missing: string[] = [];
  for (let i = 0; i < targets.length; i += 100) {
    const batch = targets.slice(i, i + 100);
    const values = new Map<string, number[]>();
    // One window per target; they differ only by period, so query each target with its own range.
    for (const [j, t] of batch.entries()) {
      const at = Math.floor(now.getTime() / (t.period * 1000)) * t.period * 1000;
      const centre = at - t.offsetSeconds * 1000;
      const half = (t.windowSeconds * 1000) / 2;
      let next: string | undefined;
      const id = `b${j}`;
      do {
        let out;
        try {
          out = await client.send(
            new GetMetricDataCommand({
              StartTime: new Date(centre - half),
              EndTime: new Date(centre + half),
              NextToken: next,
              MetricDataQueries: [{ Id: id, MetricStat: { Metric: { Namespace: t.namespace, MetricName: t.metricName, Dimensions: Object.entries(t.dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: t.period, Stat: t.stat }, ReturnData: true }],
            }),
          );
        } catch (err) {
          throw new MetricError(`baseline of ${t.metric}: GetMetricData failed: ${(err as Error).message}`, { metric: t.metric, cause: err });
        }
        for (const r of out.MetricDataResults ?? []) values.set(id, [...(values.get(id) ?? []), ...(r.Values ?? [])]);
        next = out.NextToken;
      } while (next);
      const v = values.get(id) ?? [];
      if (v.length === 0) missing.push(`${t.metric} ${JSON.stringify(t.dimensions)}`);
      else published.push({ metric: t.metric, dimensions: t.dimensions, value: v.reduce((a, b) => a + b, 0) / v.length, at: new Date(at) });
    }
  }
  const data: MetricDatum[] = published.map((p) => {
    const t = targets.find((x) => x.metric === p.metric && JSON.stringify(x.dimensions) === JSON.stringify(p.dimensions)) as BaselineTarget;
    return { MetricName: p.metric, Dimensions: Object.entries(p.dimensions).map(([Name, Value]) => ({ Name, Value })), Timestamp: p.at, Value: p.value, Unit: t.unit as StandardUnit };
  });
  for (let i = 0; i < data.length; i += 1000) {
    try {
      await client.send(new PutMetricDataCommand({ Namespace: BASELINE_NAMESPACE, MetricData: data.slice(i, i + 1000) }));
    } catch (err) {
      throw new MetricError(`baselines: PutMetricData to ${BASELINE_NAMESPACE} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return { published, missing };
}
