/**
 * Which checks a playbook's investigation runs (lib/playbook/investigation.ts), derived at compile
 * time from the seed playbooks as written, and the errors an `analysis` block gets, naming the
 * file, line and field.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadPlaybookText, PlaybookError, PLAYBOOK_DIR } from '../../../lib/playbook';
import { investigationChecks } from '../../../lib/playbook/investigation';

const seed = (name: string) => loadPlaybookText(`${name}.yaml`, readFileSync(path.join(PLAYBOOK_DIR, `${name}.yaml`), 'utf8'));

const HEAD = `playbook: inline
risk: MEDIUM
service: trading-api
detection:
  primary:
    - api_latency_p99 > 200ms
`;
const STEPS = `steps:
  - name: notify
    action: send_alert
    params: { severity: HIGH, channels: [slack], message: hi }
    auto_execute: true
`;

function problems(yaml: string): string {
  try {
    investigationChecks(loadPlaybookText('inline.yaml', yaml));
  } catch (e) {
    expect(e).toBeInstanceOf(PlaybookError);
    return (e as Error).message;
  }
  throw new Error('no PlaybookError');
}

describe('investigationChecks', () => {
  it("scenario 1's three questions, the deploys and the anomaly metric with its thresholds", () => {
    const checks = investigationChecks(seed('traffic-surge'));
    expect(checks.map((c) => c.name)).toEqual(['anomaly_metric', 'traffic_vs_cpu', 'pair_distribution', 'capacity', 'recent_deploys']);
    expect(checks[0]).toMatchObject({ metrics: ['api_latency_p99'], thresholds: [{ value: 0.2 }, { value: 0.2 }, { value: 0.5, source: 'latency_p99 still > 500ms after 5min' }] });
    expect(checks.find((c) => c.kind === 'capacity')?.services).toEqual(['trading-api', 'market-data-ws']);
    expect(checks.find((c) => c.kind === 'pair_distribution')).toMatchObject({ pairs: expect.arrayContaining(['BTC-USDT', 'ETH-USDT']), question: '是全局还是局部？' });
    expect(checks.every((c) => c.timeoutSeconds === 20)).toBe(true);
  });

  it("scenario 2's check_* blocks as the seed writes them", () => {
    const checks = investigationChecks(seed('matching-engine-latency'));
    expect(Object.fromEntries(checks.map((c) => [c.name, c.metrics ?? c.services]))).toEqual({
      anomaly_metric: ['matching_engine_latency_p99'],
      resources: ['matching_engine_cpu_usage', 'matching_engine_memory_usage', 'matching_engine_gc_pause_duration', 'matching_engine_thread_count'],
      dependencies: ['rds_query_latency', 'redis_command_latency', 'kafka_produce_latency'],
      traffic: ['order_rate_per_second', 'order_book_depth_per_symbol'],
      recent_deploys: ['matching-engine', 'order-service'],
    });
    expect(checks.find((c) => c.kind === 'recent_deploys')?.windowSeconds).toBe(1800);
  });

  it("scenario 3's analysis steps and its relative threshold (max_connections × 0.8)", () => {
    const checks = investigationChecks(seed('rds-connection-exhaustion'));
    expect(checks.map((c) => c.name)).toEqual(['anomaly_metric', 'db_connections', 'recent_deploys']);
    expect(checks[0]?.thresholds).toEqual(expect.arrayContaining([{ factor: 0.8, of: 'rds_max_connections', source: 'rds_connections > max_connections * 0.8' }]));
  });

  it.each([
    ['redis-memory-pressure', 'redis_memory'],
    ['kafka-consumer-lag', 'kafka_lag'],
    ['pod-oom-killed', 'pod_health'],
    ['certificate-expiry-warning', 'certificates'],
  ])('%s runs %s', (name, kind) => {
    expect(investigationChecks(seed(name)).map((c) => c.kind)).toContain(kind);
  });

  it('names the file, line and field of an unknown check, metric, analysis step, window or missing pairs', () => {
    expect(problems(`${HEAD}analysis:\n  - question: q\n    check: crystal_ball\n${STEPS}`)).toMatch(/inline\.yaml:9:\d+.*analysis\[0\]\.check: unknown check "crystal_ball"/);
    expect(problems(`${HEAD}analysis:\n  check_resources: [cpu_feelings]\n${STEPS}`)).toMatch(/inline\.yaml:8:\d+: analysis\.check_resources\[0\]: "cpu_feelings" is not a metric/);
    expect(problems(`${HEAD}analysis:\n  steps: [query_per_service_connections, read_tea_leaves]\n${STEPS}`)).toMatch(/analysis\.steps\[1\]: unknown analysis step "read_tea_leaves"/);
    expect(problems(`${HEAD}analysis:\n  check_recent_deploys: { services: [trading-api], time_window: soon }\n${STEPS}`)).toMatch(/time_window: "soon" is not a duration/);
    expect(problems(`${HEAD}analysis:\n  - question: q\n    check: pair_distribution\n${STEPS}`)).toMatch(/analysis\[0\]\.pairs: pair_distribution needs the trading pairs/);
  });
});
