/**
 * The drill world: the seed's exchange publishing its metrics into the local metric store, with
 * dynamics driven by what really happens to it, so the agent's real actions move the numbers:
 * - trading-api and market-data-ws load is CPU demand on the Kubernetes sandbox, whose HPA
 *   controller scales within maxReplicas; p99 follows the load per *ready* pod, so raising the HPA
 *   ceiling lowers p99 once the new pods are Ready; rate limiting (update_config) caps what the
 *   API serves and switching off degradable features (feature_flags) lowers the cost per request;
 * - the matching engine's latency comes from the image its ready pods run: a bad release raises
 *   it, and a rollback (kubectl_rollout_undo) restores it pod by pod as the rollout proceeds;
 * - trading-api pods whose working set exceeds their container's memory limit are OOM-killed
 *   (restart count, lastState OOMKilled) until a larger limit (kubectl_patch) is rolled out;
 * - the order-events consumer lag grows when production outruns the ready order-consumer pods
 *   (kubectl_scale adds consumers, which drain it);
 * - the order-book database is a private MariaDB (./mariadb): connections are really opened by
 *   the services' database users, leaked ones really sit idle, rds_connections is the server's
 *   own count and max_connections its own setting; a KILL lowers the count, and a rolling
 *   restart of the leaking service closes the connections its old pods held;
 * - the cache is the real Redis (one database number): keys are really written, and
 *   redis_memory_usage is what they use (MEMORY USAGE) over the simulated node's maxmemory, so
 *   UNLINK of cache:* keys lowers it.
 * Faults (`inject*`) change the world's causes, never the metrics directly.
 */
import type { Redis } from 'ioredis';
import type * as mysql from 'mysql2/promise';
import { nodeTypeMemoryGiB } from '../../actions/elasticache/local-replication-groups';
import type { ConfigOps, ElastiCacheOps } from '../../actions/ports';
import { parseQuantity } from '../../actions/quantity';
import type { MetricInput } from '../../metrics';
import { TYPES, type KubeCluster } from '../kube';
import type { SimClock } from './clock';
import { SimulatedConsumerGroup } from './kafka';
import { DrillDatabaseError, type DrillDatabase } from './mariadb';

type Pod = { metadata: { name: string; namespace: string; labels?: Record<string, string>; deletionTimestamp?: string; creationTimestamp?: string }; spec: { containers: { image: string; resources?: { limits?: { memory?: string } } }[] }; status?: { conditions?: { type: string; status: string }[] } };

/** Where the world's metrics go (the engine's LocalMetricStore). */
export interface MetricSink {
  put(input: readonly MetricInput[]): void;
}

export interface ExchangeWorldOptions {
  readonly clock: SimClock;
  readonly cluster: KubeCluster;
  readonly metrics: MetricSink;
  /** The store update_config and feature_flags write (the same one the agent's actions use). */
  readonly config: ConfigOps;
  /** The order-book database (scenario 3). */
  readonly db?: DrillDatabase;
  /** The cache Redis, on the drill's database number (scenario 4). */
  readonly redis?: Redis;
  /**
   * The cache's replication group (the same one elasticache_modify acts on): its node type sizes
   * the simulated maxmemory, so a scale-up lowers redis_memory_usage. @default - always cache.r6g.large
   */
  readonly cacheGroup?: Pick<ElastiCacheOps, 'describe'>;
  /** Seconds of simulated time between ticks. @default 10 */
  readonly tickSeconds?: number;
  log?(line: string): void;
}

/** Baselines of the exchange (a quiet hour). */
export const BASELINE = {
  requestRate: 2000,
  websocketConnections: 120_000,
  tradingCores: 1.6,
  marketDataCores: 3.6,
  matchLatencyMs: 2.1,
  queueDepth: 800,
  kafkaProduction: 2500,
} as const;

/** The simulated cache node's maxmemory (scaled down from a cache.r6g.large so the drill writes megabytes, not gigabytes). */
export const REDIS_MAXMEMORY = 16 * 1024 * 1024;
/** The node type {@link REDIS_MAXMEMORY} stands for; a larger one has proportionally more. */
const REDIS_NODE_TYPE = 'cache.r6g.large';
/** Size of one value the world writes to Redis. */
const VALUE_BYTES = 512 * 1024;
/** CPU one trading-api pod serves comfortably (its request); p99 climbs as the load per ready pod nears it. */
const TRADING_POD_CORES = 0.5;

