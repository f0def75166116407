/** Unit tests of the Evaluate decision: every seed condition against realistic data in the local metric store; no AWS. */
import { evaluateStepCondition, LocalMetricStore, verifyRecovery, type EvaluationInput, type MetricInput } from '../../../lib/metrics';
import { ExpressionError } from '../../../lib/playbook/errors';
import { parseCondition } from '../../../lib/compiled/expression';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (seconds: number): Date => new Date(NOW.getTime() - seconds * 1000);
const catalogue = defaultCatalogue();

/** Store with the given points; `unit` defaults to the catalogue unit (Milliseconds, Percent...). */
function storeWith(points: readonly MetricInput[] = []): LocalMetricStore {
  const store = new LocalMetricStore({ catalogue, clock: () => NOW });
  store.put(points);
  return store;
}

/** One point a minute over the last `minutes` minutes, newest at `now`. */
function everyMinute(name: string, minutes: number, value: (ageSeconds: number) => number, service?: string): MetricInput[] {
  return Array.from({ length: minutes + 1 }, (_, i) => {
    const age = (minutes - i) * 60;
    return { name, value: value(age), at: ago(age), service };
  });
}

function input(condition: string, store: LocalMetricStore, extra: Partial<Omit<EvaluationInput, 'condition'>> = {}): EvaluationInput {
  return { condition: parseCondition(condition), variables: {}, metrics: store, catalogue, now: NOW, ...extra };
}

