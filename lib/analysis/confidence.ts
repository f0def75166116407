/**
 * The confidence formulas of the investigation's hypotheses: pure functions of the evidence,
 * each documented here and in the README (Investigation), each tested on constructed timelines
 * (test/unit/analysis/confidence.test.ts). Every result is in [0, MAX_CONFIDENCE]: nothing is
 * presented as certain.
 */
import type { TrendPoint } from './trend';

/** No hypothesis is ever more certain than this. */
export const MAX_CONFIDENCE = 0.95;

/** Clamps to [0, 1]. */
export function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** Rounds to two decimals and caps at MAX_CONFIDENCE. */
export function confidence(x: number): number {
  return Math.round(Math.min(MAX_CONFIDENCE, Math.max(0, x)) * 100) / 100;
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A metric's level just before and just after a moment. */
export interface StepChange {
  readonly before: number;
  readonly after: number;
  /** (after − before) / |before|; +4 is a rise of 400 %. */
  readonly relative: number;
}

/**
 * The step a metric makes at `at`: median of the points in [at − window, at) against the median of
 * those in [at, at + window]. Undefined with fewer than two points on either side.
 */
export function stepChangeAt(points: readonly TrendPoint[], at: Date, windowSeconds = 600): StepChange | undefined {
  const t = at.getTime();
  const w = windowSeconds * 1000;
  const before = median(points.filter((p) => p.at.getTime() < t && p.at.getTime() >= t - w).map((p) => p.value));
  const after = median(points.filter((p) => p.at.getTime() >= t && p.at.getTime() <= t + w).map((p) => p.value));
  const nb = points.filter((p) => p.at.getTime() < t && p.at.getTime() >= t - w).length;
  const na = points.filter((p) => p.at.getTime() >= t && p.at.getTime() <= t + w).length;
  if (before === undefined || after === undefined || nb < 2 || na < 2) return undefined;
  const relative = before === 0 ? (after === 0 ? 0 : Infinity) : (after - before) / Math.abs(before);
  return { before, after, relative };
}

/** Below this relative step the metric is taken as flat at the deploy (noise). */
export const STEP_NOISE = 0.1;

/**
 * Recent deploy → rollback hypothesis. `timeScore` is the deploy's timing score
 * (`deployConfidence` of lib/actions/kubernetes.ts: 0.95 within 5 min before the anomaly, falling
 * to 0.30 at the window's end, 0 outside it, 0.05 after the anomaly; × 0.85 for another service,
 * × 0.5 for a restart, × 0.6 for a rollback). The step the anomalous metric makes at the deploy
 * moves it:
 * - step s = clamp((relative − 0.1) / 0.9, 0, 1) (a 10 % change is noise, a doubling counts fully):
 *   c = t + (0.95 − t) · s · t / 0.95 — a step confirms the deploy in proportion to how well it is timed;
 * - the metric measured around the deploy and flat (|relative| ≤ 0.1): c = 0.8 · t;
 * - no data around the deploy: c = t.
 * No deploy in the window: {@link NO_DEPLOY_CONFIDENCE}.
 *
 * @example deployRollbackConfidence(0.69, { before: 0.05, after: 0.35, relative: 6 }) // 0.88
 */
export function deployRollbackConfidence(timeScore: number, step: StepChange | undefined): number {
  const t = clamp01(timeScore);
  if (step === undefined) return confidence(t);
  if (Math.abs(step.relative) <= STEP_NOISE) return confidence(0.8 * t);
  const s = clamp01((step.relative - STEP_NOISE) / (1 - STEP_NOISE));
  return confidence(t + (MAX_CONFIDENCE - t) * s * (t / MAX_CONFIDENCE));
}

/** The rollback hypothesis when no rollout of the services falls in the window. */
export const NO_DEPLOY_CONFIDENCE = 0.05;

/**
 * Scenario 1, question 1 (外部流量还是内部问题): traffic ratio r = requests (ALB) now / baseline,
 * CPU c = pods' CPU as a share of their limit (or request).
 * - trafficUp = clamp((r − 1) / 2) — three times the baseline (the seed's detection) counts fully;
 * - cpuHigh = clamp((c − 0.6) / 0.3) — 60 % is normal, 90 % saturated;
 * - external surge = 0.9 · trafficUp; internal problem = 0.9 · cpuHigh · (1 − trafficUp)
 *   (high CPU with normal traffic is internal; with a surge it is the surge's effect).
 * An unknown input leaves its hypothesis out (undefined).
 */
export function surgeVersusInternal(trafficRatio: number | undefined, cpuShare: number | undefined): { external?: number; internal?: number } {
  const up = trafficRatio === undefined ? undefined : clamp01((trafficRatio - 1) / 2);
  const cpu = cpuShare === undefined ? undefined : clamp01((cpuShare - 0.6) / 0.3);
  return {
    ...(up !== undefined ? { external: confidence(0.9 * up) } : {}),
    ...(cpu !== undefined ? { internal: confidence(0.9 * cpu * (1 - (up ?? 0))) } : {}),
  };
}

/**
 * Scenario 1, question 2 (全局还是局部): per trading pair, rate now and baseline.
 * - share = the largest pair's rise / the sum of all rises (rises below 0 count as 0);
 * - one pair (行情驱动) = 0.9 · clamp((share − 0.5) / 0.4) — 90 % of the growth in one pair counts fully;
 * - all pairs (全局性事件) = 0.9 · clamp((f − 0.5) / 0.5), f = share of pairs at ≥ 1.5 × their baseline.
 */
export function pairConcentration(pairs: readonly { pair: string; now: number; baseline: number }[]): { top?: string; share: number; single: number; global: number } {
  const rises = pairs.map((p) => ({ pair: p.pair, rise: Math.max(0, p.now - p.baseline) }));
  const total = rises.reduce((a, b) => a + b.rise, 0);
  const top = rises.reduce<{ pair: string; rise: number } | undefined>((a, b) => (!a || b.rise > a.rise ? b : a), undefined);
  const share = total > 0 && top ? top.rise / total : 0;
  const rising = pairs.length ? pairs.filter((p) => p.baseline > 0 && p.now >= 1.5 * p.baseline).length / pairs.length : 0;
  return { ...(top && total > 0 ? { top: top.pair } : {}), share, single: confidence(0.9 * clamp01((share - 0.5) / 0.4)), global: confidence(0.9 * clamp01((rising - 0.5) / 0.5)) };
}

/**
 * Scenario 1, question 3 (当前容量是否足够): capacity exhausted =
 * 0.9 · (0.6 · a + 0.4 · h), a = 1 at the HPA's ceiling, else clamp((current / max − 0.7) / 0.3);
 * h = clamp(1 − podsThatFit / currentReplicas): the nodes cannot take as many pods again (unknown: 0.5).
 */
export function capacityExhausted(hpa: { current: number; max: number; atCeiling: boolean } | undefined, podsThatFit: number | undefined): number {
  const a = hpa ? (hpa.atCeiling ? 1 : clamp01((hpa.current / Math.max(1, hpa.max) - 0.7) / 0.3)) : 0;
  const h = podsThatFit === undefined || !hpa ? 0.5 : clamp01(1 - podsThatFit / Math.max(1, hpa.current));
  return confidence(0.9 * (0.6 * a + 0.4 * h));
}

/**
 * How far a metric is above normal, in [0, 1]: against its baseline, clamp((now / baseline − 1) / 2)
 * (three times the baseline counts fully); a share (percent metric) without baseline,
 * clamp((now − 0.7) / 0.25) (70 % normal, 95 % saturated). Undefined when neither is known.
 */
export function elevation(now: number | undefined, baseline: number | undefined, isShare = false): number | undefined {
  if (now === undefined) return undefined;
  if (baseline !== undefined && baseline > 0) return clamp01((now / baseline - 1) / 2);
  if (isShare) return clamp01((now - 0.7) / 0.25);
  return undefined;
}

/**
 * Scenario 3, connection leak: s = the leading service's share of the client connections,
 * z = the sleeping share, u = connections / max_connections.
 * leak = 0.9 · clamp((s − 0.5) / 0.4) · (0.5 + 0.5 · z) · (0.5 + 0.5 · clamp((u − 0.5) / 0.3)):
 * one service holding most connections, idle, with the server near its limit.
 */
export function connectionLeakConfidence(serviceShare: number, sleepingShare: number, usage: number): number {
  return confidence(0.9 * clamp01((serviceShare - 0.5) / 0.4) * (0.5 + 0.5 * clamp01(sleepingShare)) * (0.5 + 0.5 * clamp01((usage - 0.5) / 0.3)));
}

/** Scenario 3, long transactions holding connections: 0.9 · clamp(longest seconds / 600) (ten minutes counts fully). */
export function longTransactionConfidence(longestSeconds: number | undefined): number {
  return confidence(0.9 * clamp01((longestSeconds ?? 0) / 600));
}

/**
 * Scenario 3, pool configuration: idle connections live until wait_timeout. With z the sleeping
 * share: 0.7 · z · clamp((wait_timeout − 300) / 3300) — an hour or more of idle life counts fully.
 */
export function poolConfigConfidence(waitTimeout: number | null | undefined, sleepingShare: number): number {
  if (waitTimeout === null || waitTimeout === undefined) return 0;
  return confidence(0.7 * clamp01(sleepingShare) * clamp01((waitTimeout - 300) / 3300));
}

/**
 * Scenario 4, big keys: b = the listed big keys' bytes / used memory; 0.9 · clamp(b / 0.3) (keys
 * holding 30 % of the memory count fully). Cache growth without eviction room:
 * 0.9 · clamp((usage − 0.8) / 0.15) · (1 − clamp(b / 0.3)) · (evictions > 0 ? 1 : 0.7).
 */
export function redisConfidence(usage: number | undefined, bigKeyBytes: number, usedBytes: number | undefined, evictions: number | undefined): { bigKeys: number; growth: number } {
  const b = usedBytes && usedBytes > 0 ? clamp01(bigKeyBytes / usedBytes / 0.3) : 0;
  const u = usage === undefined ? 0 : clamp01((usage - 0.8) / 0.15);
  return { bigKeys: confidence(0.9 * b), growth: confidence(0.9 * u * (1 - b) * ((evictions ?? 0) > 0 ? 1 : 0.7)) };
}

/**
 * Scenario 5, consumer versus producer: with lag L, lag trend d (per second, > 0 growing) and e
 * stuck partitions / errors:
 * - consumer failure = e > 0 ? 0.85 : 0.1;
 * - slow consumers, producers outpacing them = e = 0 and d > 0 ? 0.5 + 0.4 · clamp(d · 300 / max(L, 1)) : 0.1
 *   (the lag growing by its own size within five minutes counts fully).
 */
export function kafkaConfidence(lag: number, lagTrend: number, errors: number): { consumerFailure: number; producerOutpacing: number } {
  return {
    consumerFailure: confidence(errors > 0 ? 0.85 : 0.1),
    producerOutpacing: confidence(errors === 0 && lagTrend > 0 ? 0.5 + 0.4 * clamp01((lagTrend * 300) / Math.max(lag, 1)) : 0.1),
  };
}

/**
 * Scenario 6, OOM: with o OOM kills in the last hour and g the memory growth per hour as a share
 * of the limit (Theil–Sen slope of the memory series):
 * - memory leak = 0.9 · clamp(g / 0.2) · (o > 0 ? 1 : 0.6) — 20 % of the limit per hour counts fully;
 * - limit too low for the load = o > 0 ? 0.7 · (1 − clamp(g / 0.2)) : 0.05 (killed without steady growth).
 */
export function oomConfidence(oomKills: number, growthPerHour: number | undefined): { leak: number; limitTooLow: number } {
  const g = growthPerHour === undefined ? 0 : clamp01(growthPerHour / 0.2);
  return { leak: confidence(0.9 * g * (oomKills > 0 ? 1 : 0.6)), limitTooLow: confidence(oomKills > 0 ? 0.7 * (1 - g) : 0.05) };
}

/** Scenario 7: a certificate expires within the warning threshold: 0.95 at or below 7 days, 0.9 within 30, else 0.05. */
export function certificateConfidence(daysLeft: number | undefined, warningDays = 30, criticalDays = 7): number {
  if (daysLeft === undefined) return 0;
  return confidence(daysLeft <= criticalDays ? 0.95 : daysLeft <= warningDays ? 0.9 : 0.05);
}