const ns = { trading: 'trading', marketData: 'market-data' } as const;

export class ExchangeWorld {
  public readonly kafka: SimulatedConsumerGroup;
  /** Traffic multiplier over the baseline, as a function of simulated ms since the fault. */
  private traffic: (sinceMs: number) => number = () => 1;
  private websockets: (sinceMs: number) => number = () => 1;
  private faultAt = 0;
  /** Latency added by a slow dependency of trading-api (service-breaker drill), ms. */
  private dependencyMs = 0;
  /** Image tag whose matching-engine pods are slow, and extra network latency for every match. */
  private badMatchingTag?: string;
  private matchingDeployAt = 0;
  private networkPenaltyMs = 0;
  /** trading-api working set per pod, bytes (OOM when above a pod's limit). */
  private tradingWorkingSet = 0;
  private lastOomAt = 0;
  private oomKills = 0;
  private restarts = 0;
  private lastRestartCounts = new Map<string, number>();
  /** Leaked order_svc connections by the pod that leaked them. */
  private readonly leaked: { conn: mysql.Connection; pod: string; closed: boolean }[] = [];
  private readonly pool: { conn: mysql.Connection; closed: boolean }[] = [];
  private leakPerMinute = 0;
  private leakCarry = 0;
  private monitor?: mysql.Connection;
  private redisKeys = new Set<string>();
  private lastMinute = -1;
  private lastTickAt = 0;
  private configReadAt = 0;
  private lastSlot = 0;
  private rateLimited = false;
  private degraded = 0;
  private running = false;
  private loop?: Promise<void>;
  /** Errors of the world's own loop (a world bug, or a lost server): the runner reports them. */
  public readonly errors: Error[] = [];
  /** The latest values published, for the terminal and the drill's checks. */
  public readonly latest: Record<string, number> = {};

  public constructor(private readonly o: ExchangeWorldOptions) {
    this.kafka = new SimulatedConsumerGroup({ group: 'order-events', topic: 'order-events', partitions: 12, deployment: 'order-consumer', service: 'order-consumer', readyConsumers: () => this.readyPods(ns.trading, 'order-consumer').length });
    this.kafka.productionRate = BASELINE.kafkaProduction;
  }

  private get now(): number {
    return this.o.clock.nowMs();
  }

  // ---------------------------------------------------------------------------------------------
  // Life cycle
  // ---------------------------------------------------------------------------------------------

  /** Connects what the world holds (database pool, cache), publishes last week's hour for the baselines, and starts ticking. */
  public async start(): Promise<void> {
    if (this.o.db) {
      this.monitor = await this.o.db.connect('rdsmonitor');
      this.monitor.on('error', () => undefined);
      for (let i = 0; i < 20; i += 1) {
        const conn = await this.o.db.connect('trading_api');
        const entry = { conn, closed: false };
        conn.on('error', () => (entry.closed = true));
        this.pool.push(entry);
      }
      this.keepBusy();
    }
    if (this.o.redis) {
      // Sessions: what the cache holds on a quiet day.
      await this.writeKeys('session', 12);
    }
    this.publishLastWeek();
    this.running = true;
    this.lastTickAt = this.now;
    this.loop = this.run();
  }

  public async stop(): Promise<void> {
    this.running = false;
    if (this.keepAlive) clearInterval(this.keepAlive);
    await this.loop;
    for (const c of [...this.leaked, ...this.pool]) {
      if (!c.closed) await c.conn.end().catch(() => undefined);
      c.closed = true;
    }
    await this.monitor?.end().catch(() => undefined);
    if (this.o.redis && this.redisKeys.size > 0) await this.o.redis.unlink(...this.redisKeys).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const step = (this.o.tickSeconds ?? 10) * 1000;
    while (this.running) {
      const next = Math.floor(this.now / step) * step + step;
      await this.o.clock.until(next);
      if (!this.running) break;
      try {
        await this.tick();
      } catch (err) {
        this.errors.push(err as Error);
        this.o.log?.(`drill world: ${(err as Error).message}`);
      }
      for (const listener of this.listeners) await listener();
    }
  }