describe('Function: evaluateStepCondition', () => {
  describe('latency_p99 still > 200ms after 3min (traffic-surge, alias of api_latency_p99 in Milliseconds)', () => {
    const condition = 'latency_p99 still > 200ms after 3min';

    it.each([
      [350, 'true', 0.35],
      [200, 'false', 0.2],
      [180, 'false', 0.18],
    ])('latest %d ms for trading-api → %s', async (ms, result, seconds) => {
      // prepare
      const store = storeWith([
        { name: 'api_latency_p99', value: 900, at: ago(240), service: 'trading-api' },
        { name: 'api_latency_p99', value: ms, at: ago(30), service: 'trading-api' },
      ]);

      // act
      const evaluation = await evaluateStepCondition(input(condition, store, { service: 'trading-api' }));

      // assess
      expect(evaluation).toEqual({ result, values: { latency_p99: seconds }, missing: [] });
    });

    it('reads only the incident service: data for another service is no data → unknown', async () => {
      const store = storeWith([{ name: 'api_latency_p99', value: 900, at: ago(30), service: 'market-data' }]);

      const evaluation = await evaluateStepCondition(input(condition, store, { service: 'trading-api' }));

      expect(evaluation).toEqual({ result: 'unknown', values: { latency_p99: null }, missing: ['latency_p99'] });
    });

    it('treats a point older than two periods as no data → unknown, not the stale value', async () => {
      const store = storeWith([{ name: 'api_latency_p99', value: 900, at: ago(121), service: 'trading-api' }]);

      const evaluation = await evaluateStepCondition(input(condition, store, { service: 'trading-api' }));

      expect(evaluation).toEqual({ result: 'unknown', values: { latency_p99: null }, missing: ['latency_p99'] });
    });

    it('uses a point exactly two periods old', async () => {
      const store = storeWith([{ name: 'api_latency_p99', value: 900, at: ago(120), service: 'trading-api' }]);

      expect((await evaluateStepCondition(input(condition, store, { service: 'trading-api' }))).result).toBe('true');
    });

    it('ignores points after now', async () => {
      const store = storeWith([
        { name: 'api_latency_p99', value: 150, at: ago(30), service: 'trading-api' },
        { name: 'api_latency_p99', value: 900, at: new Date(NOW.getTime() + 30_000), service: 'trading-api' },
      ]);

      expect((await evaluateStepCondition(input(condition, store, { service: 'trading-api' }))).result).toBe('false');
    });

    it("lets the playbook's variables: override the catalogue alias", async () => {
      const store = storeWith([
        { name: 'api_latency_p99', value: 150, at: ago(30), service: 'trading-api' },
        { name: 'matching_engine_latency_p99', value: 350, at: ago(30) },
      ]);

      const evaluation = await evaluateStepCondition(input(condition, store, { service: 'trading-api', aliases: { latency_p99: 'matching_engine_latency_p99' } }));

      expect(evaluation).toEqual({ result: 'true', values: { latency_p99: 0.35 }, missing: [] });
    });
  });

  describe('gc_pause_duration > 100ms (matching-engine, a step output)', () => {
    it.each([
      [0.15, 'true'],
      [0.1, 'false'],
      [0.05, 'false'],
    ])('gc_pause_duration %d s from the collect step → %s', async (seconds, result) => {
      const evaluation = await evaluateStepCondition(input('gc_pause_duration > 100ms', storeWith(), { variables: { gc_pause_duration: seconds } }));

      expect(evaluation).toEqual({ result, values: { gc_pause_duration: seconds }, missing: [] });
    });

    it('prefers the step output over a metric of the same name', async () => {
      // prepare: the playbook maps the name to a metric that says 300 ms; the step measured 50 ms
      const store = storeWith([{ name: 'matching_engine_gc_pause_duration', value: 300, at: ago(30) }]);
      const extra = { aliases: { gc_pause_duration: 'matching_engine_gc_pause_duration' } };

      // act
      const fromStep = await evaluateStepCondition(input('gc_pause_duration > 100ms', store, { ...extra, variables: { gc_pause_duration: 0.05 } }));
      const fromMetric = await evaluateStepCondition(input('gc_pause_duration > 100ms', store, extra));

      // assess
      expect(fromStep.result).toBe('false');
      expect(fromMetric).toEqual({ result: 'true', values: { gc_pause_duration: 0.3 }, missing: [] });
    });
  });

  describe('recent_deploy detected and confidence > 0.7 (matching-engine)', () => {
    const condition = 'recent_deploy detected and confidence > 0.7';
    const deploy = { deployment: 'matching-engine', revision: 42, deployed_at: ago(600).toISOString() };

    it.each([
      [deploy, 0.85, 'true'],
      [deploy, 0.7, 'false'],
      [deploy, 0.4, 'false'],
      [null, 0.95, 'false'],
      [false, 0.95, 'false'],
    ])('recent_deploy %j, confidence %d → %s', async (recentDeploy, confidence, result) => {
      const evaluation = await evaluateStepCondition(input(condition, storeWith(), { variables: { recent_deploy: recentDeploy, confidence } }));

      expect(evaluation).toEqual({ result, values: { recent_deploy: recentDeploy, confidence }, missing: [] });
    });
  });

  describe('matching_engine_latency_p99 > 100ms for 5min (matching-engine escalation)', () => {
    const condition = 'matching_engine_latency_p99 > 100ms for 5min';

    it('is true with six points over five minutes all above 100 ms', async () => {
      // prepare
      const store = storeWith(everyMinute('matching_engine_latency_p99', 5, (age) => 120 + age / 10));

      // act
      const evaluation = await evaluateStepCondition(input(condition, store, { service: 'matching-engine' }));

      // assess
      expect(evaluation).toEqual({ result: 'true', values: { matching_engine_latency_p99: 0.12 }, missing: [] });
    });

    it('is pending with only two minutes of high data', async () => {
      const store = storeWith(everyMinute('matching_engine_latency_p99', 2, () => 150));

      expect(await evaluateStepCondition(input(condition, store))).toEqual({ result: 'pending', values: { matching_engine_latency_p99: 0.15 }, missing: [] });
    });

    it('is pending when it was below the threshold earlier in the window', async () => {
      const store = storeWith(everyMinute('matching_engine_latency_p99', 5, (age) => (age === 180 ? 90 : 150)));

      expect((await evaluateStepCondition(input(condition, store))).result).toBe('pending');
    });

    it('is true when the window starts within one period of its first point', async () => {
      // first point at now − 240 s: within one period (60 s) of the window start (now − 300 s)
      const store = storeWith(everyMinute('matching_engine_latency_p99', 4, () => 150));

      expect((await evaluateStepCondition(input(condition, store))).result).toBe('true');
    });

    it('is pending when the data has a hole longer than two periods', async () => {
      // nothing at now − 180 s and now − 120 s: 180 s between two points, more than two periods
      const store = storeWith(everyMinute('matching_engine_latency_p99', 5, () => 150).filter((p) => p.at !== undefined && ![ago(180), ago(120)].some((d) => d.getTime() === new Date(p.at as Date).getTime())));

      expect((await evaluateStepCondition(input(condition, store))).result).toBe('pending');
    });

    it('is false when it is low now, whatever came before', async () => {
      const store = storeWith(everyMinute('matching_engine_latency_p99', 5, (age) => (age === 0 ? 80 : 150)));

      expect(await evaluateStepCondition(input(condition, store))).toEqual({ result: 'false', values: { matching_engine_latency_p99: 0.08 }, missing: [] });
    });

    it('is unknown with no data', async () => {
      expect(await evaluateStepCondition(input(condition, storeWith()))).toEqual({
        result: 'unknown',
        values: { matching_engine_latency_p99: null },
        missing: ['matching_engine_latency_p99'],
      });
    });

    it('is unknown when the window has data but nothing in the last two periods', async () => {
      const store = storeWith(everyMinute('matching_engine_latency_p99', 5, () => 150).filter((p) => (p.at as Date).getTime() <= ago(180).getTime()));

      expect((await evaluateStepCondition(input(condition, store))).result).toBe('unknown');
    });

    it('checks every metric of a two-metric condition at each timestamp', async () => {
      // prepare: latency high throughout; queue depth dipped to 500 three minutes ago
      const store = storeWith([
        ...everyMinute('matching_engine_latency_p99', 5, () => 150),
        ...everyMinute('matching_engine_queue_depth', 5, (age) => (age === 180 ? 500 : 20_000)),
      ]);
      const both = 'matching_engine_latency_p99 > 100ms and matching_engine_queue_depth > 10000 for 5min';

      // act
      const evaluation = await evaluateStepCondition(input(both, store));

      // assess
      expect(evaluation).toEqual({ result: 'pending', values: { matching_engine_latency_p99: 0.15, matching_engine_queue_depth: 20_000 }, missing: [] });
    });
  });

  describe('missing data is unknown, never false or zero', () => {
    it.each([
      'latency_p99 still > 200ms after 3min',
      'latency_p99 < 200ms',
      'not (latency_p99 > 200ms)',
      'latency_p99 * 2 > 0',
      'latency_p99 > 200ms or recent_deploy detected',
    ])('%s with no latency data → unknown, latency_p99 listed as missing', async (condition) => {
      const evaluation = await evaluateStepCondition(input(condition, storeWith(), { service: 'trading-api', variables: { recent_deploy: null } }));

      expect(evaluation.result).toBe('unknown');
      expect(evaluation.missing).toEqual(['latency_p99']);
      expect(evaluation.values.latency_p99).toBeNull();
    });

    it('is false, not unknown, when a known false side decides an `and`', async () => {
      const evaluation = await evaluateStepCondition(input('recent_deploy detected and latency_p99 > 200ms', storeWith(), { service: 'trading-api', variables: { recent_deploy: null } }));

      expect(evaluation).toEqual({ result: 'false', values: { recent_deploy: null, latency_p99: null }, missing: ['latency_p99'] });
    });
  });

  describe('redis_memory_usage still > 85% after cleanup (redis-memory-pressure, Percent)', () => {
    it.each([
      [91, 'true', 0.91],
      [85, 'false', 0.85],
      [72, 'false', 0.72],
    ])('%d %% → %s', async (percent, result, ratio) => {
      const store = storeWith([{ name: 'redis_memory_usage', value: percent, at: ago(20) }]);

      const evaluation = await evaluateStepCondition(input('redis_memory_usage still > 85% after cleanup', store, { service: 'redis' }));

      expect(evaluation).toEqual({ result, values: { redis_memory_usage: ratio }, missing: [] });
    });
  });

  describe('connections still > 0.9 * max after step 1 (rds-connection-exhaustion, two aliases)', () => {
    it.each([
      [950, 'true'],
      [850, 'false'],
    ])('%d of 1000 connections → %s', async (connections, result) => {
      // rds_max_connections has a 300 s period: a point 8 minutes old is still current
      const store = storeWith([
        { name: 'rds_connections', value: connections, at: ago(45) },
        { name: 'rds_max_connections', value: 1000, at: ago(480) },
      ]);

      const evaluation = await evaluateStepCondition(input('connections still > 0.9 * max after step 1', store));

      expect(evaluation).toEqual({ result, values: { connections, max: 1000 }, missing: [] });
    });
  });

  describe('identified_leaking_service is not None (rds-connection-exhaustion)', () => {
    it.each([
      [null, 'false'],
      ['order-service', 'true'],
    ])('identified_leaking_service %j → %s', async (service, result) => {
      const evaluation = await evaluateStepCondition(input('identified_leaking_service is not None', storeWith(), { variables: { identified_leaking_service: service } }));

      expect(evaluation).toEqual({ result, values: { identified_leaking_service: service }, missing: [] });
    });
  });

  describe('outputs of steps that did not run', () => {
    it('evaluates a name that is neither a variable nor a metric as unknown, and lists it as unavailable', async () => {
      // prepare: restart_leaking_pods after a skipped kill_idle_connections step
      const store = storeWith();

      // act
      const evaluation = await evaluateStepCondition(input('identified_leaking_service is not None', store));

      // assess
      expect(evaluation).toEqual({ result: 'unknown', values: { identified_leaking_service: null }, missing: [], unavailable: ['identified_leaking_service'] });
    });

    it('treats a variable given as undefined as absent', async () => {
      const evaluation = await evaluateStepCondition(input('confidence > 0.7', storeWith(), { variables: { confidence: undefined } }));

      expect(evaluation.result).toBe('unknown');
      expect(evaluation.unavailable).toEqual(['confidence']);
    });

    it.each([
      ['not consumer_has_errors', 'unknown'],
      ['consumers_healthy and lag_increasing', 'unknown'],
      ['consumer_has_errors or True', 'true'],
      ['consumer_has_errors and False', 'false'],
    ])('%s → %s (three-valued logic: an unavailable output never makes a step run by itself)', async (condition, result) => {
      const evaluation = await evaluateStepCondition(input(condition, storeWith()));

      expect(evaluation.result).toBe(result);
    });
  });
});

