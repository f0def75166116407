/** The metric port: conditions and templates read metrics through one interface, CloudWatch in AWS and the local store in local mode. */
import type { MetricCatalogue, MetricSpec } from '../playbook/catalogue';
import { UnknownMetricError } from './errors';

/** One datapoint. `value` is in base units: time in seconds, percentages as ratios. */
export interface MetricPoint {
  readonly at: Date;
  readonly value: number;
}

/** A time range of one metric, optionally for one service. */
export interface MetricQuery {
  /** A catalogue metric name or alias (`api_latency_p99`, `latency_p99`). */
  readonly name: string;
  /** Used only by metrics with a `service` dimension in the catalogue; ignored by the others. */
  readonly service?: string;
  /** Inclusive. */
  readonly from: Date;
  /** Inclusive. */
  readonly to: Date;
}

/** Where metric values come from. */
export interface MetricSource {
  /**
   * The datapoints of one metric in `[from, to]`, ascending by time; `[]` when there is no data
   * (which conditions treat as unknown, never as zero).
   *
   * @throws UnknownMetricError when the name is not in the catalogue.
   */
  series(q: MetricQuery): Promise<MetricPoint[]>;
}

function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The catalogue metric a name stands for: a metric name is itself; otherwise the playbook's
 * `variables:` (`aliases`) win over the catalogue's aliases. Undefined when the name is not a metric.
 *
 * @example resolveMetricName('latency_p99', defaultCatalogue()) // 'api_latency_p99'
 */
export function resolveMetricName(name: string, catalogue: MetricCatalogue, aliases?: Readonly<Record<string, string>>): string | undefined {
  if (own(catalogue.metrics, name) !== undefined) return name;
  const target = own(aliases, name) ?? own(catalogue.aliases, name);
  return target !== undefined && own(catalogue.metrics, target) !== undefined ? target : undefined;
}

/**
 * The metric name and catalogue entry for a name or alias.
 *
 * @throws UnknownMetricError when the name is not a metric.
 */
export function requireMetric(name: string, catalogue: MetricCatalogue): { readonly name: string; readonly spec: MetricSpec } {
  const metric = resolveMetricName(name, catalogue);
  const spec = metric === undefined ? undefined : own(catalogue.metrics, metric);
  if (metric === undefined || spec === undefined) throw new UnknownMetricError(name);
  return { name: metric, spec };
}
