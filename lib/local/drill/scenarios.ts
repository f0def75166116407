/**
 * The drills: the seven seed scenarios and the two breakers, each a fault injected into the drill
 * world (lib/sandbox/exchange) and the path the agent is expected to take through its playbook
 * when approvals are granted (`--approve auto`). A run that takes another path fails the drill.
 */
import type { ExchangeWorld } from '../../sandbox/exchange';
import { TYPES, type KubeCluster } from '../../sandbox/kube';

/** What a step did in a run, read from the incident's timeline. */
export type StepOutcome = 'ran' | 'skipped' | 'breaker' | 'rejected' | 'refused' | 'failed' | 'not_reached';

/** What the drill expects of a step: an outcome, or `not_run` (anything but `ran`). */
export type StepExpectation = StepOutcome | 'not_run';

export interface DrillWorldView {
  readonly world: ExchangeWorld;
  readonly cluster: KubeCluster;
  /** Keys of the drill's Redis database matching a pattern. */
  redisKeys(pattern: string): Promise<string[]>;
  /** The drill database's max_connections now. */
  maxConnections(): Promise<number | undefined>;
}

export interface Scenario {
  readonly name: string;
  /** One line: the story. */
  readonly title: string;
  readonly playbook: string;
  /** How it starts: the detection alarms, or the playbook's schedule. */
  readonly trigger: 'alarm' | 'schedule';
  /**
   * Services the playbook's alarms are made for (cdk.json `detection.services[<playbook>]`).
   * @default [the playbook's service]
   */
  readonly services?: readonly string[];
  /** What the world needs beyond the Kubernetes sandbox. */
  readonly needs?: { readonly database?: boolean; readonly redis?: boolean };
  /** Metrics shown on the terminal once a simulated minute. */
  readonly watch: readonly string[];
  inject(world: ExchangeWorld): Promise<void> | void;
  /** The path, per step (for every incident of the drill). */
  readonly steps: Readonly<Record<string, StepExpectation>>;
  /** Incidents the drill opens. @default 1 */
  readonly incidents?: number;
  /** How every incident ends up: RESOLVED by the playbook, or handed to people (ESCALATED). */
  readonly outcome: 'RESOLVED' | 'ESCALATED';
  readonly breakers?: { readonly global?: 'OPEN' | 'CLOSED'; readonly service?: Readonly<Record<string, 'OPEN' | 'CLOSED'>> };
  /** Checks of the world once the drill ends: each problem found, in words. */
  check?(view: DrillWorldView): Promise<string[]>;
  /** Simulated minutes before the drill gives up. @default 40 */
  readonly maxMinutes?: number;
  /** What the drill checks, for `--help` and the README. */
  readonly checks: string;
}