describe('a condition after a step (notBefore: the step\'s end)', () => {
  const condition = 'redis_memory_usage still > 85% after cleanup';
  const cleanupEnded = ago(20);

  it('is pending, naming the metric, while its latest datapoint is from before the step ended (it still shows 91 %)', async () => {
    const evaluation = await evaluateStepCondition(input(condition, storeWith([{ name: 'redis_memory_usage', value: 91, at: ago(50) }]), { notBefore: cleanupEnded }));

    expect(evaluation).toEqual({ result: 'pending', values: { redis_memory_usage: 0.91 }, missing: [], stale: ['redis_memory_usage'] });
  });

  it('decides on the first datapoint after the step ended', async () => {
    const store = storeWith([
      { name: 'redis_memory_usage', value: 91, at: ago(50) },
      { name: 'redis_memory_usage', value: 38, at: ago(5) },
    ]);

    expect(await evaluateStepCondition(input(condition, store, { notBefore: cleanupEnded }))).toEqual({ result: 'false', values: { redis_memory_usage: 0.38 }, missing: [] });
  });

  it('is unknown, not pending, when the metric has no data at all (that is a data-collection failure)', async () => {
    expect(await evaluateStepCondition(input(condition, storeWith(), { notBefore: cleanupEnded }))).toMatchObject({ result: 'unknown', missing: ['redis_memory_usage'] });
  });

  it('a datapoint stamped exactly at the step\'s end is not after it', async () => {
    const evaluation = await evaluateStepCondition(input(condition, storeWith([{ name: 'redis_memory_usage', value: 91, at: cleanupEnded }]), { notBefore: cleanupEnded }));

    expect(evaluation.result).toBe('pending');
  });
});

