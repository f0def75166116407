/**
 * The investigation's read-only checks (issue 13), one function per kind of
 * lib/compiled/manifest.ts INVESTIGATION_CHECK_KINDS. Each reads through a port (Kubernetes,
 * MySQL, Redis, Kafka, certificates, metrics), never writes, and returns compact data for the
 * conclusion; a port that is not configured makes the check `skipped`, never a guess.
 */
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { CertificateOps, KafkaOps, KubeOps, KubeRef } from '../actions/ports';
import type { RedisTarget } from '../actions/redis/nodes';
import { findBigKeys, readMemoryState } from '../actions/redis_analysis';
import { masterNodes } from '../actions/redis/nodes';
import { analyseConnections } from '../actions/rds/analysis';
import type { InvestigationCheckSpec } from '../compiled/manifest';
import type { MetricCatalogue } from '../playbook/catalogue';
import type { MetricSource } from '../metrics/source';
import type { ServiceMap } from '../policy/services';
import { parseDuration } from '../yaml';

/** The systems the checks may read. Each is optional: a check whose system is absent is skipped. */
export interface CheckPorts {
  readonly kube?: KubeOps;
  readonly mysql?: Pool;
  readonly redis?: RedisTarget;
  readonly kafka?: KafkaOps;
  readonly certificates?: CertificateOps;
  readonly metrics: MetricSource;
  readonly catalogue: MetricCatalogue;
  readonly services: ServiceMap;
}

/** What a check knows of the incident (from stored state). */
export interface CheckIncident {
  readonly id: string;
  readonly service: string;
  /** When the anomaly began (the alarm's first breaching datapoint). */
  readonly anomalyStartedAt: string;
  readonly detectedAt: string;
}

/** What one check returns: its data, or why it has none. */
export interface CheckOutcome {
  readonly name: string;
  readonly kind: InvestigationCheckSpec['kind'];
  readonly status: 'ok' | 'skipped' | 'failed' | 'timed_out';
  readonly error?: string;
  readonly data?: Record<string, unknown>;
}

/** A check cannot run here (its system is not configured). */
export class CheckSkipped extends Error {
  public constructor(reason: string) {
    super(reason);
    this.name = 'CheckSkipped';
  }
}

/** Points kept per series in a check's data (the execution's state must stay small). */
export const MAX_POINTS = 120;

function need<T>(port: T | undefined, what: string): T {
  if (port === undefined) throw new CheckSkipped(`${what} is not configured`);
  return port;
}

function refOf(services: ServiceMap, service: string): KubeRef | undefined {
  const e = services.entry(service);
  return e.kubernetes ? { namespace: e.namespace, name: e.deployment } : undefined;
}

/** `[epochSeconds, value]` pairs, the last MAX_POINTS of the window. */
async function seriesOf(ports: CheckPorts, metric: string, service: string | undefined, from: Date, to: Date): Promise<[number, number][]> {
  const points = await ports.metrics.series({ name: metric, ...(service ? { service } : {}), from, to });
  return points.slice(-MAX_POINTS).map((p) => [Math.round(p.at.getTime() / 1000), p.value]);
}

/** Latest value in the last two periods, and the catalogue's baseline (mean over its window, its offset ago). */
async function nowAndBaseline(ports: CheckPorts, metric: string, service: string | undefined, now: Date): Promise<{ metric: string; unit: string; now?: number; baseline?: number }> {
  const spec = ports.catalogue.metrics[metric];
  const period = spec?.period ?? 60;
  const recent = await ports.metrics.series({ name: metric, ...(service ? { service } : {}), from: new Date(now.getTime() - 2 * period * 1000), to: now });
  const out: { metric: string; unit: string; now?: number; baseline?: number } = { metric, unit: spec?.unit ?? 'None' };
  const last = recent.at(-1);
  if (last) out.now = last.value;
  const def = ports.catalogue.baseline;
  if (def) {
    const centre = now.getTime() - (parseDuration(def.offset) ?? 0) * 1000;
    const half = ((parseDuration(def.window) ?? 3600) * 1000) / 2;
    const base = await ports.metrics.series({ name: metric, ...(service ? { service } : {}), from: new Date(centre - half), to: new Date(centre + half) });
    if (base.length > 0) out.baseline = base.reduce((a, b) => a + b.value, 0) / base.length;
  }
  return out;
}

