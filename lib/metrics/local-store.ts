/** The local metric store: the metric port in local mode, fed over the HTTP API, by the CLI and by drills; bounded, in memory, optionally saved as JSON. */
import * as z from '../yaml/zod';
import { type MetricCatalogue, type MetricSpec } from '../playbook/catalogue';
import { InvalidMetricDataError } from './errors';
import { type MetricPoint, type MetricQuery, type MetricSource, requireMetric } from './source';
import { isStandardUnit, toBaseUnits, unitKind } from './units';

/** Points kept per series (metric and service) unless configured otherwise. */
export const DEFAULT_MAX_POINTS_PER_SERIES = 10_000;

/** One value to store. */
export interface MetricInput {
  /** A catalogue metric name or alias. */
  readonly name: string;
  /** In `unit`. */
  readonly value: number;
  /** Only for metrics with a `service` dimension in the catalogue (refused for the others). */
  readonly service?: string;
  /** @default the store's clock (now) */
  readonly at?: Date | string | number;
  /** A CloudWatch standard unit of the same kind as the catalogue's (time, percent or other). @default the catalogue unit */
  readonly unit?: string;
}

/** One datum of CloudWatch PutMetricData, as the HTTP API and drills send it. Only `Value` is supported (not `Values` or `StatisticValues`). */
export interface MetricDatumInput {
  /** A catalogue metric name (`api_latency_p99`), not the CloudWatch metric name. */
  readonly MetricName: string;
  readonly Value?: number;
  readonly Unit?: string;
  readonly Timestamp?: Date | string | number;
  /** `service` sets the service; other dimensions are accepted and ignored (one series per metric and service). */
  readonly Dimensions?: readonly { readonly Name?: string; readonly Value?: string }[];
  readonly Values?: readonly number[];
  readonly StatisticValues?: unknown;
}

/** CloudWatch PutMetricData input. `Namespace`, when given, must be the catalogue namespace of every datum. */
export interface PutMetricDataInput {
  readonly Namespace?: string;
  readonly MetricData: readonly MetricDatumInput[];
}

/** Options of {@link LocalMetricStore}. */
export interface LocalMetricStoreOptions {
  /** The metric catalogue (playbooks/metrics.yaml: `defaultCatalogue()` of lib/playbook/catalogue-file). */
  readonly catalogue: MetricCatalogue;
  /** Oldest points are dropped beyond this many per series. @default 10,000 */
  readonly maxPointsPerSeries?: number;
  /** Time of a point put without a timestamp. @default () => new Date() */
  readonly clock?: () => Date;
  /**
   * A value put stays current: after a series' latest point, `series()` also reports that value
   * once per catalogue period and once at the query's end (or the clock's now, if earlier), as an
   * exporter keeps publishing a gauge that has not changed. For metrics put by hand (`npm start`, `sre-agent metric put`), where
   * "memory is at 92 %" means until told otherwise; a condition `after <step>` then sees it
   * after the step. Drills publish their own series and leave this off.
   * @default false (only the points put)
   */
  readonly holdLatest?: boolean;
}

/** At most this many held points per query (a query far past the latest point gets the newest ones). */
const MAX_HELD_POINTS = 1_000;

const seriesJsonSchema = z.strictObject({
  metric: z.string().check(z.minLength(1)),
  service: z.optional(z.string().check(z.minLength(1))),
  points: z.array(z.strictObject({ at: z.iso.datetime({ offset: true }), value: z.number() })),
});
const storeJsonSchema = z.strictObject({ version: z.literal(1), series: z.array(seriesJsonSchema) });

/** The store as JSON ({@link LocalMetricStore.toJSON}); values in base units. */
export type LocalMetricStoreJSON = z.infer<typeof storeJsonSchema>;

interface StoredPoint {
  readonly t: number;
  value: number;
}
interface Series {
  readonly metric: string;
  readonly service?: string;
  readonly points: StoredPoint[];
}
interface Normalised {
  readonly metric: string;
  readonly service?: string;
  readonly t: number;
  readonly value: number;
}

function seriesKey(metric: string, service: string | undefined): string {
  return service === undefined ? metric : `${metric}\u0000${service}`;
}

/** Index of the first point with time ≥ t. */
function lowerBound(points: readonly StoredPoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as StoredPoint).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function toTime(at: Date | string | number): number {
  return at instanceof Date ? at.getTime() : new Date(at).getTime();
}

/**
 * The latest point's value again every `periodMs` after it and once at `until` (the gauge read
 * now), within [from, until]; the newest MAX_HELD_POINTS.
 */
function held(latest: StoredPoint, periodMs: number, from: number, until: number): MetricPoint[] {
  if (until <= latest.t || until < from) return [];
  const last = Math.floor((until - latest.t) / periodMs);
  const first = Math.max(1, Math.ceil((from - latest.t) / periodMs), last - MAX_HELD_POINTS + 2);
  const out: MetricPoint[] = [];
  for (let k = first; k <= last; k += 1) out.push({ at: new Date(latest.t + k * periodMs), value: latest.value });
  if (out.at(-1)?.at.getTime() !== until) out.push({ at: new Date(until), value: latest.value });
  return out;
}

