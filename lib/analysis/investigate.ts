/**
 * The investigation's conclusion (issue 13): the checks' data become ranked hypotheses (each with
 * its confidence formula from ./confidence and its evidence), the trend of the anomaly metric to
 * its next threshold, the risk of the step the top hypothesis points to, and similar past
 * incidents. Pure apart from the optional knowledge-base lookup.
 */
import { deployConfidence } from '../actions/kubernetes';
import type { CompiledStep, InvestigationCheckSpec } from '../compiled/manifest';
import type { CheckOutcome } from './checks';
import {
  capacityExhausted,
  certificateConfidence,
  confidence,
  connectionLeakConfidence,
  deployRollbackConfidence,
  elevation,
  kafkaConfidence,
  longTransactionConfidence,
  NO_DEPLOY_CONFIDENCE,
  oomConfidence,
  pairConcentration,
  poolConfigConfidence,
  redisConfidence,
  stepChangeAt,
  surgeVersusInternal,
} from './confidence';
import { assessRisk, riskText } from './risk';
import { predictCrossing, theilSen, type TrendPoint } from './trend';
import type { Evidence, Hypothesis, InvestigationCheck, InvestigationResult, SimilarIncident, SimilarIncidentsLookup, TrendPrediction } from './types';

/** Hypotheses kept on the timeline and in messages, best first. */
export const MAX_HYPOTHESES = 6;
/** Similar past incidents kept. */
export const MAX_SIMILAR = 3;

export interface ConcludeInput {
  readonly incident: { readonly id: string; readonly service: string; readonly playbook: string; readonly anomalyStartedAt: string; readonly detectedAt: string; readonly alarmName?: string };
  readonly checks: readonly CheckOutcome[];
  readonly specs: readonly InvestigationCheckSpec[];
  /** The playbook's steps (for the risk of the step the top hypothesis points to). */
  readonly steps: readonly CompiledStep[];
  /** True when the service is protected (matching engine, wallet, settlement). */
  readonly isProtected: (service: string) => boolean;
  readonly startedAt: Date;
  readonly now: Date;
  readonly similarIncidents?: SimilarIncidentsLookup;
}