const hpaMax = (c: KubeCluster, ns: string, name: string) => c.store.get(TYPES.hpas, ns, name).spec.maxReplicas as number;
const deployment = (c: KubeCluster, ns: string, name: string) => c.store.get(TYPES.deployments, ns, name);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'traffic-surge',
    title: 'a market move sends API traffic to 6× and WebSocket connections to 2.6× for six minutes',
    playbook: 'traffic-surge',
    trigger: 'alarm',
    watch: ['api_request_rate', 'api_latency_p99', 'websocket_connections'],
    inject: (w) => w.injectTrafficSurge(),
    steps: { scale_up_trading_api: 'ran', scale_up_market_data: 'ran', enable_rate_limiting: 'skipped', degrade_non_critical: 'skipped' },
    outcome: 'RESOLVED',
    checks: 'both HPA ceilings doubled without approval; p99 back under 200 ms once the new pods are Ready, so rate limiting and degradation are skipped; resolved when the surge ebbs',
    async check({ cluster, world }) {
      const problems: string[] = [];
      if (hpaMax(cluster, 'trading', 'trading-api') !== 40) problems.push(`trading-api HPA maxReplicas is ${hpaMax(cluster, 'trading', 'trading-api')}, expected 40`);
      if (hpaMax(cluster, 'market-data', 'market-data-ws') !== 64) problems.push(`market-data-ws HPA maxReplicas is ${hpaMax(cluster, 'market-data', 'market-data-ws')}, expected 64`);
      if (!(world.latest.api_latency_p99! < 200)) problems.push(`api_latency_p99 is ${world.latest.api_latency_p99} ms at the end, expected < 200`);
      return problems;
    },
  },
  {
    name: 'matching-engine-latency',
    title: 'a matching-engine release (v5.13.0) slows matching once rolled out: p99 creeps up 5 ms a minute from 2 ms',
    playbook: 'matching-engine-latency',
    trigger: 'alarm',
    watch: ['matching_engine_latency_p99', 'matching_engine_queue_depth'],
    inject: (w) => w.injectBadMatchingRelease(),
    steps: { collect_diagnostics: 'ran', trigger_manual_gc: 'skipped', rollback_matching_engine: 'ran', emergency_notification: 'skipped' },
    outcome: 'RESOLVED',
    checks: 'diagnostics find the release (recent deploy, confidence > 0.7), GC is not the cause; the rollback waits for the on-call SRE and the matching-engine owner (two people), then restores v5.12.0 pod by pod and the latency with it',
    async check({ cluster, world }) {
      const image = deployment(cluster, 'trading', 'matching-engine').spec.template.spec.containers[0].image as string;
      const problems: string[] = [];
      if (!image.endsWith(':v5.12.0')) problems.push(`matching-engine runs ${image}, expected the rollback to v5.12.0`);
      if (!(world.latest.matching_engine_latency_p99! <= 10)) problems.push(`matching_engine_latency_p99 is ${world.latest.matching_engine_latency_p99} ms at the end, expected ≤ 10`);
      return problems;
    },
  },
  {
    name: 'rds-connection-exhaustion',
    title: 'an order-service release leaks database connections: 48 at once, then 2 a minute, towards max_connections 100',
    playbook: 'rds-connection-exhaustion',
    trigger: 'alarm',
    needs: { database: true },
    watch: ['rds_connections', 'rds_max_connections'],
    inject: (w) => w.injectConnectionLeak(),
    steps: { kill_idle_connections: 'ran', restart_leaking_pods: 'ran', increase_max_connections: 'skipped' },
    outcome: 'RESOLVED',
    checks: "the seed's KILL of connections idle over 300 s really kills the leaked ones on the drill's MariaDB (and only them); the analysis names order-service; its rolling restart (approved) closes what its old pods held; max_connections is left alone",
    async check({ world, maxConnections }) {
      const problems: string[] = [];
      const max = await maxConnections();
      if (max !== 100) problems.push(`max_connections is ${max}, expected 100 (increase_max_connections must not run)`);
      if (!(world.latest.rds_connections! <= 80)) problems.push(`rds_connections is ${world.latest.rds_connections} at the end, expected ≤ 80`);
      return problems;
    },
  },
  {
    name: 'redis-memory-pressure',
    title: 'market-data snapshots (cache:* keys, really written) fill the cache to 90% of maxmemory',
    playbook: 'redis-memory-pressure',
    trigger: 'alarm',
    needs: { redis: true },
    watch: ['redis_memory_usage'],
    inject: (w) => w.injectCacheFill(),
    // `still > 85% after cleanup` waits for a datapoint newer than the cleanup, which shows 38%: skipped.
    steps: { analyze_redis_keys: 'ran', flush_expired_keys: 'ran', scale_redis_cluster: 'skipped' },
    outcome: 'RESOLVED',
    checks: 'UNLINK of cache:* on the real Redis brings usage under 85%, session:* keys untouched, so no ElastiCache scale-up is asked for',
    async check({ redisKeys, world }) {
      const problems: string[] = [];
      const cache = await redisKeys('cache:*');
      const sessions = await redisKeys('session:*');
      if (cache.length > 0) problems.push(`${cache.length} cache:* keys left, expected none`);
      if (sessions.length !== 12) problems.push(`${sessions.length} session:* keys, expected the 12 written (UNLINK only under cache:*)`);
      if (!(world.latest.redis_memory_usage! < 85)) problems.push(`redis_memory_usage is ${world.latest.redis_memory_usage}% at the end, expected < 85`);
      return problems;
    },
  },
  {
    name: 'kafka-consumer-lag',
    title: 'order volume rises to 4,000 messages/s; four consumers process 2,800',
    playbook: 'kafka-consumer-lag',
    trigger: 'alarm',
    watch: ['kafka_consumer_lag'],
    inject: (w) => w.injectOrderVolume(),
    steps: { diagnose_consumers: 'ran', scale_consumer: 'ran', restart_consumers: 'skipped' },
    outcome: 'RESOLVED',
    checks: 'consumers are healthy but slow, so order-consumer is scaled 4 → 8 without approval and the lag drains; no restart',
    async check({ cluster, world }) {
      const replicas = deployment(cluster, 'trading', 'order-consumer').spec.replicas as number;
      const problems: string[] = [];
      if (replicas !== 8) problems.push(`order-consumer has ${replicas} replicas, expected 8`);
      if (!(world.latest.kafka_consumer_lag! <= 10000)) problems.push(`kafka_consumer_lag is ${world.latest.kafka_consumer_lag} at the end, expected ≤ 10000`);
      return problems;
    },
  },
  {
    name: 'pod-oom-killed',
    title: "trading-api's working set grows to 2.2 GiB against its 2 GiB limit: a pod is OOM-killed every 30 s",
    playbook: 'pod-oom-killed',
    trigger: 'alarm',
    watch: ['pod_oom_killed', 'pod_restart_count_1h'],
    inject: (w) => w.injectMemoryGrowth(),
    steps: { capture_heap_dump: 'ran', increase_memory_limit: 'ran', create_followup_ticket: 'ran' },
    outcome: 'RESOLVED',
    checks: 'a heap dump is taken in a pod, the limit goes 2Gi → 3Gi once approved and the OOM kills stop as the new pods roll out; the follow-up ticket carries the dump path',
    async check({ cluster }) {
      const limit = deployment(cluster, 'trading', 'trading-api').spec.template.spec.containers[0].resources.limits.memory;
      return limit === '3Gi' ? [] : [`trading-api memory limit is ${limit}, expected 3Gi`];
    },
  },
  {
    name: 'certificate-expiry-warning',
    title: "the daily check: the sandbox cluster's TLS secrets include wallet-mtls (5 days left) and api-exchange-tls (21 days)",
    playbook: 'certificate-expiry-warning',
    trigger: 'schedule',
    watch: [],
    inject: () => undefined,
    steps: { check_tls_certificates: 'ran', create_renewal_ticket: 'ran' },
    outcome: 'RESOLVED',
    checks: 'the scheduled run reads the Kubernetes TLS secrets and opens renewal tickets',
  },
  {
    name: 'global-breaker',
    title: 'a bad matching-engine release raises six HIGH anomalies at once (its latency alarm, made for six services)',
    playbook: 'matching-engine-latency',
    trigger: 'alarm',
    services: ['order-service', 'trading-api', 'market-data-ws', 'settlement-service', 'wallet-service', 'matching-engine'],
    incidents: 6,
    watch: ['matching_engine_latency_p99'],
    inject: (w) => w.injectBadMatchingRelease(),
    steps: { collect_diagnostics: 'ran', trigger_manual_gc: 'skipped', rollback_matching_engine: 'not_run', emergency_notification: 'skipped' },
    outcome: 'ESCALATED',
    breakers: { global: 'OPEN' },
    checks: 'more than five HIGH anomalies open the global breaker: diagnostics (read-only) still run, the rollback (mutating) is skipped in diagnose-only mode, and the incidents go to people',
    async check({ cluster }) {
      const image = deployment(cluster, 'trading', 'matching-engine').spec.template.spec.containers[0].image as string;
      return image.endsWith(':v5.13.0') ? [] : [`matching-engine runs ${image}: nothing may roll it back in diagnose-only mode`];
    },
  },
  {
    name: 'service-breaker',
    title: 'trading-api is slow because of a dependency (+700 ms): scaling and rate limiting do not help',
    playbook: 'traffic-surge',
    trigger: 'alarm',
    watch: ['api_request_rate', 'api_latency_p99'],
    inject: (w) => w.injectSlowDependency(),
    steps: { scale_up_trading_api: 'ran', scale_up_market_data: 'ran', enable_rate_limiting: 'ran', degrade_non_critical: 'breaker' },
    outcome: 'ESCALATED',
    breakers: { global: 'CLOSED', service: { 'trading-api': 'OPEN' } },
    checks: "three remediations of trading-api within the hour without recovery open its service breaker: the fourth (degrading features) is not run, and the incident goes to people",
  },
];

export function scenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new UnknownScenarioError(name);
  return s;
}

export class UnknownScenarioError extends Error {
  public constructor(name: string) {
    super(`no drill "${name}" (known: ${SCENARIOS.map((s) => s.name).join(', ')}, or all)`);
    this.name = 'UnknownScenarioError';
  }
}