/**
 * In-memory metric store. A series is one metric, or one metric and service when the catalogue
 * gives the metric a `service` dimension (as CloudWatch would). A second value at the same
 * timestamp replaces the first.
 *
 * @example
 * const store = new LocalMetricStore({ catalogue: defaultCatalogue() });
 * store.putMetricData({ MetricData: [{ MetricName: 'api_latency_p99', Value: 250, Unit: 'Milliseconds', Dimensions: [{ Name: 'service', Value: 'trading-api' }] }] });
 * await store.series({ name: 'latency_p99', service: 'trading-api', from, to }); // [{ at, value: 0.25 }]
 */
export class LocalMetricStore implements MetricSource {
  private readonly catalogue: MetricCatalogue;
  private readonly maxPoints: number;
  private readonly clock: () => Date;
  private readonly holdLatest: boolean;
  private readonly data = new Map<string, Series>();

  public constructor(options: LocalMetricStoreOptions) {
    this.holdLatest = options.holdLatest ?? false;
    this.catalogue = options.catalogue;
    this.maxPoints = options.maxPointsPerSeries ?? DEFAULT_MAX_POINTS_PER_SERIES;
    if (!Number.isInteger(this.maxPoints) || this.maxPoints < 1) {
      throw new RangeError(`maxPointsPerSeries must be a positive integer, got ${this.maxPoints}`);
    }
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Restores a store saved with {@link toJSON}. Values are taken as base units.
   *
   * @throws InvalidMetricDataError when the JSON is malformed or names a metric not in the catalogue.
   */
  public static fromJSON(json: unknown, options: LocalMetricStoreOptions): LocalMetricStore {
    const parsed = storeJsonSchema.safeParse(json);
    if (!parsed.success) {
      throw new InvalidMetricDataError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    }
    const store = new LocalMetricStore(options);
    const batch: Normalised[] = [];
    const problems: string[] = [];
    parsed.data.series.forEach((s, i) => {
      const spec = store.catalogue.metrics[s.metric];
      if (!Object.hasOwn(store.catalogue.metrics, s.metric) || spec === undefined) {
        problems.push(`series[${i}]: unknown metric "${s.metric}" (not in the metric catalogue)`);
        return;
      }
      const service = store.serviceFor(spec, s.service);
      for (const p of s.points) batch.push({ metric: s.metric, service, t: Date.parse(p.at), value: p.value });
    });
    if (problems.length > 0) throw new InvalidMetricDataError(problems);
    store.store(batch);
    return store;
  }

  /**
   * Stores one value or a batch, converted to base units. The whole batch is checked first:
   * on any problem nothing is stored.
   *
   * @throws InvalidMetricDataError naming each bad datum (unknown metric, non-finite value, unknown or mismatched unit, bad timestamp).
   */
  public put(input: MetricInput | readonly MetricInput[]): void {
    const inputs: readonly MetricInput[] = Array.isArray(input) ? input : [input as MetricInput];
    const batch: Normalised[] = [];
    const problems: string[] = [];
    inputs.forEach((m, i) => {
      const where = inputs.length === 1 ? '' : `[${i}] `;
      const n = this.normalise(m.name, m.value, m.unit, m.at, m.service, (p) => problems.push(`${where}${p}`));
      if (n) batch.push(n);
    });
    if (problems.length > 0) throw new InvalidMetricDataError(problems);
    this.store(batch);
  }

  /**
   * Stores a CloudWatch PutMetricData batch; `MetricName` is a catalogue metric name. The whole
   * batch is checked first: on any problem nothing is stored.
   *
   * @throws InvalidMetricDataError naming each bad datum.
   */
  public putMetricData(input: PutMetricDataInput): void {
    const data = (input as { MetricData?: unknown } | undefined)?.MetricData;
    if (!Array.isArray(data)) throw new InvalidMetricDataError(['MetricData: expected a list of metric data']);
    const batch: Normalised[] = [];
    const problems: string[] = [];
    (data as readonly MetricDatumInput[]).forEach((d, i) => {
      const report = (p: string): void => {
        problems.push(`MetricData[${i}]: ${p}`);
      };
      if (d.Values !== undefined || d.StatisticValues !== undefined) {
        report(`metric "${d.MetricName}": only Value is supported, not Values or StatisticValues; send one datum per value`);
        return;
      }
      const service = d.Dimensions?.find((dim) => dim.Name === 'service')?.Value;
      const n = this.normalise(d.MetricName, d.Value, d.Unit, d.Timestamp, service, report);
      if (!n) return;
      const namespace = (this.catalogue.metrics[n.metric] as MetricSpec).namespace;
      if (input.Namespace !== undefined && input.Namespace !== namespace) {
        report(`metric "${d.MetricName}" is in namespace ${namespace}, not ${input.Namespace}`);
        return;
      }
      batch.push(n);
    });
    if (problems.length > 0) throw new InvalidMetricDataError(problems);
    this.store(batch);
  }

  /** The points of `[from, to]`, ascending. @throws UnknownMetricError for a name not in the catalogue. */
  public async series(q: MetricQuery): Promise<MetricPoint[]> {
    const { name, spec } = requireMetric(q.name, this.catalogue);
    const points = this.data.get(seriesKey(name, this.serviceFor(spec, q.service)))?.points ?? [];
    const from = q.from.getTime();
    const to = q.to.getTime();
    const out: MetricPoint[] = [];
    for (let i = lowerBound(points, from); i < points.length; i += 1) {
      const p = points[i] as StoredPoint;
      if (p.t > to) break;
      out.push({ at: new Date(p.t), value: p.value });
    }
    const latest = points[points.length - 1];
    if (this.holdLatest && latest !== undefined) out.push(...held(latest, spec.period * 1000, from, Math.min(to, this.clock().getTime())));
    return out;
  }

  /** Everything stored, values in base units; `JSON.stringify(store)` uses it. */
  public toJSON(): LocalMetricStoreJSON {
    return {
      version: 1,
      series: [...this.data.values()].map((s) => ({
        metric: s.metric,
        ...(s.service === undefined ? {} : { service: s.service }),
        points: s.points.map((p) => ({ at: new Date(p.t).toISOString(), value: p.value })),
      })),
    };
  }

  private serviceFor(spec: MetricSpec, service: string | undefined): string | undefined {
    return spec.dimensions?.includes('service') ? service : undefined;
  }

  private normalise(
    name: unknown,
    value: unknown,
    unit: unknown,
    at: unknown,
    service: unknown,
    report: (problem: string) => void,
  ): Normalised | undefined {
    if (typeof name !== 'string' || name === '') {
      report('a metric name is required');
      return undefined;
    }
    let metric: { readonly name: string; readonly spec: MetricSpec };
    try {
      metric = requireMetric(name, this.catalogue);
    } catch {
      report(`unknown metric "${name}" (not a metric or alias in the metric catalogue, playbooks/metrics.yaml)`);
      return undefined;
    }
    const { spec } = metric;
    let ok = true;
    const fail = (problem: string): void => {
      ok = false;
      report(`metric "${name}": ${problem}`);
    };
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(`value must be a finite number, got ${JSON.stringify(value) ?? String(value)}`);
    const givenUnit = unit ?? spec.unit;
    if (typeof givenUnit !== 'string' || !isStandardUnit(givenUnit)) {
      fail(`unknown unit ${JSON.stringify(givenUnit)}; use a CloudWatch unit such as ${spec.unit}`);
    } else if (unitKind(givenUnit) !== unitKind(spec.unit)) {
      fail(`unit ${givenUnit} does not fit the catalogue unit ${spec.unit}`);
    }
    const t = at === undefined ? this.clock().getTime() : at instanceof Date || typeof at === 'string' || typeof at === 'number' ? toTime(at) : NaN;
    if (!Number.isFinite(t)) fail(`invalid timestamp ${JSON.stringify(at) ?? String(at)}`);
    if (service !== undefined && (typeof service !== 'string' || service === '')) fail('service must be a non-empty string');
    else if (service !== undefined && !spec.dimensions?.includes('service')) {
      // Said, not dropped: a value put "for redis-cache" would otherwise count for every service.
      fail(`is measured per ${(spec.dimensions ?? []).join(' and ') || 'nothing'} (playbooks/metrics.yaml), not per service: the local store keeps one series of it, so leave out the service`);
    }
    if (!ok) return undefined;
    return {
      metric: metric.name,
      service: this.serviceFor(spec, service as string | undefined),
      t,
      value: toBaseUnits(value as number, givenUnit as string),
    };
  }

  private store(batch: readonly Normalised[]): void {
    for (const n of batch) {
      const key = seriesKey(n.metric, n.service);
      let series = this.data.get(key);
      if (!series) {
        series = { metric: n.metric, ...(n.service === undefined ? {} : { service: n.service }), points: [] };
        this.data.set(key, series);
      }
      const { points } = series;
      const last = points[points.length - 1];
      if (last === undefined || last.t < n.t) {
        points.push({ t: n.t, value: n.value });
      } else {
        const i = lowerBound(points, n.t);
        const existing = points[i];
        if (existing !== undefined && existing.t === n.t) existing.value = n.value;
        else points.splice(i, 0, { t: n.t, value: n.value });
      }
      if (points.length > this.maxPoints) points.splice(0, points.length - this.maxPoints);
    }
  }
}