type Data = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The image tag of a deploy (`registry/trading-api:v2.3.1` → `v2.3.1`), or its revision. */
function versionOf(d: Data): string {
  const image = String((d.images as string[] | undefined)?.[0] ?? '');
  const tag = /:([^:/@]+)$/.exec(image)?.[1];
  return tag ?? `revision ${d.revision}`;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function points(raw: unknown): TrendPoint[] {
  return Array.isArray(raw) ? (raw as [number, number][]).map(([t, v]) => ({ at: new Date(t * 1000), value: v })) : [];
}

/** Suggested next step per hypothesis: the actions that act on it, and the zh-CN suggestion. */
const ACTS_ON: Readonly<Record<string, { actions: readonly string[]; label: string }>> = {
  'recent-deploy-rollback': { actions: ['kubectl_rollout_undo'], label: '回滚' },
  'connection-leak': { actions: ['rolling_restart', 'rds_query'], label: '重启泄漏服务的 Pod' },
  'external-surge': { actions: ['patch_hpa_max', 'update_config', 'kubectl_scale'], label: '扩容并按需限流' },
  'capacity-exhausted': { actions: ['patch_hpa_max', 'kubectl_scale'], label: '扩容' },
  'redis-big-keys': { actions: ['redis_command'], label: '清理大 Key' },
  'redis-cache-growth': { actions: ['redis_command', 'elasticache_modify'], label: '清理过期 Key 或扩容' },
  'producer-outpacing': { actions: ['kubectl_scale'], label: '扩容消费者' },
  'consumer-failure': { actions: ['rolling_restart'], label: '重启消费者' },
  'memory-limit-too-low': { actions: ['kubectl_patch'], label: '临时增大内存限制' },
  'memory-leak': { actions: ['kubectl_exec', 'kubectl_patch', 'create_ticket'], label: '抓取堆转储并临时增大内存限制' },
  'certificate-expiring': { actions: ['create_ticket'], label: '创建续期工单' },
};

/** A hypothesis; it suggests its remedy only when it is worth acting on (confidence ≥ 0.5). */
function hypothesis(id: string, statement: string, statementEn: string, c: number, evidence: Evidence[]): Hypothesis {
  const acts = ACTS_ON[id];
  const conf = confidence(c);
  return { id, statement, statementEn, confidence: conf, evidence, ...(acts && conf >= 0.5 ? { suggestion: `建议${acts.label}` } : {}) };
}

/** Hypotheses from every check that ran. */
export function hypothesesOf(input: Pick<ConcludeInput, 'incident' | 'checks' | 'now'>): Hypothesis[] {
  const byKind = new Map(input.checks.filter((c) => c.status === 'ok' && c.data).map((c) => [c.kind, c.data as Data]));
  const out: Hypothesis[] = [];
  const anomalyAt = new Date(input.incident.anomalyStartedAt);
  const metric = byKind.get('anomaly_metric');
  const series = points(metric?.points);

  const deploysData = byKind.get('recent_deploys');
  if (deploysData) {
    const window = Number(deploysData.windowSeconds ?? 1800);
    const scored = (deploysData.deploys as Data[]).map((d) => {
      const time = deployConfidence(new Date(d.at), anomalyAt, window, { sameService: d.service === input.incident.service, change: d.change });
      const step = series.length ? stepChangeAt(series, new Date(d.at)) : undefined;
      return { d, time, step, c: deployRollbackConfidence(time, step) };
    });
    const best = scored.sort((a, b) => b.c - a.c)[0];
    if (best && best.c > 0) {
      const v = versionOf(best.d);
      const lagMin = Math.round((anomalyAt.getTime() - Date.parse(best.d.at)) / 60000);
      const evidence: Evidence[] = [
        { label: `deploy ${best.d.deployment} ${v} (${best.d.change})`, value: `${lagMin} min before the anomaly`, at: best.d.at, source: 'kube:replicasets' },
        { label: 'timing score', value: best.time },
      ];
      if (best.step) evidence.push({ label: `${metric?.metric} at the deploy`, value: `${round(best.step.before)} → ${round(best.step.after)} (${best.step.relative >= 0 ? '+' : ''}${pct(best.step.relative)})`, at: best.d.at, source: `metric:${metric?.metric}` });
      else evidence.push({ label: `${metric?.metric ?? 'anomaly metric'} around the deploy`, value: 'no data' });
      out.push(hypothesis('recent-deploy-rollback', `部署 ${best.d.service} ${v} 后异常开始`, `the anomaly began after deploying ${best.d.service} ${v}`, best.c, evidence));
    } else {
      out.push(hypothesis('recent-deploy-rollback', `近期部署导致异常（${Math.round(window / 60)} 分钟窗口内无部署）`, `a recent deploy caused it (no rollout of ${(deploysData.services as string[]).join(', ')} in the ${Math.round(window / 60)}-minute window)`, NO_DEPLOY_CONFIDENCE, [{ label: 'rollouts in the window', value: 0, source: 'kube:replicasets' }]));
    }
  }

  const tvc = byKind.get('traffic_vs_cpu');
  if (tvc) {
    const ratioOf = (m: Data | undefined) => (m?.now !== undefined && m?.baseline ? m.now / m.baseline : undefined);
    const ratio = ratioOf(tvc.alb) ?? ratioOf(tvc.requests);
    const cpu = tvc.cpuShare === null ? undefined : Number(tvc.cpuShare);
    const c = surgeVersusInternal(ratio, cpu);
    const ev: Evidence[] = [];
    if (ratio !== undefined) ev.push({ label: tvc.alb?.now !== undefined && tvc.alb?.baseline ? 'ALB connections / baseline' : 'requests / baseline', value: round(ratio), source: 'metrics' });
    if (cpu !== undefined) ev.push({ label: 'pod CPU / limit', value: pct(cpu), source: String(tvc.cpuSource) });
    if (c.external !== undefined) out.push(hypothesis('external-surge', '外部流量激增（ALB 流量增大，CPU 正常）', 'an external traffic surge (more ALB traffic, CPU normal)', c.external, ev));
    if (c.internal !== undefined) out.push(hypothesis('internal-problem', '内部问题（流量正常但 CPU 飙高）', 'an internal problem (normal traffic, CPU high)', c.internal, ev));
  }

  const pairs = byKind.get('pair_distribution');
  if (pairs) {
    const p = pairConcentration(pairs.pairs as { pair: string; now: number; baseline: number }[]);
    const ev: Evidence[] = (pairs.pairs as Data[]).map((x) => ({ label: `${x.pair} rate / baseline`, value: round(x.baseline ? x.now / x.baseline : 0), source: 'metric:pair_request_rate' }));
    if (p.top) out.push(hypothesis('single-pair-surge', `${p.top} 单一交易对飙升（行情驱动）`, `${p.top} alone surges (market-driven)`, p.single, [{ label: `${p.top} share of the growth`, value: pct(p.share) }, ...ev]));
    out.push(hypothesis('global-surge', '全部交易对均上升（全局性事件）', 'every pair rises (a global event)', p.global, ev));
  }

  const cap = byKind.get('capacity');
  if (cap) {
    const first = (cap.hpas as Data[]).find((h) => h.current !== undefined);
    const c = capacityExhausted(first ? { current: first.current, max: first.max, atCeiling: first.atCeiling } : undefined, cap.headroom?.podsThatFit ?? undefined);
    const ev: Evidence[] = (cap.hpas as Data[]).map((h) => ({ label: `HPA ${h.service}`, value: h.error ? String(h.error) : `${h.current}/${h.max}${h.atCeiling ? ' (at ceiling)' : ''}`, source: 'kube:hpa' }));
    ev.push({ label: 'pods that still fit on the nodes', value: cap.headroom?.podsThatFit ?? 'unknown', source: 'kube:nodes' });
    out.push(hypothesis('capacity-exhausted', '容量不足（HPA 接近上限或节点资源不足）', 'capacity exhausted (HPA near its ceiling or nodes full)', c, ev));
  }

  for (const [kind, id, zh, en] of [
    ['resources', 'resource-bottleneck', '资源瓶颈', 'a resource bottleneck'],
    ['dependencies', 'dependency-slow', '依赖变慢', 'a slow dependency'],
    ['traffic', 'traffic-increase', '流量上升', 'more traffic'],
  ] as const) {
    const d = byKind.get(kind);
    if (!d) continue;
    const scored = (d.metrics as Data[]).map((m) => ({ m, e: elevation(m.now, m.baseline, m.unit === 'Percent') })).filter((x) => x.e !== undefined);
    if (scored.length === 0) continue;
    const top = scored.sort((a, b) => (b.e as number) - (a.e as number))[0]!;
    const ev = scored.map(({ m }) => ({ label: m.metric, value: m.baseline ? `${round(m.now)} (baseline ${round(m.baseline)})` : round(m.now), source: `metric:${m.metric}` }));
    out.push(hypothesis(id, `${zh}: ${top.m.metric}`, `${en}: ${top.m.metric}`, 0.9 * (top.e as number), ev));
  }

  const db = byKind.get('db_connections');
  if (db) {
    const total = Number(db.total) || 0;
    const svc = db.identified_leaking_service as string | null;
    const share = svc && total ? (db.by_service[svc] ?? 0) / total : 0;
    const sleeping = total ? Number(db.sleeping) / total : 0;
    const leak = connectionLeakConfidence(share, sleeping, Number(db.usage));
    const ev: Evidence[] = [
      { label: 'connections / max_connections', value: `${db.connections}/${db.max} (${pct(Number(db.usage))})`, source: 'mysql:status' },
      { label: 'identified_leaking_service', value: svc ?? (db.leaking_user ? `none (database user ${db.leaking_user} is not in the service map)` : 'none'), source: 'mysql:processlist + service map' },
      { label: 'connections by service', value: Object.entries(db.by_service as Record<string, number>).map(([k, n]) => `${k} ${n}`).join(', '), source: 'mysql:processlist' },
      { label: 'sleeping connections', value: `${db.sleeping}/${total}`, source: 'mysql:processlist' },
    ];
    if (svc) {
      const deploys = (db.leaking_service_deploys as Data[] | null) ?? [];
      const best = deploys
        .map((d) => ({ d, t: deployConfidence(new Date(d.at), anomalyAt, 1800, { sameService: true, change: d.change }) }))
        .sort((a, b) => b.t - a.t)[0];
      if (best && best.t > 0) {
        // A rollout of the leaking service just before the anomaly explains the leak: c = leak + (0.95 − leak) · 0.5 · timing.
        const v = versionOf(best.d);
        ev.push({ label: `deploy ${best.d.deployment} ${v}`, value: `${Math.round((anomalyAt.getTime() - Date.parse(best.d.at)) / 60000)} min before the anomaly`, at: best.d.at, source: 'kube:replicasets' });
        const h = hypothesis('connection-leak', `${svc} 连接泄漏，部署 ${v} 后开始`, `${svc} leaks connections since its deploy ${v}`, leak + (0.95 - leak) * 0.5 * best.t, ev);
        out.push(h.suggestion ? { ...h, suggestion: `建议重启 ${svc} 的 Pod 或回滚其部署 ${v}` } : h);
      } else {
        ev.push({ label: `rollouts of ${svc} in the window`, value: db.deploysChecked ? 0 : 'not checked (no Kubernetes target)', source: 'kube:replicasets' });
        const h = hypothesis('connection-leak', `${svc} 连接泄漏（近期无部署）`, `${svc} leaks connections (no recent deploy of it)`, leak, ev);
        out.push(h.suggestion ? { ...h, suggestion: `建议重启 ${svc} 的 Pod` } : h);
      }
    }
    const longest = (db.long_transactions as Data[])[0];
    if (longest) out.push(hypothesis('long-transactions', `长事务占用连接（最长 ${longest.seconds} 秒）`, `long transactions hold connections (longest ${longest.seconds} s)`, longTransactionConfidence(longest.seconds), [{ label: 'longest transaction', value: `${longest.seconds} s by ${longest.user ?? '?'}${longest.service ? ` (${longest.service})` : ''}`, source: 'mysql:innodb_trx' }]));
    const pool = poolConfigConfidence(db.pool?.wait_timeout, sleeping);
    if (pool > 0) out.push(hypothesis('pool-config', `连接池配置不当（wait_timeout ${db.pool.wait_timeout} 秒，空闲连接占 ${pct(sleeping)}）`, `pool configuration (wait_timeout ${db.pool.wait_timeout} s, ${pct(sleeping)} idle)`, pool, [{ label: 'wait_timeout', value: db.pool.wait_timeout, source: 'mysql:variables' }, { label: 'max_user_connections', value: db.pool.max_user_connections ?? 'unknown', source: 'mysql:variables' }]));
  }

  const redis = byKind.get('redis_memory');
  if (redis) {
    const bigBytes = (redis.bigKeys as Data[]).reduce((a, k) => a + Number(k.bytes), 0);
    const r = redisConfidence(redis.usage ?? undefined, bigBytes, redis.used_memory, redis.evicted_keys);
    const ev: Evidence[] = [
      { label: 'memory usage', value: redis.usage === null ? 'no maxmemory' : pct(redis.usage), source: 'redis:INFO memory' },
      { label: 'evicted keys', value: redis.evicted_keys, source: 'redis:INFO stats' },
      ...(redis.bigKeys as Data[]).slice(0, 3).map((k) => ({ label: `big key ${k.key} (${k.type})`, value: `${k.bytes} bytes`, source: 'redis:MEMORY USAGE' })),
    ];
    out.push(hypothesis('redis-big-keys', '大 Key 占用内存', 'big keys take the memory', r.bigKeys, ev));
    out.push(hypothesis('redis-cache-growth', '缓存数据持续增长（过期 Key 未及时清理）', 'cached data keeps growing (expired keys not cleaned)', r.growth, ev));
  }

  const kafka = byKind.get('kafka_lag');
  if (kafka) {
    const k = kafkaConfidence(Number(kafka.lag), Number(kafka.lagTrend), Number(kafka.errors));
    const ev: Evidence[] = [
      { label: 'lag', value: kafka.lag, source: 'kafka:offsets' },
      { label: 'lag change per second', value: round(Number(kafka.lagTrend)), source: 'kafka:offsets' },
      { label: 'stuck partitions / errors', value: kafka.errors, source: 'kafka:offsets + pods' },
    ];
    out.push(hypothesis('consumer-failure', '消费者异常（分区停滞或 Pod 不健康）', 'consumers failing (stuck partitions or unhealthy pods)', k.consumerFailure, ev));
    out.push(hypothesis('producer-outpacing', '消费者健康但处理速度跟不上生产速度', 'healthy consumers slower than the producers', k.producerOutpacing, ev));
  }

  const pods = byKind.get('pod_health');
  if (pods) {
    const mem = points(pods.memory);
    const fit = mem.length >= 5 ? theilSen(mem) : undefined;
    const growth = fit ? fit.slope * 3600 : undefined;
    const o = oomConfidence(Number(pods.oomKilledInWindow), growth);
    const ev: Evidence[] = [
      { label: 'OOMKilled in the last hour', value: pods.oomKilledInWindow, source: 'kube:pods' },
      { label: 'restarts in the last hour', value: `${pods.restartsInWindow}${pods.restartsLowerBound ? '+' : ''}`, source: 'kube:pods' },
      { label: 'memory growth per hour (share of limit)', value: growth === undefined ? 'not enough data' : pct(growth), source: `metric:${pods.memoryMetric}` },
    ];
    out.push(hypothesis('memory-leak', '内存泄漏（内存持续增长）', 'a memory leak (memory grows steadily)', o.leak, ev));
    out.push(hypothesis('memory-limit-too-low', '内存限制过低（无持续增长即被 OOMKilled）', 'the memory limit is too low (killed without steady growth)', o.limitTooLow, ev));
  }

  const certs = byKind.get('certificates');
  if (certs) {
    const first = (certs.certificates as Data[])[0];
    if (first) out.push(hypothesis('certificate-expiring', `证书 ${first.name} 将在 ${first.daysLeft} 天后到期`, `certificate ${first.name} expires in ${first.daysLeft} days`, certificateConfidence(first.daysLeft), (certs.certificates as Data[]).slice(0, 5).map((c) => ({ label: c.name, value: `${c.daysLeft} d`, at: c.notAfter, source: c.source }))));
  }

  return out.sort((a, b) => b.confidence - a.confidence);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The trend is fitted over this much of the anomaly metric, back from its latest point (the recent window: a step change earlier in the hour is not the trend). */
export const TREND_WINDOW_SECONDS = 900;

/** The anomaly metric's trend to its next threshold: the lowest one above the latest value (or the highest, already crossed). */
export function trendOf(checks: readonly CheckOutcome[], now: Date): TrendPrediction | undefined {
  const m = checks.find((c) => c.kind === 'anomaly_metric' && c.status === 'ok')?.data as Data | undefined;
  if (!m) return undefined;
  const thresholds = [...new Set((m.thresholds as { value: number }[]).map((t) => t.value))].sort((a, b) => a - b);
  if (thresholds.length === 0) return undefined;
  const all = points(m.points);
  const end = all.at(-1)?.at.getTime() ?? now.getTime();
  const pts = all.filter((p) => p.at.getTime() >= end - TREND_WINDOW_SECONDS * 1000);
  const latest = pts.at(-1)?.value;
  const next = latest === undefined ? thresholds[0]! : (thresholds.find((t) => t > latest) ?? thresholds.at(-1)!);
  return predictCrossing(String(m.metric), pts, next, now);
}

/** The step the top hypothesis points to (an action that acts on it), else the first mutating step. */
export function proposedStep(steps: readonly CompiledStep[], top: Hypothesis | undefined): CompiledStep | undefined {
  const acts = top && top.confidence >= 0.5 ? ACTS_ON[top.id]?.actions : undefined;
  return (acts && steps.find((s) => s.mutates && acts.includes(s.action))) ?? steps.find((s) => s.mutates);
}

/** What the risk score reads besides the step: kept with the result (`investigation_completed` data.basis). */
export interface RiskBasis {
  /** Request rate now / baseline (market activity). */
  readonly activityRatio?: number;
  /** Replicas of the incident's service. */
  readonly replicas?: number;
}

/** The hypothesis a step acts on: the most confident one whose suggested actions include the step's. */
export function hypothesisFor(step: Pick<CompiledStep, 'action'>, hypotheses: readonly Hypothesis[]): Hypothesis | undefined {
  return hypotheses.find((h) => ACTS_ON[h.id]?.actions.includes(step.action));
}

/**
 * The risk of one step (lib/analysis/risk.ts) given the investigation: the hypothesis it acts on
 * (its confidence and suggestion), its target's protection, the replicas a rollback or restart
 * replaces, market activity.
 */
export function riskOfStep(step: Pick<CompiledStep, 'action' | 'risk' | 'name'>, target: string, hypotheses: readonly Hypothesis[], basis: RiskBasis, isProtected: (service: string) => boolean): ReturnType<typeof assessRisk> {
  const h = hypothesisFor(step, hypotheses);
  // A suggestion only from a hypothesis worth acting on.
  const usable = h && h.confidence >= 0.5 ? h : undefined;
  return assessRisk({
    stepRisk: step.risk,
    protectedService: isProtected(target),
    // A rollback, restart or resource patch replaces every replica; a scale or config change replaces none.
    replicasAffected: ['kubectl_rollout_undo', 'rolling_restart', 'kubectl_patch'].includes(step.action) ? Number(basis.replicas ?? 0) : 0,
    ...(basis.activityRatio !== undefined ? { activityRatio: basis.activityRatio } : {}),
    ...(h ? { hypothesis: usable ?? { confidence: h.confidence, statement: h.statement } } : {}),
    stepLabel: `执行 ${step.name} (${step.action})`,
  });
}

/** The risk basis from the checks' data. */
export function riskBasisOf(checks: readonly CheckOutcome[]): RiskBasis {
  const data = (kind: string) => checks.find((c) => c.kind === kind && c.status === 'ok')?.data as Data | undefined;
  const replicas = data('recent_deploys')?.replicas ?? data('pod_health')?.desiredReplicas ?? (data('capacity')?.hpas as Data[] | undefined)?.[0]?.current;
  const activity = data('anomaly_metric')?.activityRatio;
  return { ...(typeof activity === 'number' ? { activityRatio: activity } : {}), ...(typeof replicas === 'number' ? { replicas } : {}) };
}

/** The investigation's result from its checks' outcomes. */
export async function concludeInvestigation(input: ConcludeInput): Promise<InvestigationResult> {
  const hypotheses = hypothesesOf(input).slice(0, MAX_HYPOTHESES);
  const top = hypotheses[0];
  const trend = trendOf(input.checks, input.now);
  const step = proposedStep(input.steps, top);
  const target = step ? String(step.params.deployment ?? step.params.service ?? input.incident.service) : input.incident.service;
  const protectedTarget = (s: string) => input.isProtected(s) || input.isProtected(input.incident.service);
  const risk = step ? riskOfStep(step, target.includes('{{') ? input.incident.service : target, hypotheses, riskBasisOf(input.checks), protectedTarget) : undefined;
  let similar: SimilarIncident[] = [];
  const checks: InvestigationCheck[] = input.checks.map((c) => ({ name: c.name, status: c.status, ...(c.error ? { error: c.error } : {}) }));
  if (input.similarIncidents) {
    const query = [input.incident.service, input.incident.alarmName, top?.statement, top?.statementEn].filter(Boolean).join(' ');
    try {
      similar = (await input.similarIncidents(query)).filter((s) => s.incidentId !== input.incident.id).slice(0, MAX_SIMILAR);
      checks.push({ name: 'similar_incidents', status: 'ok' });
    } catch (e) {
      checks.push({ name: 'similar_incidents', status: 'failed', error: (e as Error).message });
    }
  }
  return {
    startedAt: input.startedAt.toISOString(),
    completedAt: input.now.toISOString(),
    hypotheses,
    ...(trend ? { trend } : {}),
    ...(risk ? { risk } : {}),
    similar,
    checks,
  };
}

/** `1.2 min`, `30 min`, `2.5 h`. */
function duration(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)} 分钟`;
  return `${Math.round(seconds / 360) / 10} 小时`;
}

/** The seed's timeline wording of a trend: 趋势预测: api_latency_p99 将在 30 分钟内达到 0.5. */
export function trendText(t: TrendPrediction, format: (v: number) => string = String): string {
  switch (t.status) {
    case 'crossing':
      return `趋势预测: ${t.metric} 将在 ${duration(t.etaSeconds ?? 0)} 内达到 ${format(t.threshold)}${t.etaLowSeconds !== undefined ? `（区间 ${duration(t.etaLowSeconds)} – ${t.etaHighSeconds !== undefined ? duration(t.etaHighSeconds) : '未定'}）` : ''}`;
    case 'already_crossed':
      return `趋势预测: ${t.metric} 已超过 ${format(t.threshold)}`;
    case 'not_crossing':
      return `趋势预测: ${t.metric} 未呈上升趋势，暂不会达到 ${format(t.threshold)}`;
    default:
      return `趋势预测: ${t.metric} 数据不足（${t.points} 个点）`;
  }
}

/** `部署 trading-api v2.3.1 后异常开始 (置信度 85%)`. */
export function hypothesisText(h: Hypothesis): string {
  return `${h.statement} (置信度 ${Math.round(h.confidence * 100)}%)`;
}

/** The lines an approver reads: top hypotheses, trend, risk, similar incidents. */
export function investigationLines(r: InvestigationResult, format?: (metric: string, v: number) => string): string[] {
  const lines: string[] = [];
  r.hypotheses.slice(0, 3).forEach((h, i) => lines.push(`根因分析 ${i + 1}: ${hypothesisText(h)}${h.evidence.length ? ` — ${h.evidence.slice(0, 3).map((e) => `${e.label}: ${e.value}`).join('; ')}` : ''}`));
  if (r.trend) lines.push(trendText(r.trend, format ? (v) => format(r.trend!.metric, v) : undefined));
  if (r.risk) lines.push(`风险评估: ${riskText(r.risk)}`);
  for (const s of r.similar) lines.push(`相似事件: ${s.incidentId} (${Math.round(s.score * 100)}%) — ${s.rootCause}${s.resolutionSteps.length ? `; 解决: ${s.resolutionSteps.join(', ')}` : ''}`);
  const failed = r.checks.filter((c) => c.status !== 'ok');
  if (failed.length) lines.push(`未完成的检查: ${failed.map((c) => `${c.name} (${c.status})`).join(', ')}`);
  return lines;
}

/** The timeline summary: 调查完成: <top hypothesis> (置信度 85%). */
export function investigationSummary(r: InvestigationResult): string {
  const top = r.hypotheses[0];
  return `调查完成: ${top ? hypothesisText(top) : '未找到可信的根因假设'}`;
}
