/** Unit tests of the CloudWatch metric source against a mocked CloudWatch client (aws-sdk-client-mock); no network. */
import { CloudWatchClient, CloudWatchServiceException, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { TransientTargetError } from '../../../lib/actions/errors';
import { CloudWatchMetricSource, MetricError, MissingDimensionError, UnknownMetricError } from '../../../lib/metrics';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);

const cloudwatch = mockClient(CloudWatchClient);

function serviceError(name: string, status: number, fault: 'client' | 'server'): CloudWatchServiceException {
  return new CloudWatchServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status }, message: `${name} from CloudWatch` });
}

function source(): CloudWatchMetricSource {
  return new CloudWatchMetricSource({
    catalogue: defaultCatalogue(),
    client: new CloudWatchClient({ region: 'eu-west-1' }),
    dimensionValues: { DBInstanceIdentifier: 'orders-db', ReplicationGroupId: 'redis-prod' },
  });
}

describe('Class CloudWatchMetricSource', () => {
  beforeEach(() => {
    cloudwatch.reset();
  });

  describe('Method: series', () => {
    it('sends GetMetricData with the catalogue namespace, metric, service dimension, stat, period and times', async () => {
      // prepare
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete', Timestamps: [], Values: [] }] });

      // act
      await source().series({ name: 'latency_p99', service: 'trading-api', from: ago(300), to: NOW });

      // assess
      const calls = cloudwatch.commandCalls(GetMetricDataCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toStrictEqual({
        MetricDataQueries: [
          {
            Id: 'm0',
            MetricStat: {
              Metric: { Namespace: 'Exchange/TradingAPI', MetricName: 'Latency', Dimensions: [{ Name: 'service', Value: 'trading-api' }] },
              Period: 60,
              Stat: 'p99',
            },
            ReturnData: true,
          },
        ],
        StartTime: ago(300),
        EndTime: NOW,
        ScanBy: 'TimestampAscending',
      });
    });

    it('takes other dimensions from dimensionValues (DBInstanceIdentifier → orders-db)', async () => {
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete', Timestamps: [ago(60)], Values: [950] }] });

      const points = await source().series({ name: 'connections', service: 'order-service', from: ago(600), to: NOW });

      const input = cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input;
      expect(input?.MetricDataQueries?.[0]?.MetricStat).toStrictEqual({
        Metric: { Namespace: 'AWS/RDS', MetricName: 'DatabaseConnections', Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }] },
        Period: 60,
        Stat: 'Maximum',
      });
      expect(points).toEqual([{ at: ago(60), value: 950 }]);
    });

    it('sends no dimensions for a metric the catalogue gives none', async () => {
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete' }] });

      await source().series({ name: 'matching_engine_latency_p99', service: 'matching-engine', from: ago(300), to: NOW });

      expect(cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0]?.MetricStat?.Metric).toStrictEqual({
        Namespace: 'Exchange/MatchingEngine',
        MetricName: 'MatchLatency',
        Dimensions: [],
      });
    });

    it('follows NextToken across pages and returns every point ascending', async () => {
      // prepare
      cloudwatch
        .on(GetMetricDataCommand)
        .resolvesOnce({ MetricDataResults: [{ Id: 'm0', StatusCode: 'PartialData', Timestamps: [ago(180), ago(120)], Values: [100, 200] }], NextToken: 'page-2' })
        .resolvesOnce({ MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete', Timestamps: [ago(60), ago(0)], Values: [300, 400] }] });

      // act
      const points = await source().series({ name: 'matching_engine_queue_depth', from: ago(300), to: NOW });

      // assess
      const calls = cloudwatch.commandCalls(GetMetricDataCommand);
      expect(calls).toHaveLength(2);
      expect(calls[0]?.args[0].input.NextToken).toBeUndefined();
      expect(calls[1]?.args[0].input.NextToken).toBe('page-2');
      expect(calls[1]?.args[0].input.MetricDataQueries).toStrictEqual(calls[0]?.args[0].input.MetricDataQueries);
      expect(points).toEqual([
        { at: ago(180), value: 100 },
        { at: ago(120), value: 200 },
        { at: ago(60), value: 300 },
        { at: NOW, value: 400 },
      ]);
    });

    it.each([
      ['api_latency_p99', [250, 200], [0.25, 0.2]],
      ['redis_memory_usage', [91, 85], [0.91, 0.85]],
      ['redis_command_latency', [1500], [0.0015]],
      ['rds_query_latency', [0.02], [0.02]],
      ['api_request_rate', [12000], [12000]],
    ])('converts %s from its catalogue unit to base units', async (name, raw, base) => {
      cloudwatch.on(GetMetricDataCommand).resolves({
        MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete', Timestamps: raw.map((_, i) => ago(60 * (raw.length - i))), Values: raw }],
      });

      const points = await source().series({ name, service: 'trading-api', from: ago(600), to: NOW });

      points.forEach((p, i) => expect(p.value).toBeCloseTo(base[i] as number, 12));
      expect(points).toHaveLength(base.length);
    });

    it.each([
      ['Throttling', 400, 'client'],
      ['ThrottlingException', 400, 'client'],
      ['TooManyRequestsException', 429, 'client'],
      ['InternalFailure', 500, 'server'],
      ['ServiceUnavailable', 503, 'server'],
    ] as const)('throws TransientTargetError on %s (%d)', async (name, status, fault) => {
      // prepare
      cloudwatch.on(GetMetricDataCommand).rejects(serviceError(name, status, fault));

      // act
      const read = source().series({ name: 'api_latency_p99', service: 'trading-api', from: ago(300), to: NOW });

      // assess
      await expect(read).rejects.toBeInstanceOf(TransientTargetError);
      await expect(read).rejects.toMatchObject({ name: 'TransientTargetError', target: 'Exchange/TradingAPI/Latency' });
      await expect(read).rejects.toThrow(`GetMetricData for metric "api_latency_p99" (Exchange/TradingAPI/Latency) failed, retry later: ${name}: ${name} from CloudWatch`);
    });

    it('throws TransientTargetError when a result reports InternalError', async () => {
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'InternalError', Messages: [{ Code: 'InternalError', Value: 'try again' }] }] });

      await expect(source().series({ name: 'matching_engine_queue_depth', from: ago(300), to: NOW })).rejects.toMatchObject({ name: 'TransientTargetError' });
    });

    it('throws MetricError, not a transient error, when access is denied', async () => {
      cloudwatch.on(GetMetricDataCommand).rejects(serviceError('AccessDeniedException', 403, 'client'));

      const read = source().series({ name: 'matching_engine_queue_depth', from: ago(300), to: NOW });

      await expect(read).rejects.toMatchObject({ name: 'MetricError', metric: 'matching_engine_queue_depth' });
      await expect(read).rejects.not.toBeInstanceOf(TransientTargetError);
    });

    it('throws MissingDimensionError, and calls nothing, when a dimension value is not configured', async () => {
      const bare = new CloudWatchMetricSource({ catalogue: defaultCatalogue(), client: new CloudWatchClient({ region: 'eu-west-1' }) });

      const read = bare.series({ name: 'rds_connections', from: ago(300), to: NOW });

      await expect(read).rejects.toBeInstanceOf(MissingDimensionError);
      await expect(read).rejects.toThrow('metric "rds_connections" needs a value for the CloudWatch dimension "DBInstanceIdentifier": set dimensionValues["DBInstanceIdentifier"]');
      expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    });

    it('throws MissingDimensionError for a service metric queried without a service', async () => {
      await expect(source().series({ name: 'api_latency_p99', from: ago(300), to: NOW })).rejects.toThrow(MissingDimensionError);
    });

    it('throws UnknownMetricError for a name not in the catalogue', async () => {
      await expect(source().series({ name: 'baseline', from: ago(300), to: NOW })).rejects.toThrow(UnknownMetricError);
      expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
    });

    it('stops after maxPages pages instead of looping on NextToken', async () => {
      cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'm0', StatusCode: 'PartialData' }], NextToken: 'again' });
      const limited = new CloudWatchMetricSource({ catalogue: defaultCatalogue(), client: new CloudWatchClient({ region: 'eu-west-1' }), maxPages: 3 });

      await expect(limited.series({ name: 'matching_engine_queue_depth', from: ago(300), to: NOW })).rejects.toThrow(MetricError);
      expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(3);
    });
  });
});
