/** Unit tests of the local metric store: ordering, base units, PutMetricData input, all-or-nothing batches, retention, JSON. */
import { InvalidMetricDataError, LocalMetricStore, UnknownMetricError } from '../../../lib/metrics';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const HOUR = { from: ago(3600), to: NOW };

describe('Class LocalMetricStore', () => {
  let store: LocalMetricStore;
  beforeEach(() => {
    store = new LocalMetricStore({ catalogue: defaultCatalogue(), clock: () => NOW });
  });

  describe('Method: put', () => {
    it('returns the points ascending by time, whatever order they were put in', async () => {
      // prepare
      store.put([
        { name: 'matching_engine_queue_depth', value: 300, at: ago(60) },
        { name: 'matching_engine_queue_depth', value: 100, at: ago(180) },
        { name: 'matching_engine_queue_depth', value: 200, at: ago(120) },
      ]);
      store.put({ name: 'matching_engine_queue_depth', value: 400 });

      // act
      const points = await store.series({ name: 'matching_engine_queue_depth', ...HOUR });

      // assess
      expect(points).toEqual([
        { at: ago(180), value: 100 },
        { at: ago(120), value: 200 },
        { at: ago(60), value: 300 },
        { at: NOW, value: 400 },
      ]);
    });

    it('returns only the points within [from, to], both ends included', async () => {
      store.put([0, 60, 120, 180, 240].map((s) => ({ name: 'matching_engine_queue_depth', value: s, at: ago(s) })));

      const points = await store.series({ name: 'matching_engine_queue_depth', from: ago(180), to: ago(60) });

      expect(points.map((p) => p.value)).toEqual([180, 120, 60]);
    });

    it.each([
      ['api_latency_p99', 250, undefined, 0.25],
      ['api_latency_p99', 0.3, 'Seconds', 0.3],
      ['api_latency_p99', 300_000, 'Microseconds', 0.3],
      ['redis_memory_usage', 87, undefined, 0.87],
      ['redis_command_latency', 1500, undefined, 0.0015],
      ['rds_query_latency', 0.02, undefined, 0.02],
      ['api_request_rate', 12_000, undefined, 12_000],
      ['websocket_connections', 5000, 'Count', 5000],
    ])('stores %s %d %s as %d in base units', async (name, value, unit, stored) => {
      store.put({ name, value, unit, ...(name.startsWith('api_') || name === 'websocket_connections' ? { service: 'trading-api' } : {}), at: ago(30) });

      const [point] = await store.series({ name, service: 'trading-api', ...HOUR });

      expect(point?.value).toBeCloseTo(stored, 12);
    });

    it('stores 200 Milliseconds as exactly the 0.2 that `200ms` parses to', async () => {
      store.put({ name: 'api_latency_p99', value: 200, service: 'trading-api', at: ago(30) });

      const [point] = await store.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR });

      expect(point?.value).toBe(0.2);
    });

    it('accepts catalogue aliases', async () => {
      store.put({ name: 'latency_p99', value: 250, service: 'trading-api', at: ago(30) });

      expect(await store.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR })).toEqual([{ at: ago(30), value: 0.25 }]);
    });

    it('keeps one series per service for metrics with a service dimension', async () => {
      store.put({ name: 'api_latency_p99', value: 250, service: 'trading-api', at: ago(30) });
      store.put({ name: 'api_latency_p99', value: 90, service: 'market-data', at: ago(30) });

      expect(await store.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR })).toEqual([{ at: ago(30), value: 0.25 }]);
      expect(await store.series({ name: 'api_latency_p99', service: 'market-data', ...HOUR })).toEqual([{ at: ago(30), value: 0.09 }]);
      expect(await store.series({ name: 'api_latency_p99', ...HOUR })).toEqual([]);
    });

    it('keeps one series of a metric without a service dimension, which every service reads', async () => {
      store.put({ name: 'matching_engine_latency_p99', value: 120, at: ago(30) });

      expect(await store.series({ name: 'matching_engine_latency_p99', ...HOUR })).toEqual([{ at: ago(30), value: 0.12 }]);
      expect(await store.series({ name: 'matching_engine_latency_p99', service: 'matching-engine', ...HOUR })).toEqual([{ at: ago(30), value: 0.12 }]);
    });

    it('refuses a service for a metric measured per something else, naming its dimensions, and stores nothing of the batch', async () => {
      // act
      const put = () => store.put([{ name: 'api_latency_p99', value: 200, service: 'trading-api', at: ago(30) }, { name: 'redis_memory_usage', value: 92, service: 'redis-cache', at: ago(30) }]);
      // assess
      expect(put).toThrow('metric "redis_memory_usage": is measured per ReplicationGroupId (playbooks/metrics.yaml), not per service: the local store keeps one series of it, so leave out the service');
      expect(await store.series({ name: 'redis_memory_usage', ...HOUR })).toEqual([]);
      expect(await store.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR })).toEqual([]);
    });

    it('replaces the value of a point put again at the same timestamp', async () => {
      store.put({ name: 'matching_engine_queue_depth', value: 1, at: ago(60) });
      store.put({ name: 'matching_engine_queue_depth', value: 2, at: ago(60) });

      expect(await store.series({ name: 'matching_engine_queue_depth', ...HOUR })).toEqual([{ at: ago(60), value: 2 }]);
    });

    it.each([
      [{ name: 'matching_engine_queue_depth', value: Number.NaN }, 'value must be a finite number'],
      [{ name: 'matching_engine_queue_depth', value: '5' as unknown as number }, 'value must be a finite number, got "5"'],
      [{ name: 'api_latency_p99', value: 200, unit: 'ms' }, 'unknown unit "ms"; use a CloudWatch unit such as Milliseconds'],
      [{ name: 'api_latency_p99', value: 20, unit: 'Percent' }, 'unit Percent does not fit the catalogue unit Milliseconds'],
      [{ name: 'redis_memory_usage', value: 0.9, unit: 'Count' }, 'unit Count does not fit the catalogue unit Percent'],
      [{ name: 'matching_engine_queue_depth', value: 1, at: 'yesterday' }, 'invalid timestamp "yesterday"'],
    ])('rejects %j: %s', (input, message) => {
      expect(() => store.put(input)).toThrow(message);
    });
  });

  describe('Method: putMetricData', () => {
    it('stores a PutMetricData batch with its units, timestamps and service dimension', async () => {
      // prepare
      const input = {
        Namespace: 'Exchange/TradingAPI',
        MetricData: [
          { MetricName: 'api_latency_p99', Value: 250, Unit: 'Milliseconds', Timestamp: ago(60), Dimensions: [{ Name: 'service', Value: 'trading-api' }] },
          { MetricName: 'api_latency_p99', Value: 0.31, Unit: 'Seconds', Timestamp: ago(0).toISOString(), Dimensions: [{ Name: 'service', Value: 'trading-api' }] },
          { MetricName: 'api_error_rate', Value: 2.5, Unit: 'Percent', Timestamp: ago(0).getTime(), Dimensions: [{ Name: 'service', Value: 'trading-api' }] },
        ],
      };

      // act
      store.putMetricData(input);

      // assess
      expect(await store.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR })).toEqual([
        { at: ago(60), value: 0.25 },
        { at: NOW, value: 0.31 },
      ]);
      expect(await store.series({ name: 'api_error_rate', service: 'trading-api', ...HOUR })).toEqual([{ at: NOW, value: 0.025 }]);
    });

    it('uses the catalogue unit and the clock when Unit and Timestamp are absent, and ignores dimensions other than service', async () => {
      store.putMetricData({ MetricData: [{ MetricName: 'rds_connections', Value: 950, Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }] }] });

      expect(await store.series({ name: 'rds_connections', ...HOUR })).toEqual([{ at: NOW, value: 950 }]);
    });

    it('rejects a batch with an unknown metric name, names it, and stores nothing from that batch', async () => {
      // prepare
      const input = {
        MetricData: [
          { MetricName: 'redis_memory_usage', Value: 91, Unit: 'Percent', Timestamp: ago(60) },
          { MetricName: 'redis_memry_usage', Value: 92, Unit: 'Percent', Timestamp: ago(0) },
        ],
      };

      // act
      const act = (): void => store.putMetricData(input);

      // assess
      expect(act).toThrow(InvalidMetricDataError);
      expect(act).toThrow('MetricData[1]: unknown metric "redis_memry_usage"');
      expect(await store.series({ name: 'redis_memory_usage', ...HOUR })).toEqual([]);
    });

    it('lists every bad datum of the batch in one error', () => {
      const input = {
        MetricData: [
          { MetricName: 'nope', Value: 1 },
          { MetricName: 'api_latency_p99', Value: 1, Unit: 'Percent' },
        ],
      };

      let error: unknown;
      try {
        store.putMetricData(input);
      } catch (e) {
        error = e;
      }

      expect(error).toBeInstanceOf(InvalidMetricDataError);
      expect((error as InvalidMetricDataError).name).toBe('InvalidMetricDataError');
      expect((error as InvalidMetricDataError).problems).toEqual([
        'MetricData[0]: unknown metric "nope" (not a metric or alias in the metric catalogue, playbooks/metrics.yaml)',
        'MetricData[1]: metric "api_latency_p99": unit Percent does not fit the catalogue unit Milliseconds',
      ]);
    });

    it('rejects a datum whose metric lives in another namespace than the batch names', async () => {
      const act = (): void => store.putMetricData({ Namespace: 'AWS/RDS', MetricData: [{ MetricName: 'redis_memory_usage', Value: 91 }] });

      expect(act).toThrow('metric "redis_memory_usage" is in namespace AWS/ElastiCache, not AWS/RDS');
      expect(await store.series({ name: 'redis_memory_usage', ...HOUR })).toEqual([]);
    });

    it('rejects Values and StatisticValues rather than guessing an aggregate', () => {
      expect(() => store.putMetricData({ MetricData: [{ MetricName: 'redis_evicted_keys', Values: [1, 2] }] })).toThrow('only Value is supported');
    });

    it('rejects input without a MetricData list', () => {
      expect(() => store.putMetricData({} as never)).toThrow('MetricData: expected a list of metric data');
    });
  });

  describe('Method: series', () => {
    it('throws UnknownMetricError naming a name that is not in the catalogue', async () => {
      await expect(store.series({ name: 'latency_p95', ...HOUR })).rejects.toThrow(UnknownMetricError);
      await expect(store.series({ name: 'latency_p95', ...HOUR })).rejects.toThrow('unknown metric "latency_p95"');
    });

    it('returns [] for a metric without data', async () => {
      expect(await store.series({ name: 'pod_oom_killed', service: 'trading-api', ...HOUR })).toEqual([]);
    });
  });

  describe('Option: holdLatest (metrics put by hand stay current)', () => {
    const at = (p: { at: Date; value: number }) => [p.at.toISOString(), p.value];

    it('reports the latest value once a period after it and once at the clock\'s now, never past now', async () => {
      const held = new LocalMetricStore({ catalogue: defaultCatalogue(), clock: () => NOW, holdLatest: true });
      held.put([{ name: 'redis_memory_usage', value: 92, at: ago(150) }]);

      const points = await held.series({ name: 'redis_memory_usage', from: ago(3600), to: new Date(NOW.getTime() + 3600_000) });

      expect(points.map(at)).toEqual([
        [ago(150).toISOString(), 0.92],
        [ago(90).toISOString(), 0.92],
        [ago(30).toISOString(), 0.92],
        [NOW.toISOString(), 0.92],
      ]);
    });

    it('takes the newest value put, and reports only what lies in the window', async () => {
      const held = new LocalMetricStore({ catalogue: defaultCatalogue(), clock: () => NOW, holdLatest: true });
      held.put([{ name: 'redis_memory_usage', value: 92, at: ago(600) }, { name: 'redis_memory_usage', value: 40, at: ago(100) }]);

      expect((await held.series({ name: 'redis_memory_usage', from: ago(50), to: NOW })).map(at)).toEqual([
        [ago(40).toISOString(), 0.4],
        [NOW.toISOString(), 0.4],
      ]);
      expect(await held.series({ name: 'redis_memory_usage', from: ago(3600), to: ago(700) })).toEqual([]);
    });

    it('is off by default: only the points put (a drill world publishes its own)', async () => {
      store.put([{ name: 'redis_memory_usage', value: 92, at: ago(150) }]);

      expect((await store.series({ name: 'redis_memory_usage', ...HOUR })).map(at)).toEqual([[ago(150).toISOString(), 0.92]]);
    });

    it('caps what one query far past the latest point returns to the newest 1,000 points', async () => {
      const held = new LocalMetricStore({ catalogue: defaultCatalogue(), clock: () => NOW, holdLatest: true });
      held.put([{ name: 'redis_memory_usage', value: 92, at: ago(30 * 86400) }]);

      const points = await held.series({ name: 'redis_memory_usage', from: ago(31 * 86400), to: NOW });

      expect(points).toHaveLength(1_000);
      expect(points.at(-1)?.at).toEqual(NOW);
    });
  });

  describe('Retention', () => {
    it('keeps only the newest maxPointsPerSeries points of a series', async () => {
      // prepare
      const small = new LocalMetricStore({ catalogue: defaultCatalogue(), maxPointsPerSeries: 3, clock: () => NOW });

      // act
      for (let i = 5; i >= 1; i -= 1) small.put({ name: 'matching_engine_queue_depth', value: i, at: ago(i * 60) });
      small.put({ name: 'matching_engine_queue_depth', value: 99, at: ago(3600) }); // older than all kept points

      // assess
      expect((await small.series({ name: 'matching_engine_queue_depth', ...HOUR })).map((p) => p.value)).toEqual([3, 2, 1]);
    });

    it('keeps 10,000 points per series by default', async () => {
      const points = Array.from({ length: 10_050 }, (_, i) => ({ name: 'matching_engine_queue_depth', value: i, at: new Date(NOW.getTime() - (10_050 - i) * 1000) }));

      store.put(points);

      const kept = await store.series({ name: 'matching_engine_queue_depth', from: new Date(0), to: NOW });
      expect(kept).toHaveLength(10_000);
      expect(kept[0]?.value).toBe(50);
    });

    it('rejects a retention that is not a positive integer', () => {
      expect(() => new LocalMetricStore({ catalogue: defaultCatalogue(), maxPointsPerSeries: 0 })).toThrow('maxPointsPerSeries must be a positive integer, got 0');
    });
  });

  describe('JSON persistence', () => {
    it('round-trips through toJSON and fromJSON, values in base units', async () => {
      // prepare
      store.put({ name: 'api_latency_p99', value: 250, service: 'trading-api', at: ago(60) });
      store.put({ name: 'redis_memory_usage', value: 91, at: ago(30) });

      // act
      const json = JSON.parse(JSON.stringify(store)) as unknown;
      const restored = LocalMetricStore.fromJSON(json, { catalogue: defaultCatalogue() });

      // assess
      expect(json).toEqual({
        version: 1,
        series: [
          { metric: 'api_latency_p99', service: 'trading-api', points: [{ at: ago(60).toISOString(), value: 0.25 }] },
          { metric: 'redis_memory_usage', points: [{ at: ago(30).toISOString(), value: 0.91 }] },
        ],
      });
      expect(await restored.series({ name: 'api_latency_p99', service: 'trading-api', ...HOUR })).toEqual([{ at: ago(60), value: 0.25 }]);
      expect(await restored.series({ name: 'redis_memory_usage', ...HOUR })).toEqual([{ at: ago(30), value: 0.91 }]);
    });

    it('rejects saved data that names a metric not in the catalogue', () => {
      const json = { version: 1, series: [{ metric: 'gone_metric', points: [{ at: NOW.toISOString(), value: 1 }] }] };

      expect(() => LocalMetricStore.fromJSON(json, { catalogue: defaultCatalogue() })).toThrow('series[0]: unknown metric "gone_metric"');
    });

    it('rejects malformed saved data', () => {
      expect(() => LocalMetricStore.fromJSON({ version: 2, series: [] }, { catalogue: defaultCatalogue() })).toThrow(InvalidMetricDataError);
    });
  });
});