  private readonly listeners: (() => Promise<void>)[] = [];

  /** Called after every tick (the runner evaluates the alarms there). */
  public onTick(listener: () => Promise<void>): void {
    this.listeners.push(listener);
  }

  // ---------------------------------------------------------------------------------------------
  // Faults
  // ---------------------------------------------------------------------------------------------

  private fault(): number {
    this.faultAt = this.now;
    return this.faultAt;
  }

  /** Scenario 1: a market move multiplies API and WebSocket traffic for `holdMinutes`, then it ebbs (half-life ~1 min). */
  public injectTrafficSurge(factor = 6, holdMinutes = 6, wsFactor = 2.6): void {
    this.fault();
    const ebb = (peak: number) => (since: number) => (since < holdMinutes * 60_000 ? peak : 1 + (peak - 1) * Math.exp(-(since - holdMinutes * 60_000) / 90_000));
    this.traffic = ebb(factor);
    this.websockets = ebb(wsFactor);
  }

  /** Service breaker: heavy traffic that does not ebb, and a slow dependency behind trading-api that no scaling or limit fixes. */
  public injectSlowDependency(factor = 4, dependencyMs = 700): void {
    this.fault();
    this.traffic = () => factor;
    this.websockets = () => 2.4;
    this.dependencyMs = dependencyMs;
  }

  /**
   * Scenario 2: CI/CD rolls out a matching-engine release; once its pods serve, their order-book
   * cache thrashes and matching slows a little more every minute. Resolves when the rollout is complete.
   */
  public async injectBadMatchingRelease(tag = 'v5.13.0'): Promise<void> {
    this.fault();
    this.badMatchingTag = tag;
    this.o.cluster.deploy(ns.trading, 'matching-engine', tag);
    while (!this.o.cluster.rolledOut(ns.trading, 'matching-engine')) await this.o.clock.sleep(5);
    this.matchingDeployAt = this.now;
  }

  /** Global breaker: an availability zone's network degrades: every match pays the round trip. */
  public injectNetworkDegradation(penaltyMs = 30): void {
    this.fault();
    this.networkPenaltyMs = penaltyMs;
  }

  public clearNetworkDegradation(): void {
    this.networkPenaltyMs = 0;
  }

  /**
   * Scenario 3: an order-service release leaks database connections: `burst` at once (a retry
   * storm opened them and never gave them back), then `perMinute` more.
   */
  public async injectConnectionLeak(burst = 48, perMinute = 2): Promise<void> {
    if (!this.o.db) throw new DrillDatabaseError('the connection-leak fault needs the drill database');
    this.fault();
    for (let i = 0; i < burst; i += 1) await this.leakOne();
    this.leakPerMinute = perMinute;
  }

  /** Scenario 4: market-data snapshots fill the cache (cache:* keys really written). */
  public async injectCacheFill(keys = 17): Promise<void> {
    if (!this.o.redis) throw new DrillDatabaseError('the cache-fill fault needs the drill Redis (the world was made without one)');
    this.fault();
    await this.writeKeys('cache:marketdata', keys);
  }

  /** Scenario 5: order volume outruns the consumers. */
  public injectOrderVolume(messagesPerSecond = 4000): void {
    this.fault();
    this.kafka.productionRate = messagesPerSecond;
  }

  /** Scenario 6: a request mix that needs more memory than trading-api's limit (2Gi): pods are OOM-killed. */
  public injectMemoryGrowth(workingSetBytes = 2.2 * 1024 ** 3): void {
    this.fault();
    this.tradingWorkingSet = workingSetBytes;
  }

  public get faultStartedAt(): number {
    return this.faultAt;
  }

  // ---------------------------------------------------------------------------------------------
  // The tick
  // ---------------------------------------------------------------------------------------------

