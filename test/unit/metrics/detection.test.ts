/**
 * Detection rules → CloudWatch alarm specifications (lib/metrics/detection.ts): every rule of the
 * seed playbooks, as the stack will create it, and the rules no alarm can express. Pure; no AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetectionRuleError, detectionAlarms, detectionOfMachine, logFilterPattern, renderExpression, type AlarmSpec, type DetectionInput, type DetectionOptions } from '../../../lib/metrics/detection';
import { type MetricCatalogue } from '../../../lib/playbook/catalogue';
import type { Manifest } from '../../../lib/compiled/manifest';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const catalogue = defaultCatalogue();
const REPO = path.resolve(__dirname, '../../..');
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'statemachines/index.json'), 'utf8')) as Manifest;
const DIMENSIONS = { DBInstanceIdentifier: 'orders-db', ReplicationGroupId: 'redis-prod', 'Consumer Group': 'order-events', Topic: 'orders' };
const OPTIONS: DetectionOptions = { dimensions: DIMENSIONS, logGroup: '/aws/containerinsights/exchange/application' };

/** The alarms of a compiled playbook, as the stack builds them. */
function alarmsOf(playbook: string, options: DetectionOptions = OPTIONS): ReturnType<typeof detectionAlarms> {
  const machine = manifest.machines.find((m) => m.playbook === playbook);
  const input = machine ? detectionOfMachine(machine) : undefined;
  if (!input) throw new Error(`no detection block for ${playbook} in statemachines/index.json`);
  return detectionAlarms(input, catalogue, options);
}

function alarm(playbook: string, name: string): AlarmSpec {
  const found = alarmsOf(playbook).alarms.find((a) => a.name === name);
  if (!found) throw new Error(`no alarm ${name}; have ${alarmsOf(playbook).alarms.map((a) => a.name).join(', ')}`);
  return found;
}

function rule(text: string | Record<string, string>, extra: Partial<DetectionInput> = {}, options: DetectionOptions = OPTIONS, cat: MetricCatalogue = catalogue): AlarmSpec[] {
  return detectionAlarms({ playbook: 'test-playbook', service: 'trading-api', detection: { primary: [text] }, ...extra }, cat, options).alarms;
}

