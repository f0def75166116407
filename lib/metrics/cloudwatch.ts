/** The metric port in AWS: CloudWatch GetMetricData, with playbook metric names mapped through the metric catalogue. */
import type { CloudWatchClient, Dimension, GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { TransientTargetError } from '../actions/errors';
import { type MetricCatalogue, type MetricSpec } from '../playbook/catalogue';
import { MetricError, MissingDimensionError } from './errors';
import { type MetricPoint, type MetricQuery, type MetricSource, requireMetric } from './source';
import { toBaseUnits } from './units';

/** Options of {@link CloudWatchMetricSource}. */
export interface CloudWatchMetricSourceOptions {
  /** @default new CloudWatchClient({}) (region and credentials from the environment), created at the first read */
  readonly client?: Pick<CloudWatchClient, 'send'>;
  /** The metric catalogue (metrics.yaml, or its compiled copy in a Lambda: lib/runtime/bundled-config.ts). */
  readonly catalogue: MetricCatalogue;
  /**
   * Values of the catalogue's dimensions other than `service`, e.g.
   * `{ DBInstanceIdentifier: 'orders-db', ReplicationGroupId: 'redis-prod' }`. `service` comes from
   * the query, or from here when the query names none.
   * @default {}
   */
  readonly dimensionValues?: Readonly<Record<string, string>>;
  /** Pages of GetMetricData read for one query before giving up. @default 100 */
  readonly maxPages?: number;
}

/** Error names of throttling and server-side failures worth a retry (the SDK has already retried a few times). */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException',
  'RequestLimitExceeded', 'ServiceUnavailable', 'ServiceUnavailableException', 'InternalFailure', 'InternalServiceError',
  'InternalServiceFault', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
]);
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNREFUSED']);

const QUERY_ID = 'm0';

function isTransient(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; $fault?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return (
    (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) ||
    (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) ||
    e.$fault === 'server' ||
    (typeof e.$retryable === 'object' && e.$retryable !== null) ||
    (typeof status === 'number' && (status === 429 || status >= 500))
  );
}

/**
 * Reads catalogue metrics from CloudWatch with GetMetricData (MetricStat with the catalogue's
 * namespace, metric, stat, period and dimensions; timestamps ascending; every page), converted to
 * base units with the catalogue unit.
 *
 * @example
 * const metrics = new CloudWatchMetricSource({ catalogue: defaultCatalogue(), dimensionValues: { DBInstanceIdentifier: 'orders-db' } });
 * await metrics.series({ name: 'rds_connections', from, to });
 */
export class CloudWatchMetricSource implements MetricSource {
  private client: Pick<CloudWatchClient, 'send'> | undefined;
  private readonly catalogue: MetricCatalogue;
  private readonly dimensionValues: Readonly<Record<string, string>>;
  private readonly maxPages: number;

  public constructor(options: CloudWatchMetricSourceOptions) {
    this.client = options.client;
    this.catalogue = options.catalogue;
    this.dimensionValues = options.dimensionValues ?? {};
    this.maxPages = options.maxPages ?? 100;
  }

  /**
   * @throws UnknownMetricError for a name not in the catalogue.
   * @throws MissingDimensionError when a dimension of the metric has no value.
   * @throws TransientTargetError on throttling, 5xx and network failures (the state machine retries).
   * @throws MetricError on any other CloudWatch failure (access denied, invalid request...).
   */
  public async series(q: MetricQuery): Promise<MetricPoint[]> {
    const { name, spec } = requireMetric(q.name, this.catalogue);
    const target = `${spec.namespace}/${spec.metric}`;
    const request = {
      MetricDataQueries: [
        {
          Id: QUERY_ID,
          MetricStat: {
            Metric: { Namespace: spec.namespace, MetricName: spec.metric, Dimensions: this.dimensions(name, spec, q.service) },
            Period: spec.period,
            Stat: spec.stat,
          },
          ReturnData: true,
        },
      ],
      StartTime: q.from,
      EndTime: q.to,
      ScanBy: 'TimestampAscending' as const,
    };
    // The SDK package is loaded at the first read, not at cold start: most invocations read no metric.
    const { CloudWatchClient, GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    const client = (this.client ??= new CloudWatchClient({}));
    const points: MetricPoint[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      if (pages >= this.maxPages) {
        throw new MetricError(`GetMetricData for metric "${name}" (${target}) still had more data after ${this.maxPages} pages; narrow the time range`, { metric: name });
      }
      pages += 1;
      let out: GetMetricDataCommandOutput;
      try {
        out = await client.send(new GetMetricDataCommand(nextToken === undefined ? request : { ...request, NextToken: nextToken }));
      } catch (err) {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        if (isTransient(err)) throw new TransientTargetError(`GetMetricData for metric "${name}" (${target}) failed, retry later: ${reason}`, { target, cause: err });
        throw new MetricError(`GetMetricData for metric "${name}" (${target}) failed: ${reason}`, { metric: name, cause: err });
      }
      const result = out.MetricDataResults?.find((r) => r.Id === QUERY_ID);
      const detail = result?.Messages?.map((m) => `${m.Code ?? ''} ${m.Value ?? ''}`.trim()).join('; ') ?? '';
      if (result?.StatusCode === 'InternalError') {
        throw new TransientTargetError(`GetMetricData for metric "${name}" (${target}) reported an internal error, retry later${detail ? `: ${detail}` : ''}`, { target });
      }
      if (result?.StatusCode === 'Forbidden') {
        throw new MetricError(`GetMetricData for metric "${name}" (${target}) was forbidden; grant cloudwatch:GetMetricData${detail ? `: ${detail}` : ''}`, { metric: name });
      }
      const timestamps = result?.Timestamps ?? [];
      const values = result?.Values ?? [];
      timestamps.forEach((at, i) => {
        const value = values[i];
        if (value !== undefined && Number.isFinite(value)) points.push({ at: new Date(at), value: toBaseUnits(value, spec.unit) });
      });
      nextToken = out.NextToken;
    } while (nextToken);
    // Ascending per page already (ScanBy); sorted again so that pages can never interleave.
    return points.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  private dimensions(metric: string, spec: MetricSpec, service: string | undefined): Dimension[] {
    return (spec.dimensions ?? []).map((dim) => {
      const configured = Object.hasOwn(this.dimensionValues, dim) ? this.dimensionValues[dim] : undefined;
      const value = dim === 'service' ? (service ?? configured) : configured;
      if (value === undefined || value === '') {
        throw new MissingDimensionError(
          metric,
          dim,
          dim === 'service' ? 'query with a service (the incident service), or set dimensionValues.service' : `set dimensionValues["${dim}"] in the CloudWatch metric source configuration`,
        );
      }
      return { Name: dim, Value: value };
    });
  }
}