async function recentDeploys(kube: KubeOps, services: ServiceMap, names: readonly string[], windowSeconds: number, now: Date): Promise<Record<string, unknown>[]> {
  const refs = names.map((s) => ({ s, ref: refOf(services, s) })).filter((x): x is { s: string; ref: KubeRef } => !!x.ref);
  if (refs.length === 0) return [];
  const deploys = await kube.recentDeploys(refs.map((r) => r.ref), windowSeconds, now);
  return deploys.map((d) => ({
    service: refs.find((r) => r.ref.namespace === d.namespace && r.ref.name === d.deployment)?.s ?? d.deployment,
    deployment: `${d.namespace}/${d.deployment}`,
    revision: d.revision,
    at: d.at,
    change: d.change,
    images: d.images,
    previousImages: d.previousImages,
  }));
}

type CheckFn = (spec: InvestigationCheckSpec, incident: CheckIncident, ports: CheckPorts, now: Date) => Promise<Record<string, unknown>>;

const CHECKS: Readonly<Record<InvestigationCheckSpec['kind'], CheckFn>> = {
  async recent_deploys(spec, incident, ports, now) {
    const kube = need(ports.kube, 'Kubernetes');
    const names = spec.services ?? [incident.service];
    if (!names.some((s) => refOf(ports.services, s))) throw new CheckSkipped(`${names.join(', ')}: not a Kubernetes service of the service map`);
    const windowSeconds = spec.windowSeconds ?? 1800;
    // The window reaches back from the anomaly's start, not from now: a deploy before it is the question.
    const since = Math.round((now.getTime() - Date.parse(incident.anomalyStartedAt)) / 1000) + windowSeconds;
    const deploys = await recentDeploys(kube, ports.services, names, since, now);
    const own = refOf(ports.services, incident.service);
    const replicas = own ? await kube.readDeployment(own).then((d) => d.replicas).catch(() => undefined) : undefined;
    return { services: names, windowSeconds, deploys, ...(replicas !== undefined ? { replicas } : {}) };
  },

  async anomaly_metric(spec, incident, ports, now) {
    const metric = spec.metrics?.[0];
    if (!metric) throw new CheckSkipped('no anomaly metric');
    const windowSeconds = spec.windowSeconds ?? 3600;
    const from = new Date(Math.min(now.getTime() - windowSeconds * 1000, Date.parse(incident.anomalyStartedAt) - 1800_000));
    const points = await seriesOf(ports, metric, incident.service, from, now);
    const thresholds: { value: number; source: string }[] = [];
    for (const t of spec.thresholds ?? []) {
      if (t.value !== undefined) thresholds.push({ value: t.value, source: t.source });
      else if (t.factor !== undefined && t.of) {
        const of = await nowAndBaseline(ports, t.of, incident.service, now);
        if (of.now !== undefined) thresholds.push({ value: t.factor * of.now, source: t.source });
      }
    }
    // Market activity for the risk score: the service's request rate against its baseline.
    const activity = ports.catalogue.metrics.api_request_rate ? await nowAndBaseline(ports, 'api_request_rate', incident.service, now) : undefined;
    return { metric, unit: ports.catalogue.metrics[metric]?.unit ?? 'None', points, thresholds, ...(activity?.now !== undefined && activity.baseline ? { activityRatio: activity.now / activity.baseline } : {}) };
  },

  async traffic_vs_cpu(spec, incident, ports, now) {
    const [alb, requests, cpu] = await Promise.all(['alb_active_connections', 'api_request_rate', 'pod_cpu_usage'].map((m) => (ports.catalogue.metrics[m] ? nowAndBaseline(ports, m, incident.service, now) : Promise.resolve(undefined))));
    let cpuShare = cpu?.now;
    let cpuSource = 'metric pod_cpu_usage';
    const ref = refOf(ports.services, incident.service);
    if (cpuShare === undefined && ports.kube && ref) {
      // The metrics API: CPU used over the limit (or request), averaged over the pods.
      const usage = await ports.kube.podUsage(ref);
      const shares = usage.filter((u) => u.cpuLimit).map((u) => u.cpuCores / (u.cpuLimit as number));
      if (shares.length) cpuShare = shares.reduce((a, b) => a + b, 0) / shares.length;
      cpuSource = 'kube metrics API';
    }
    if (alb?.now === undefined && requests?.now === undefined && cpuShare === undefined) throw new CheckSkipped('no ALB, request-rate or CPU data');
    return { question: spec.question ?? null, alb, requests, cpuShare: cpuShare ?? null, cpuSource };
  },

  async pair_distribution(spec, _incident, ports, now) {
    const pairs = await Promise.all((spec.pairs ?? []).map(async (pair) => ({ pair, ...(await nowAndBaseline(ports, spec.metrics?.[0] ?? 'pair_request_rate', pair, now)) })));
    const known = pairs.filter((p) => p.now !== undefined && p.baseline !== undefined).map((p) => ({ pair: p.pair, now: p.now as number, baseline: p.baseline as number }));
    if (known.length === 0) throw new CheckSkipped('no per-pair request rates with a baseline');
    return { question: spec.question ?? null, pairs: known, missing: pairs.filter((p) => p.now === undefined || p.baseline === undefined).map((p) => p.pair) };
  },

  async capacity(spec, incident, ports) {
    const kube = need(ports.kube, 'Kubernetes');
    const names = spec.services ?? [incident.service];
    const hpas = [];
    for (const s of names) {
      const ref = refOf(ports.services, s);
      if (!ref) continue;
      const h = await kube.readHpa(ref).catch((e: Error) => ({ error: e.message }));
      hpas.push('error' in h ? { service: s, error: h.error } : { service: s, current: h.currentReplicas, desired: h.desiredReplicas, max: h.maxReplicas, atCeiling: h.atCeiling, cpuUtilization: h.cpuUtilization ?? null });
    }
    const own = refOf(ports.services, names[0] ?? incident.service);
    const headroom = await kube.nodeHeadroom(own);
    return { question: spec.question ?? null, hpas, headroom: { cpuFree: headroom.cpuAllocatable - headroom.cpuRequested, memoryFreeBytes: headroom.memoryAllocatableBytes - headroom.memoryRequestedBytes, podsThatFit: headroom.podsThatFit ?? null, nodes: headroom.nodes.length } };
  },

  async resources(spec, incident, ports, now) {
    return { metrics: await Promise.all((spec.metrics ?? []).map((m) => nowAndBaseline(ports, m, incident.service, now))) };
  },
  async dependencies(spec, incident, ports, now) {
    return { metrics: await Promise.all((spec.metrics ?? []).map((m) => nowAndBaseline(ports, m, incident.service, now))) };
  },
  async traffic(spec, incident, ports, now) {
    return { metrics: await Promise.all((spec.metrics ?? []).map((m) => nowAndBaseline(ports, m, incident.service, now))) };
  },

  async db_connections(spec, incident, ports, now) {
    const pool = need(ports.mysql, 'MySQL / RDS');
    let conn: PoolConnection | undefined;
    try {
      conn = await pool.getConnection();
      const a = await analyseConnections(conn, ports.services, { limit: 3 });
      const total = Object.values(a.by_service).reduce((x, y) => x + y, 0);
      // identified_leaking_service joined with its deploys: does a recent rollout of it explain the leak?
      let leakingDeploys: Record<string, unknown>[] | null = null;
      if (a.leaking_service && ports.kube) {
        const since = Math.round((now.getTime() - Date.parse(incident.anomalyStartedAt)) / 1000) + (spec.windowSeconds ?? 1800);
        leakingDeploys = await recentDeploys(ports.kube, ports.services, [a.leaking_service], since, now);
      }
      return {
        connections: a.connections,
        max: a.max,
        usage: a.usage,
        by_service: a.by_service,
        by_host: Object.fromEntries(Object.entries(a.by_host).sort((x, y) => y[1] - x[1]).slice(0, 5)),
        total,
        sleeping: a.sleeping,
        identified_leaking_service: a.leaking_service,
        leaking_user: a.leaking_user,
        long_transactions: a.long_transactions,
        slow_queries: a.slow_queries,
        pool: a.pool,
        leaking_service_deploys: leakingDeploys,
        deploysChecked: !!(a.leaking_service && ports.kube),
      };
    } finally {
      conn?.release();
    }
  },

  async redis_memory(_spec, _incident, ports) {
    const redis = need(ports.redis, 'Redis');
    const memory = await readMemoryState(redis);
    const big = await findBigKeys(await masterNodes(redis));
    return { used_memory: memory.used_memory, maxmemory: memory.maxmemory, usage: memory.redis_memory_usage, dbsize: memory.dbsize, evicted_keys: memory.evicted_keys, bigKeys: big.keys.slice(0, 5), scanned: big.scanned, complete: big.complete };
  },

  async kafka_lag(_spec, _incident, ports) {
    const kafka = need(ports.kafka, 'Kafka');
    const g = await kafka.describeGroup();
    return { group: g.group, lag: g.lag, lagTrend: g.lagTrend, errors: g.errors, members: g.members, unassignedPartitions: g.unassignedPartitions, deployment: g.deployment ?? null, stuckPartitions: (g.stuckPartitions ?? []).slice(0, 10) };
  },

  async pod_health(spec, incident, ports, now) {
    const kube = need(ports.kube, 'Kubernetes');
    const ref = refOf(ports.services, spec.services?.[0] ?? incident.service);
    if (!ref) throw new CheckSkipped(`${incident.service}: not a Kubernetes service of the service map`);
    const health = await kube.podHealth(ref, 3600, now);
    const memory = spec.metrics?.[0] ? await seriesOf(ports, spec.metrics[0], incident.service, new Date(now.getTime() - (spec.windowSeconds ?? 3600) * 1000), now) : [];
    return {
      deployment: `${ref.namespace}/${ref.name}`,
      restartsInWindow: health.restartsInWindow,
      restartsLowerBound: health.restartsLowerBound,
      oomKilledInWindow: health.oomKilledInWindow,
      readyPods: health.readyPods,
      desiredReplicas: health.desiredReplicas,
      memoryMetric: spec.metrics?.[0] ?? null,
      memory,
    };
  },

  async certificates(_spec, _incident, ports, now) {
    const certs = need(ports.certificates, 'certificate sources');
    const { certificates: found, unreadable } = await certs.list(certs.sources);
    const list = found.map((c) => ({ name: c.name, source: c.source, notAfter: c.notAfter, daysLeft: Math.floor((Date.parse(c.notAfter) - now.getTime()) / 86_400_000) })).sort((a, b) => a.daysLeft - b.daysLeft);
    return { certificates: list.slice(0, 20), checkedSources: certs.sources, ...(unreadable.length ? { unreadable } : {}) };
  },
};

/**
 * Runs one check. A system that is not configured makes it `skipped`; an error makes it `failed`
 * with the message (the Parallel branch records a timeout as `timed_out`). Never throws.
 */
export async function runCheck(spec: InvestigationCheckSpec, incident: CheckIncident, ports: CheckPorts, now: Date): Promise<CheckOutcome> {
  try {
    const data = await CHECKS[spec.kind](spec, incident, ports, now);
    return { name: spec.name, kind: spec.kind, status: 'ok', data };
  } catch (e) {
    const err = e as Error;
    return { name: spec.name, kind: spec.kind, status: err instanceof CheckSkipped ? 'skipped' : 'failed', error: `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` };
  }
}