  private readyPods(namespace: string, app: string): Pod[] {
    return this.o.cluster.store.list(TYPES.pods, { namespace, labelSelector: `app=${app}` }).filter((p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True')) as unknown as Pod[];
  }

  private async tick(): Promise<void> {
    const now = this.now;
    const dt = Math.max(0, (now - this.lastTickAt) / 1000);
    this.lastTickAt = now;
    const since = now - this.faultAt;
    const out: MetricInput[] = [];
    const put = (name: string, value: number, service?: string) => {
      this.latest[name] = value;
      out.push({ name, value, at: new Date(now), ...(service ? { service } : {}) });
    };

    // Trading API: traffic, what rate limiting and degraded features leave of it, CPU demand.
    // The configuration the agent changes, read every 30 s (as a service polls its config).
    if (now - this.configReadAt >= 30_000) {
      this.configReadAt = now;
      this.rateLimited = (await this.o.config.get('trading-api', 'rate_limit_enabled')) === 'true';
      const flags = await this.o.config.getFlags(['market_history_api', 'leaderboard_api', 'notification_service']);
      this.degraded = Object.values(flags).filter((v) => v === false).length;
    }
    const { rateLimited, degraded } = this;
    const offered = BASELINE.requestRate * this.traffic(since);
    // Per-user limits cut the heaviest users (bots, scrapers) first: about what 2.5× the baseline leaves.
    const served = rateLimited ? Math.min(offered, BASELINE.requestRate * 2.5) : offered;
    const costPerRequest = 1 - 0.08 * degraded;
    const tradingCores = BASELINE.tradingCores * (served / BASELINE.requestRate) * costPerRequest;
    this.o.cluster.setLoad(ns.trading, 'trading-api', { demandCores: tradingCores });
    const tradingReady = this.readyPods(ns.trading, 'trading-api').length;
    const rho = tradingCores / Math.max(1, tradingReady * TRADING_POD_CORES);
    const p99 = 40 / (1 - Math.min(rho, 0.96)) + this.dependencyMs;
    const errorRate = rho > 0.9 ? Math.min(25, (rho - 0.9) * 100) : 0.1;
    const ws = BASELINE.websocketConnections * this.websockets(since);
    this.o.cluster.setLoad(ns.marketData, 'market-data-ws', { demandCores: BASELINE.marketDataCores * (ws / BASELINE.websocketConnections) });

    // Matching engine (high resolution, every tick): the share of ready pods on the bad release.
    const mePods = this.readyPods(ns.trading, 'matching-engine');
    const bad = this.badMatchingTag ? mePods.filter((p) => p.spec.containers[0]?.image.endsWith(`:${this.badMatchingTag}`)).length / Math.max(1, mePods.length) : 0;
    // The bad release degrades as its order-book cache thrashes: its latency creeps up 5 ms a
    // minute once rolled out (the seed's "持续上升趋势"), crossing 10 ms about 100 s in.
    const creep = bad > 0 && this.matchingDeployAt > 0 ? Math.min(80, 5 * ((now - this.matchingDeployAt) / 60_000)) : 0;
    const match = BASELINE.matchLatencyMs + bad * creep + this.networkPenaltyMs;
    // High resolution: a point for every 10 s slot since the last tick, even when the machine was
    // too busy to tick on time (a missed slot would read as missing data, which it is not).
    const slot = 10_000;
    const from = this.lastSlot ? this.lastSlot + slot : Math.floor(now / slot) * slot;
    for (let t = from; t <= now; t += slot) {
      out.push({ name: 'matching_engine_latency_p99', value: round(match, 2), at: new Date(t) });
      out.push({ name: 'matching_engine_queue_depth', value: Math.round(BASELINE.queueDepth + bad * creep * 200 + this.networkPenaltyMs * 150), at: new Date(t) });
      this.lastSlot = t;
    }
    this.latest.matching_engine_latency_p99 = round(match, 2);

    // OOM kills: pods whose memory limit is below the working set, one every 30 s.
    if (this.tradingWorkingSet > 0 && now - this.lastOomAt >= 30_000) {
      const hit = this.o.cluster.oomKill(ns.trading, 'trading-api', 1, (pod) => parseQuantity(pod.spec.containers[0]?.resources?.limits?.memory ?? '2Gi') < this.tradingWorkingSet);
      if (hit.length) {
        this.lastOomAt = now;
        this.oomKills += hit.length;
      }
    }
    const limitOf = (pod: Pod) => parseQuantity(pod.spec.containers[0]?.resources?.limits?.memory ?? '2Gi');
    const tradingPods = this.o.cluster.store.list(TYPES.pods, { namespace: ns.trading, labelSelector: 'app=trading-api' }) as unknown as (Pod & { status: { containerStatuses?: { restartCount: number }[] } })[];
    if (this.tradingWorkingSet > 0) {
      const ratio = Math.max(...tradingPods.map((p) => Math.min(1, this.tradingWorkingSet / limitOf(p))), 0.62);
      this.o.cluster.setLoad(ns.trading, 'trading-api', { memoryRatio: ratio });
    }
    for (const p of tradingPods) {
      const count = p.status?.containerStatuses?.[0]?.restartCount ?? 0;
      const before = this.lastRestartCounts.get(p.metadata.name) ?? count;
      if (count > before) this.restarts += count - before;
      this.lastRestartCounts.set(p.metadata.name, count);
    }

    // Kafka offsets.
    this.kafka.advance(dt);

    // The order-book database: the pool stays busy, leaked connections stay idle.
    if (this.o.db) await this.tickDatabase(now);

    // One-minute metrics, once a minute (the catalogue's 60 s periods), published 10 s before the period ends.
    const minute = Math.floor((now - 50_000) / 60_000);
    if (minute !== this.lastMinute) {
      // Minutes the machine was too busy to tick in get this minute's values (never a gap that reads as missing data).
      const missed = this.lastMinute >= 0 ? Math.min(10, minute - this.lastMinute - 1) : 0;
      const firstOut = out.length;
      this.lastMinute = minute;
      put('api_request_rate', Math.round(served), 'trading-api');
      put('api_latency_p99', round(p99, 1), 'trading-api');
      put('api_error_rate', round(errorRate, 2), 'trading-api');
      // Market data's streams, and the trading API's own user streams (the rule reads the incident's service).
      put('websocket_connections', Math.round(ws), 'market-data-ws');
      put('websocket_connections', Math.round(ws * 0.25), 'trading-api');
      put('kafka_consumer_lag', this.kafka.lag);
      put('pod_oom_killed', this.oomKills, 'trading-api');
      put('pod_restart_count_1h', this.restarts, 'trading-api');
      this.oomKills = 0;
      this.restarts = 0;
      const load = this.o.cluster.loadOf(ns.trading, 'matching-engine');
      put('matching_engine_gc_pause_duration', load?.gcPauseMs ?? 0);
      put('matching_engine_thread_count', load?.threads ?? 0);
      if (this.o.db && this.monitor) {
        const [[row]] = (await this.monitor.query('SELECT COUNT(*) AS n, @@max_connections AS max FROM information_schema.processlist')) as unknown as [{ n: number; max: number }[]];
        put('rds_connections', Number(row?.n ?? 0));
        put('rds_max_connections', Number(row?.max ?? 0));
      }
      if (this.o.redis) {
        const used = await this.redisBytes();
        put('redis_memory_usage', round((used / (await this.redisMaxmemory())) * 100, 1));
        put('redis_evicted_keys', 0);
      }
      const fresh = out.slice(firstOut);
      for (let k = 1; k <= missed; k += 1) out.push(...fresh.map((m) => ({ ...m, at: new Date((minute - k) * 60_000 + 50_000) })));
    }
    this.o.metrics.put(out);
  }

  /** Last week's same hour (the alarms' and conditions' `baseline`): a quiet hour, one point a minute. */
  private publishLastWeek(): void {
    const week = 7 * 86400_000;
    const out: MetricInput[] = [];
    const start = Math.floor((this.now - week - 45 * 60_000) / 60_000) * 60_000;
    for (let t = start; t <= this.now - week + 90 * 60_000; t += 60_000) {
      const wobble = 1 + 0.04 * Math.sin(t / 600_000);
      out.push({ name: 'api_request_rate', service: 'trading-api', value: Math.round(BASELINE.requestRate * wobble), at: new Date(t) });
      out.push({ name: 'websocket_connections', service: 'market-data-ws', value: Math.round(BASELINE.websocketConnections * wobble), at: new Date(t) });
      out.push({ name: 'websocket_connections', service: 'trading-api', value: Math.round(BASELINE.websocketConnections * 0.25 * wobble), at: new Date(t) });
    }
    this.o.metrics.put(out);
  }

  private async tickDatabase(now: number): Promise<void> {
    // Pods of order-service that are gone take their connections with them.
    const live = new Set(this.o.cluster.store.list(TYPES.pods, { namespace: ns.trading, labelSelector: 'app=order-service' }).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name));
    for (const l of this.leaked) {
      if (!l.closed && !live.has(l.pod)) {
        l.closed = true;
        await l.conn.end().catch(() => undefined);
      }
    }
    if (this.leakPerMinute > 0) {
      this.leakCarry += (this.leakPerMinute * (now - (this.lastLeakAt || now))) / 60_000;
      this.lastLeakAt = now;
      while (this.leakCarry >= 1) {
        this.leakCarry -= 1;
        await this.leakOne();
      }
    }
  }

  /**
   * The healthy pool (and the monitor) run queries all the time: their connections are never idle
   * long. On a timer of real time, because the database's clock runs at the drill's speed even
   * while the simulated clock runs at real speed (the agent working): at most 60 of its seconds apart.
   */
  private keepBusy(): void {
    const everyMs = Math.max(20, Math.min(10_000, 60_000 / this.o.clock.speed));
    this.keepAlive = setInterval(() => {
      for (const p of this.pool) if (!p.closed) p.conn.query('SELECT 1').catch(() => (p.closed = true));
      this.monitor?.query('SELECT 1').catch(() => undefined);
    }, everyMs);
    this.keepAlive.unref();
  }

  private keepAlive?: NodeJS.Timeout;

  private lastLeakAt = 0;

  private async leakOne(): Promise<void> {
    const pods = [...this.o.cluster.store.list(TYPES.pods, { namespace: ns.trading, labelSelector: 'app=order-service' })].filter((p) => !p.metadata.deletionTimestamp);
    const pod = pods[this.leaked.length % Math.max(1, pods.length)]?.metadata.name ?? 'order-service';
    const conn = await this.o.db!.connect('order_svc');
    const entry = { conn, pod, closed: false };
    // A KILL ends it on the server: the client sees the connection lost.
    conn.on('error', () => (entry.closed = true));
    await conn.query('SELECT 1');
    this.leaked.push(entry);
  }

  /** Leaked connections still open on the client side. */
  public get leakedOpen(): number {
    return this.leaked.filter((l) => !l.closed).length;
  }

  private async writeKeys(prefix: string, count: number): Promise<void> {
    const redis = this.o.redis!;
    const value = 'x'.repeat(VALUE_BYTES);
    const pipeline = redis.pipeline();
    for (let i = 0; i < count; i += 1) {
      const key = `${prefix}:${i.toString().padStart(4, '0')}`;
      this.redisKeys.add(key);
      pipeline.set(key, value);
    }
    await pipeline.exec();
  }

  /** Bytes the world's keys use now (MEMORY USAGE; an unlinked key uses nothing). */
  /** The simulated node's maxmemory for the group's node type now. */
  private async redisMaxmemory(): Promise<number> {
    const nodeType = this.o.cacheGroup ? (await this.o.cacheGroup.describe()).nodeType : REDIS_NODE_TYPE;
    return Math.round((REDIS_MAXMEMORY * (nodeTypeMemoryGiB(nodeType) ?? 0)) / (nodeTypeMemoryGiB(REDIS_NODE_TYPE) as number)) || REDIS_MAXMEMORY;
  }

  private async redisBytes(): Promise<number> {
    const redis = this.o.redis!;
    const keys = [...this.redisKeys];
    if (keys.length === 0) return 0;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.call('MEMORY', 'USAGE', k);
    const results = (await pipeline.exec()) ?? [];
    return results.reduce((sum, [err, v]) => sum + (err || v === null ? 0 : Number(v)), 0);
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
