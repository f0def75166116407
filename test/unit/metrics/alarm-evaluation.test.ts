/**
 * The local alarm evaluator (lib/metrics/alarm-evaluation.ts) against the CloudWatch user guide:
 * both example tables of "Configuring how CloudWatch alarms treat missing data" row by row,
 * statistics per period, metric math (DIFF, FILL REPEAT, baselines), and the seed rules' alarms
 * fed from the local metric store. Pure; no AWS.
 */
import { AlarmEvaluationError, evaluateAlarm, evaluateAlarmFromSource, statistic, type AlarmState } from '../../../lib/metrics/alarm-evaluation';
import { detectionAlarms, type AlarmSpec, type TreatMissingData } from '../../../lib/metrics/detection';
import { LocalMetricStore, type MetricInput, type MetricPoint } from '../../../lib/metrics';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const catalogue = defaultCatalogue();
/** 30 s into a minute: the newest complete period is the minute that ended 30 s ago. */
const NOW = new Date('2026-03-02T12:00:30.000Z');
const MINUTE = 60_000;
/** Start of the k-th most recent complete minute (k = 0: the newest). */
const periodStart = (k: number): number => Date.parse('2026-03-02T12:00:00.000Z') - (k + 1) * MINUTE;

function lagAlarm(n: number, m: number, treatMissingData: TreatMissingData): AlarmSpec {
  const [spec] = detectionAlarms({ playbook: 'kafka-consumer-lag', service: 'order-consumer', detection: { primary: ['kafka_consumer_lag > 10000'] } }, catalogue, { dimensions: { 'Consumer Group': 'g', Topic: 't' } }).alarms;
  return { ...spec!, evaluationPeriods: n, datapointsToAlarm: m, treatMissingData };
}

/** `0 - X - X`, oldest first, one datapoint per minute: 0 below the threshold, X above, - none. */
function pattern(text: string): MetricPoint[] {
  const slots = text.split(' ');
  return slots.flatMap((slot, i) => {
    const k = slots.length - 1 - i;
    if (slot === '-') return [];
    return [{ at: new Date(periodStart(k) + 20_000), value: slot === 'X' ? 20_000 : 500 }];
  });
}

type Expected = AlarmState | 'retain';
const RETAIN_FROM: AlarmState = 'OK';

function check(n: number, m: number, data: string, treat: TreatMissingData, expected: Expected): void {
  const result = evaluateAlarm(lagAlarm(n, m, treat), { m1: pattern(data) }, NOW, { previousState: RETAIN_FROM });
  if (expected === 'retain') expect({ state: result.state, retained: result.retained }).toEqual({ state: RETAIN_FROM, retained: true });
  else expect({ state: result.state, retained: result.retained }).toEqual({ state: expected, retained: false });
}