describe('Function: detectionAlarms', () => {
  describe('the seed playbooks, rule by rule', () => {
    it('traffic-surge "api_request_rate > baseline * 3": metric math over the metric and its published baseline, per service', () => {
      // act
      const a = alarm('traffic-surge', 'sre-agent/traffic-surge/trading-api/api_request_rate');
      // assess
      expect(a).toMatchObject({ kind: 'expression', triggers: true, period: 60, comparison: 'GreaterThanThreshold', threshold: 0, evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: 'missing' });
      expect(renderExpression(a.expression!)).toBe('m1 - b1 * 3');
      expect(a.metrics).toEqual([
        { id: 'm1', metric: 'api_request_rate', namespace: 'Exchange/TradingAPI', metricName: 'RequestCount', dimensions: { service: 'trading-api' }, stat: 'Sum', unit: 'Count/Second', naturalPeriod: 60 },
        {
          id: 'b1',
          metric: 'api_request_rate',
          namespace: 'SreAgent/Baseline',
          metricName: 'api_request_rate',
          dimensions: { service: 'trading-api' },
          stat: 'Average',
          unit: 'Count/Second',
          naturalPeriod: 60,
          baseline: { offsetSeconds: 7 * 86400, windowSeconds: 3600 },
        },
      ]);
    });

    it('traffic-surge "websocket_connections > baseline * 2": twice its own baseline', () => {
      const a = alarm('traffic-surge', 'sre-agent/traffic-surge/trading-api/websocket_connections');
      expect(renderExpression(a.expression!)).toBe('m1 - b1 * 2');
      expect(a.metrics.map((m) => [m.id, m.namespace, m.metricName])).toEqual([
        ['m1', 'Exchange/MarketData', 'WebSocketConnections'],
        ['b1', 'SreAgent/Baseline', 'websocket_connections'],
      ]);
    });

    it('traffic-surge secondary "matching_engine_queue_depth > 10000": a high-resolution (10 s) signal alarm that starts nothing', () => {
      const a = alarm('traffic-surge', 'sre-agent-signal/traffic-surge/trading-api/matching_engine_queue_depth');
      expect(a).toMatchObject({ kind: 'threshold', group: 'secondary', triggers: false, period: 10, threshold: 10000, comparison: 'GreaterThanThreshold' });
      expect(a.metrics[0]).toMatchObject({ namespace: 'Exchange/MatchingEngine', metricName: 'QueueDepth', stat: 'Maximum', dimensions: {} });
    });

    it('traffic-surge secondary "api_latency_p99 > 200ms": 200 Milliseconds on the p99', () => {
      const a = alarm('traffic-surge', 'sre-agent-signal/traffic-surge/trading-api/api_latency_p99');
      expect(a).toMatchObject({ kind: 'threshold', period: 60, threshold: 200 });
      expect(a.metrics[0]).toMatchObject({ metricName: 'Latency', stat: 'p99', unit: 'Milliseconds', dimensions: { service: 'trading-api' } });
    });

    it('matching-engine-latency "matching_engine_latency_p99 > 10ms": 10 Milliseconds, every 10 s (published at high resolution)', () => {
      const a = alarm('matching-engine-latency', 'sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99');
      expect(a).toMatchObject({ kind: 'threshold', triggers: true, period: 10, threshold: 10, evaluationPeriods: 1, datapointsToAlarm: 1 });
      expect(a.metrics[0]).toMatchObject({ namespace: 'Exchange/MatchingEngine', metricName: 'MatchLatency', stat: 'p99' });
    });

    it('matching-engine-latency "matching_engine_latency_p99_trend: increasing": DIFF > 0 in 4 of 5 high-resolution periods', () => {
      const a = alarm('matching-engine-latency', 'sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99_trend');
      expect(a).toMatchObject({ kind: 'trend', period: 10, comparison: 'GreaterThanThreshold', threshold: 0, evaluationPeriods: 5, datapointsToAlarm: 4 });
      expect(renderExpression(a.expression!)).toBe('DIFF(m1)');
    });

    it('rds-connection-exhaustion "rds_connections > max_connections * 0.8": both metrics of the instance, the 5-minute one repeated', () => {
      const a = alarm('rds-connection-exhaustion', 'sre-agent/rds-connection-exhaustion/trading-api/rds_connections');
      expect(a).toMatchObject({ kind: 'expression', period: 60, threshold: 0 });
      expect(renderExpression(a.expression!)).toBe('m1 - FILL(m2, REPEAT) * 0.8');
      expect(a.metrics.map((m) => [m.id, m.namespace, m.metricName, m.dimensions, m.naturalPeriod])).toEqual([
        ['m1', 'AWS/RDS', 'DatabaseConnections', { DBInstanceIdentifier: 'orders-db' }, 60],
        ['m2', 'Exchange/RDS', 'MaxConnections', { DBInstanceIdentifier: 'orders-db' }, 300],
      ]);
    });

    it('rds-connection-exhaustion secondary "log_pattern": a metric filter of the three phrases on the application log group', () => {
      const a = alarm('rds-connection-exhaustion', 'sre-agent-signal/rds-connection-exhaustion/trading-api/log_pattern');
      expect(a).toMatchObject({ kind: 'log_pattern', triggers: false, comparison: 'GreaterThanThreshold', threshold: 0 });
      expect(a.metrics[0]).toMatchObject({
        namespace: 'SreAgent/LogPatterns',
        metricName: 'rds-connection-exhaustion-trading-api',
        stat: 'Sum',
        logPattern: { pattern: 'too many connections|connection refused|connection timeout', filterPattern: '?"too many connections" ?"connection refused" ?"connection timeout"' },
      });
    });

    it('rds-connection-exhaustion secondary "api_error_rate increasing": a trend signal of the service error rate', () => {
      const a = alarm('rds-connection-exhaustion', 'sre-agent-signal/rds-connection-exhaustion/trading-api/api_error_rate_trend');
      expect(a).toMatchObject({ kind: 'trend', period: 60, evaluationPeriods: 5, datapointsToAlarm: 4 });
      expect(a.metrics[0]).toMatchObject({ metricName: 'ErrorRate', dimensions: { service: 'trading-api' } });
    });

    it.each([
      ['redis-memory-pressure', 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage', 'DatabaseMemoryUsagePercentage', 85, { ReplicationGroupId: 'redis-prod' }],
      ['redis-memory-pressure', 'sre-agent/redis-memory-pressure/redis-cache/redis_evicted_keys', 'Evictions', 0, { ReplicationGroupId: 'redis-prod' }],
      ['kafka-consumer-lag', 'sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag', 'SumOffsetLag', 10000, { 'Consumer Group': 'order-events', Topic: 'orders' }],
      ['pod-oom-killed', 'sre-agent/pod-oom-killed/trading-api/pod_oom_killed', 'pod_oom_killed', 0, { service: 'trading-api' }],
      ['pod-oom-killed', 'sre-agent/pod-oom-killed/trading-api/pod_restart_count_1h', 'pod_number_of_container_restarts', 3, { service: 'trading-api' }],
    ])('%s: %s is a plain threshold on %s > %d', (playbook, name, metricName, threshold, dimensions) => {
      const a = alarm(playbook, name);
      expect(a).toMatchObject({ kind: 'threshold', triggers: true, threshold, comparison: 'GreaterThanThreshold', evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: 'missing' });
      expect(a.metrics[0]).toMatchObject({ metricName, dimensions });
      expect(a.expression).toBeUndefined();
    });

    it('makes exactly one alarm per rule of every alarm-triggered seed playbook (primary and secondary)', () => {
      for (const machine of manifest.machines) {
        const input = detectionOfMachine(machine);
        if (!input) continue;
        const rules = input.detection.primary.length + (input.detection.secondary?.length ?? 0);
        const { alarms, skipped } = detectionAlarms(input, catalogue, OPTIONS);
        expect({ playbook: machine.playbook, alarms: alarms.length, skipped }).toEqual({ playbook: machine.playbook, alarms: rules, skipped: [] });
        expect(new Set(alarms.map((a) => a.name)).size).toBe(alarms.length);
      }
    });
  });

  describe('names, services and configuration', () => {
    it('names primary alarms by the trigger convention, which routes them back to their playbook and service', () => {
      const { alarms } = alarmsOf('redis-memory-pressure');
      for (const a of alarms) expect(a.name.startsWith(`sre-agent/redis-memory-pressure/${a.service}/`)).toBe(true);
    });

    it('makes one alarm per rule and service when services are given', () => {
      const { alarms } = alarmsOf('pod-oom-killed', { ...OPTIONS, services: ['trading-api', 'order-service'] });
      expect(alarms.map((a) => a.name).sort()).toEqual([
        'sre-agent/pod-oom-killed/order-service/pod_oom_killed',
        'sre-agent/pod-oom-killed/order-service/pod_restart_count_1h',
        'sre-agent/pod-oom-killed/trading-api/pod_oom_killed',
        'sre-agent/pod-oom-killed/trading-api/pod_restart_count_1h',
      ]);
      expect(alarms.find((a) => a.service === 'order-service')?.metrics[0]?.dimensions).toEqual({ service: 'order-service' });
    });

    it('skips a rule whose dimension has no configured value, naming the dimension and where to set it', () => {
      const { alarms, skipped } = alarmsOf('redis-memory-pressure', {});
      expect(alarms).toEqual([]);
      expect(skipped[0]).toEqual({
        playbook: 'redis-memory-pressure',
        service: 'redis-cache',
        group: 'primary',
        rule: 'redis_memory_usage > 85%',
        reason: 'metric redis_memory_usage is measured per ReplicationGroupId, and no value is configured for it (cdk.json "sre-agent:config" → detection.dimensions["ReplicationGroupId"])',
      });
    });

    it('skips a log_pattern rule when no application log group is configured', () => {
      const { skipped } = alarmsOf('rds-connection-exhaustion', { dimensions: DIMENSIONS });
      expect(skipped.map((s) => [s.rule, s.reason])).toEqual([['log_pattern: "too many connections|connection refused|connection timeout"', 'log_pattern needs the application log group (cdk.json "sre-agent:config" → detection.logGroup)']]);
    });

    it('resolves aliases and the playbook variables to catalogue metrics', () => {
      expect(rule('latency_p99 > 150ms')[0]).toMatchObject({ name: 'sre-agent/test-playbook/trading-api/api_latency_p99', threshold: 150 });
      expect(rule('p99 > 1s', { variables: { p99: 'api_latency_p99' } })[0]).toMatchObject({ threshold: 1000 });
    });

    it('suffixes a second rule on the same subject so names stay unique', () => {
      const alarms = detectionAlarms({ playbook: 'p', service: 'trading-api', detection: { primary: ['api_latency_p99 > 200ms', 'api_latency_p99 > 1s for 5min'] } }, catalogue).alarms;
      expect(alarms.map((a) => a.name)).toEqual(['sre-agent/p/trading-api/api_latency_p99', 'sre-agent/p/trading-api/api_latency_p99-2']);
    });
  });

  describe('thresholds, timing and units', () => {
    it.each([
      ['api_latency_p99 > 1.5s', 1500, 'GreaterThanThreshold'],
      ['api_latency_p99 >= 200ms', 200, 'GreaterThanOrEqualToThreshold'],
      ['api_error_rate < 0.5%', 0.5, 'LessThanThreshold'],
      ['api_error_rate <= 12.5%', 12.5, 'LessThanOrEqualToThreshold'],
      ['redis_command_latency > 2ms', 2000, 'GreaterThanThreshold'],
    ])('%s → threshold %d in the metric unit, %s', (text, threshold, comparison) => {
      expect(rule(text, {}, { dimensions: DIMENSIONS })[0]).toMatchObject({ kind: 'threshold', threshold, comparison });
    });

    it('turns "for T" into T / period datapoints out of as many', () => {
      expect(rule('api_latency_p99 > 200ms for 5min')[0]).toMatchObject({ period: 60, evaluationPeriods: 5, datapointsToAlarm: 5 });
      expect(rule('matching_engine_latency_p99 > 100ms for 5min')[0]).toMatchObject({ period: 10, evaluationPeriods: 30, datapointsToAlarm: 30 });
      expect(rule('api_latency_p99 > 200ms for 90s')[0]).toMatchObject({ evaluationPeriods: 2, datapointsToAlarm: 2 });
    });

    it('converts every metric of metric math to base units, so a time compares with a time', () => {
      const [a] = rule('api_latency_p99 > matching_engine_gc_pause_duration * 2 + 50ms');
      expect(renderExpression(a!.expression!)).toBe('m1 * 0.001 - (m2 * 0.001 * 2 + 0.05)');
    });
  });

  describe('rules no alarm can express', () => {
    it.each([
      ['api_latency_p99 > 200ms and api_error_rate > 1%', "an alarm compares numbers (metric > threshold); 'and' combines two rules: write each as its own rule"],
      ['api_latency_p99 == 200ms', "'==' cannot be an alarm comparison (use >, >=, < or <=)"],
      ['api_latency_p99 > 200ms after 3min', "'after 3min': an alarm has no 'after'; use 'for T' (T / period datapoints out of as many)"],
      ['api_latency_p99 still > 200ms', "'still' re-checks a step condition; a detection rule has nothing to re-check"],
      ['redis_memory_usage > 85ms', '85ms is a time, but redis_memory_usage is measured in Percent'],
      ['api_latency_p99 > 200', '200 has no unit, but api_latency_p99 is measured in Milliseconds: write 200ms or 200s'],
      ['api_latency_p99 > api_request_rate', 'it compares metrics measured in different kinds of units (time, other)'],
      ['api_request_rate > baseline * api_error_rate', "`baseline` is the baseline of the rule's one metric, and this rule has api_request_rate, api_error_rate"],
      ['no_such_metric > 3', '"no_such_metric" is not a metric or alias in the metric catalogue (playbooks/metrics.yaml)'],
      ['api_latency_p99 > 200ms for 2d', "'for' longer than a day (2880 periods of 60 s) is more than a CloudWatch alarm can evaluate"],
    ])('refuses "%s": %s', (text, reason) => {
      expect(() => rule(text)).toThrow(new DetectionRuleError('test-playbook', text, reason));
      expect(() => rule(text)).toThrow(expect.objectContaining({ name: 'DetectionRuleError', playbook: 'test-playbook', rule: text }));
    });

    it.each([
      [{ log_pattern: 'too (many|few) connections' }, 'log_pattern: "too (many|few) connections" holds regular-expression or quote characters; write plain phrases separated by |'],
      [{ api_error_rate_trend: 'sideways' }, 'api_error_rate_trend must be "increasing" or "decreasing", not "sideways"'],
      [{ something: 'else' }, '"something" is neither log_pattern nor <metric>_trend'],
    ])('refuses the map rule %j', (map, reason) => {
      expect(() => rule(map)).toThrow(reason);
    });

    it('refuses a trend or a baseline the catalogue does not define', () => {
      const bare: MetricCatalogue = { metrics: catalogue.metrics, aliases: catalogue.aliases };
      expect(() => rule('api_error_rate increasing', {}, OPTIONS, bare)).toThrow('the metric catalogue defines no `trend` (what increasing means: periods and moving)');
      expect(() => rule('api_request_rate > baseline * 3', {}, OPTIONS, bare)).toThrow('the metric catalogue defines no `baseline`');
    });

    it('refuses a playbook without a service when none are given', () => {
      expect(() => detectionAlarms({ playbook: 'p', detection: { primary: ['api_latency_p99 > 200ms'] } }, catalogue)).toThrow('playbook p: detection rule "(all)" cannot become a CloudWatch alarm: the playbook has no `service` and no services were given to alarm for');
    });
  });
});

describe('Function: logFilterPattern', () => {
  it('turns an alternation of phrases into a CloudWatch Logs OR of quoted terms', () => {
    expect(logFilterPattern('too many connections|connection refused')).toBe('?"too many connections" ?"connection refused"');
  });

  it.each(['a||b', '|a', 'a.*b', 'say "hi"'])('refuses %j rather than guess', (pattern) => {
    expect(logFilterPattern(pattern)).toHaveProperty('error');
  });
});