describe('Function: verifyRecovery', () => {
  const redisRules = ['redis_memory_usage > 85%', 'redis_evicted_keys > 0'];

  it('is true when every rule is no longer violated', async () => {
    const store = storeWith([
      { name: 'redis_memory_usage', value: 70, at: ago(30) },
      { name: 'redis_evicted_keys', value: 0, at: ago(30) },
    ]);

    expect(await verifyRecovery(redisRules, { variables: {}, metrics: store, catalogue, now: NOW })).toEqual({ result: 'true', violated: [], unknown: [], missing: [] });
  });

  it('is false and names the rule still violated', async () => {
    const store = storeWith([
      { name: 'redis_memory_usage', value: 91, at: ago(30) },
      { name: 'redis_evicted_keys', value: 0, at: ago(30) },
    ]);

    expect(await verifyRecovery(redisRules, { variables: {}, metrics: store, catalogue, now: NOW })).toEqual({
      result: 'false',
      violated: ['redis_memory_usage > 85%'],
      unknown: [],
      missing: [],
    });
  });

  it('is unknown when a rule has no data, even if the others are clear', async () => {
    const store = storeWith([{ name: 'redis_memory_usage', value: 70, at: ago(30) }]);

    expect(await verifyRecovery(redisRules, { variables: {}, metrics: store, catalogue, now: NOW })).toEqual({
      result: 'unknown',
      violated: [],
      unknown: ['redis_evicted_keys > 0: no data for redis_evicted_keys'],
      missing: ['redis_evicted_keys'],
    });
  });

  it('reads baseline as the rule\'s own metric a week earlier (the catalogue\'s definition), and decides on it', async () => {
    // prepare: now 25,000/s; a week ago about 10,000/s (mean over the hour around it)
    const week = 7 * 86400;
    const rules = ['api_request_rate > baseline * 3', 'matching_engine_queue_depth > 10000', 'api_latency_p99 > 200ms'];
    const store = storeWith([
      { name: 'api_request_rate', value: 25_000, at: ago(30), service: 'trading-api' },
      { name: 'api_request_rate', value: 9_000, at: ago(week + 600), service: 'trading-api' },
      { name: 'api_request_rate', value: 11_000, at: ago(week - 600), service: 'trading-api' },
      { name: 'api_request_rate', value: 99_000, at: ago(week + 7200), service: 'trading-api' }, // outside the hour: not in the mean
      { name: 'matching_engine_queue_depth', value: 800, at: ago(30) },
      { name: 'api_latency_p99', value: 140, at: ago(30), service: 'trading-api' },
    ]);

    // act
    const check = await verifyRecovery(rules, { variables: {}, metrics: store, catalogue, service: 'trading-api', now: NOW });
    const surge = await evaluateStepCondition({ condition: parseCondition('api_request_rate > baseline * 2'), variables: {}, metrics: store, catalogue, service: 'trading-api', now: NOW });

    // assess: 25,000 < 3 × 10,000 → recovered; 25,000 > 2 × 10,000 → the surge condition holds
    expect(check).toEqual({ result: 'true', violated: [], unknown: [], missing: [] });
    expect(surge).toMatchObject({ result: 'true', values: { api_request_rate: 25_000, baseline: 10_000 } });
  });

  it('is unknown, never recovered, when the baseline has no data', async () => {
    const store = storeWith([{ name: 'api_request_rate', value: 25_000, at: ago(30), service: 'trading-api' }]);

    const check = await verifyRecovery(['api_request_rate > baseline * 3'], { variables: {}, metrics: store, catalogue, service: 'trading-api', now: NOW });

    expect(check).toMatchObject({ result: 'unknown', missing: ['baseline'], unknown: ['api_request_rate > baseline * 3: no data for baseline'] });
  });

  describe('a trend rule (matching_engine_latency_p99_trend: increasing) is judged as its alarm judges it', () => {
    const rules = ['matching_engine_latency_p99 > 10ms', { matching_engine_latency_p99_trend: 'increasing' }];
    const trendText = 'matching_engine_latency_p99_trend: "increasing"';
    /** One point every 10 s (the metric's high-resolution period), oldest first, ending 10 s ago. */
    const series = (ms: readonly number[]) => storeWith(ms.map((value, i) => ({ name: 'matching_engine_latency_p99', value, at: ago((ms.length - i) * 10) })));

    it('is not recovered while the latency climbs, although it is under the threshold', async () => {
      // A drill opened by the trend alarm used to be "recovered" here: the trend rule was never checked.
      const check = await verifyRecovery(rules, { variables: {}, metrics: series([4, 5, 6, 7, 8, 9, 9.5]), catalogue, service: 'matching-engine', now: NOW });

      expect(check).toEqual({ result: 'false', violated: [trendText], unknown: [], missing: [] });
    });

    it('is recovered once the latency is flat under the threshold', async () => {
      const check = await verifyRecovery(rules, { variables: {}, metrics: series([4, 4, 4, 4, 4, 4, 4]), catalogue, service: 'matching-engine', now: NOW });

      expect(check).toEqual({ result: 'true', violated: [], unknown: [], missing: [] });
    });

    it('is unknown, never recovered, when the trend has no data', async () => {
      const check = await verifyRecovery([{ matching_engine_latency_p99_trend: 'increasing' }], { variables: {}, metrics: storeWith(), catalogue, service: 'matching-engine', now: NOW });

      expect(check.result).toBe('unknown');
      expect(check.missing).toEqual(['matching_engine_latency_p99']);
      expect(check.unknown[0]).toMatch(/^matching_engine_latency_p99_trend: "increasing": no data for matching_engine_latency_p99/);
    });

    it('skips a log pattern and a trend of a metric the catalogue lacks, naming each', async () => {
      const check = await verifyRecovery([{ log_pattern: 'too many connections' }, { no_such_metric_trend: 'increasing' }, 'redis_memory_usage > 85%'], {
        variables: {},
        metrics: storeWith([{ name: 'redis_memory_usage', value: 40, at: ago(30) }]),
        catalogue,
        service: 'redis-cache',
        now: NOW,
      });

      expect(check.result).toBe('true');
      expect(check.unknown).toEqual([
        'log_pattern: "too many connections": skipped: not a metric rule (log patterns are not checked on recovery)',
        expect.stringMatching(/^no_such_metric_trend: "increasing": skipped: .*no_such_metric/),
      ]);
    });
  });

  it('is unknown when no rule can be checked', async () => {
    const check = await verifyRecovery(['api_request_rate > baseline * 3'], { variables: {}, metrics: storeWith(), catalogue, service: 'trading-api', now: NOW });

    expect(check.result).toBe('unknown');
    expect(check.unknown).toHaveLength(1);
  });

  it('checks a baseline rule when the baseline is given as a variable', async () => {
    const store = storeWith([{ name: 'api_request_rate', value: 40_000, at: ago(30), service: 'trading-api' }]);

    const check = await verifyRecovery(['api_request_rate > baseline * 3'], { variables: { baseline: 10_000 }, metrics: store, catalogue, service: 'trading-api', now: NOW });

    expect(check).toEqual({ result: 'false', violated: ['api_request_rate > baseline * 3'], unknown: [], missing: [] });
  });

  it('throws ExpressionError for a rule that does not parse', async () => {
    await expect(verifyRecovery(['redis_memory_usage >> 85%'], { variables: {}, metrics: storeWith(), catalogue, now: NOW })).rejects.toBeInstanceOf(ExpressionError);
  });
});