describe('Function: evaluateAlarm', () => {
  describe('the user guide, 3 out of 3 datapoints, evaluation range 5', () => {
    it.each([
      ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
      ['0 - - - -', 'OK', 'OK', 'OK', 'OK'],
      ['- - - - -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
      ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['- - X - -', 'ALARM', 'retain', 'ALARM', 'OK'],
      // From the guide's earlier edition and its "premature" section: too recent to alarm, and old enough.
      ['- - - - X', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
      ['- - - X -', 'INSUFFICIENT_DATA', 'retain', 'ALARM', 'OK'],
      ['X - - - -', 'ALARM', 'retain', 'ALARM', 'OK'],
    ] as const)('%s → missing %s, ignore %s, breaching %s, notBreaching %s', (data, missing, ignore, breaching, notBreaching) => {
      check(3, 3, data, 'missing', missing);
      check(3, 3, data, 'ignore', ignore);
      check(3, 3, data, 'breaching', breaching);
      check(3, 3, data, 'notBreaching', notBreaching);
    });
  });

  describe('the user guide, 2 out of 3 datapoints (M out of N), evaluation range 5', () => {
    it.each([
      ['0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
      ['0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
      ['- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
      ['- - - X -', 'ALARM', 'retain', 'ALARM', 'OK'],
    ] as const)('%s → missing %s, ignore %s, breaching %s, notBreaching %s', (data, missing, ignore, breaching, notBreaching) => {
      check(3, 2, data, 'missing', missing);
      check(3, 2, data, 'ignore', ignore);
      check(3, 2, data, 'breaching', breaching);
      check(3, 2, data, 'notBreaching', notBreaching);
    });
  });

  it('reports the evaluation range oldest first, and why, in CloudWatch manner', () => {
    const result = evaluateAlarm(lagAlarm(3, 2, 'missing'), { m1: pattern('0 0 X 0 X') }, NOW);
    expect(result.datapoints.map((d) => [d.at.toISOString(), d.value, d.breaching])).toEqual([
      ['2026-03-02T11:55:00.000Z', 500, false],
      ['2026-03-02T11:56:00.000Z', 500, false],
      ['2026-03-02T11:57:00.000Z', 20000, true],
      ['2026-03-02T11:58:00.000Z', 500, false],
      ['2026-03-02T11:59:00.000Z', 20000, true],
    ]);
    expect(result.reason).toBe('Threshold Crossed: 2 out of the last 3 datapoints [20000, 500, 20000] were greater than the threshold (10000) (minimum 2 datapoints for ALARM)');
  });

  it('ignores the period still under way: a breach 10 s ago does not count yet', () => {
    const spec = lagAlarm(1, 1, 'missing');
    const now = new Date('2026-03-02T12:00:30.000Z');
    const result = evaluateAlarm(spec, { m1: [{ at: new Date('2026-03-02T12:00:20.000Z'), value: 20_000 }] }, now);
    expect(result.state).toBe('INSUFFICIENT_DATA');
    expect(evaluateAlarm(spec, { m1: [{ at: new Date('2026-03-02T12:00:20.000Z'), value: 20_000 }] }, new Date('2026-03-02T12:01:00.000Z')).state).toBe('ALARM');
  });

  it('refuses a series it was not given, naming the alarm and the metric', () => {
    expect(() => evaluateAlarm(lagAlarm(1, 1, 'missing'), {}, NOW)).toThrow(new AlarmEvaluationError('sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag', 'no series given for m1 (kafka_consumer_lag)'));
  });
});

describe('Function: statistic', () => {
  it.each([
    { stat: 'Sum', values: [1, 2, 3, 4], expected: 10 },
    { stat: 'Average', values: [1, 2, 3, 4], expected: 2.5 },
    { stat: 'Maximum', values: [1, 7, 3], expected: 7 },
    { stat: 'Minimum', values: [4, 2, 9], expected: 2 },
    { stat: 'SampleCount', values: [4, 2, 9], expected: 3 },
    { stat: 'p50', values: [5, 1, 4, 2, 3], expected: 3 },
    { stat: 'p99', values: Array.from({ length: 100 }, (_, i) => i + 1), expected: 99 },
    { stat: 'p99.9', values: Array.from({ length: 1000 }, (_, i) => i + 1), expected: 999 },
  ])('$stat gives $expected (percentiles by nearest rank)', ({ stat, values, expected }) => {
    expect(statistic(stat, values)).toBe(expected);
  });

  it('is missing (null) for a period without values, never 0', () => {
    expect(statistic('Sum', [])).toBeNull();
  });

  it('refuses a statistic it cannot compute', () => {
    expect(() => statistic('tm90', [1], 'a')).toThrow('alarm a: statistic "tm90" is not evaluated locally (Sum, Average, Maximum, Minimum, SampleCount, pNN)');
  });
});

describe('Function: evaluateAlarmFromSource (the seed rules, fed from the local metric store)', () => {
  const ago = (ms: number): Date => new Date(NOW.getTime() - ms);

  function store(points: readonly MetricInput[]): LocalMetricStore {
    const s = new LocalMetricStore({ catalogue, clock: () => NOW });
    s.put(points);
    return s;
  }

  function alarmOf(playbook: string, service: string, rule: string, dims: Record<string, string> = {}): AlarmSpec {
    const [spec] = detectionAlarms({ playbook, service, detection: { primary: [rule] } }, catalogue, { dimensions: dims }).alarms;
    return spec!;
  }

  it('redis_memory_usage > 85%: 92% in the last complete minute alarms, 85% does not (base-unit store, Percent alarm)', async () => {
    const spec = alarmOf('redis-memory-pressure', 'redis-cache', 'redis_memory_usage > 85%', { ReplicationGroupId: 'r' });
    const high = await evaluateAlarmFromSource(spec, store([{ name: 'redis_memory_usage', value: 92, at: ago(40_000) }]), NOW);
    const edge = await evaluateAlarmFromSource(spec, store([{ name: 'redis_memory_usage', value: 85, at: ago(40_000) }]), NOW);
    expect([high.state, high.datapoints.at(-1)?.value]).toEqual(['ALARM', 92]);
    expect([edge.state, edge.datapoints.at(-1)?.value]).toEqual(['OK', 85]);
  });

  it('matching_engine_latency_p99 > 10ms: the p99 of the 10-s period, 10 ms exactly is no breach', async () => {
    const spec = alarmOf('matching-engine-latency', 'matching-engine', 'matching_engine_latency_p99 > 10ms');
    // Ten samples in the last complete 10-s period (12:00:20-12:00:30): p99 by nearest rank is the largest.
    const samples = (top: number): MetricInput[] => Array.from({ length: 10 }, (_, i) => ({ name: 'matching_engine_latency_p99', value: i === 9 ? top : 2, at: new Date(Date.parse('2026-03-02T12:00:20Z') + i * 900) }));
    expect((await evaluateAlarmFromSource(spec, store(samples(14)), NOW)).state).toBe('ALARM');
    expect((await evaluateAlarmFromSource(spec, store(samples(10)), NOW)).state).toBe('OK');
  });

  it('api_request_rate > baseline * 3: compares with the hour around the same time a week earlier', async () => {
    const spec = alarmOf('traffic-surge', 'trading-api', 'api_request_rate > baseline * 3');
    const WEEK = 7 * 86_400_000;
    const lastWeek: MetricInput[] = Array.from({ length: 61 }, (_, i) => ({ name: 'api_request_rate', value: 1000, service: 'trading-api', at: ago(WEEK + (i - 30) * MINUTE) }));
    const surge = await evaluateAlarmFromSource(spec, store([...lastWeek, { name: 'api_request_rate', value: 3500, service: 'trading-api', at: ago(40_000) }]), NOW);
    const busy = await evaluateAlarmFromSource(spec, store([...lastWeek, { name: 'api_request_rate', value: 2900, service: 'trading-api', at: ago(40_000) }]), NOW);
    const noBaseline = await evaluateAlarmFromSource(spec, store([{ name: 'api_request_rate', value: 9000, service: 'trading-api', at: ago(40_000) }]), NOW);
    expect([surge.state, surge.datapoints.at(-1)?.value]).toEqual(['ALARM', 500]);
    expect(busy.state).toBe('OK');
    // No data a week ago: unknown, never a surge over zero.
    expect(noBaseline.state).toBe('INSUFFICIENT_DATA');
  });

  it('rds_connections > max_connections * 0.8: the 5-minute max_connections is repeated into the 1-minute periods', async () => {
    const spec = alarmOf('rds-connection-exhaustion', 'trading-api', 'rds_connections > max_connections * 0.8', { DBInstanceIdentifier: 'db' });
    const data = (connections: number): MetricInput[] => [
      { name: 'rds_max_connections', value: 1000, at: ago(4 * MINUTE) },
      { name: 'rds_connections', value: connections, at: ago(40_000) },
    ];
    expect((await evaluateAlarmFromSource(spec, store(data(850)), NOW)).state).toBe('ALARM');
    expect((await evaluateAlarmFromSource(spec, store(data(800)), NOW)).state).toBe('OK');
  });

  it('api_error_rate increasing: rising in 4 of the last 5 minutes alarms; flat or jittering does not', async () => {
    const spec = alarmOf('rds-connection-exhaustion', 'trading-api', 'api_error_rate increasing');
    const minutes = (values: number[]): MetricInput[] => values.map((v, i) => ({ name: 'api_error_rate', value: v, service: 'trading-api', at: new Date(periodStart(values.length - 1 - i) + 30_000) }));
    expect((await evaluateAlarmFromSource(spec, store(minutes([1, 2, 3, 3.5, 4, 5])), NOW)).state).toBe('ALARM');
    expect((await evaluateAlarmFromSource(spec, store(minutes([1, 2, 1, 2, 1, 2])), NOW)).state).toBe('OK');
    expect((await evaluateAlarmFromSource(spec, store(minutes([2, 2, 2, 2, 2, 2])), NOW)).state).toBe('OK');
  });

  it('refuses a log-pattern alarm: its counts are not in the metric store', async () => {
    const [spec] = detectionAlarms({ playbook: 'p', service: 's', detection: { primary: [{ log_pattern: 'boom' }] } }, catalogue, { logGroup: 'g' }).alarms;
    await expect(evaluateAlarmFromSource(spec!, store([]), NOW)).rejects.toThrow('log-pattern counts are not in the metric store; pass them to evaluateAlarm as m1');
    expect(evaluateAlarm(spec!, { m1: [{ at: ago(40_000), value: 3 }] }, NOW).state).toBe('ALARM');
  });
});
