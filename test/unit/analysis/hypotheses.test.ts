/**
 * The investigation's conclusion (lib/analysis/investigate.ts) on constructed check outcomes:
 * hypotheses ranked by confidence with their evidence, the trend to the next threshold, the risk of
 * the step the top hypothesis points to, similar incidents, and the approvers' lines. Pure.
 */
import type { CheckOutcome } from '../../../lib/analysis/checks';
import { concludeInvestigation, hypothesesOf, investigationLines, investigationSummary, trendOf } from '../../../lib/analysis/investigate';
import type { CompiledStep } from '../../../lib/compiled/manifest';

const T0 = Date.parse('2026-02-09T14:00:00.000Z');
const sec = (minutes: number) => Math.round((T0 + minutes * 60_000) / 1000);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const incident = { id: 'INC-20260209-001', service: 'trading-api', playbook: 'traffic-surge', anomalyStartedAt: iso(15), detectedAt: iso(15) };
const ok = (kind: CheckOutcome['kind'], data: Record<string, unknown>): CheckOutcome => ({ name: kind, kind, status: 'ok', data });

/** Latency 50 ms until the deploy at 14:00, 350 ms after, rising 5 ms a minute. */
const latency = ok('anomaly_metric', {
  metric: 'api_latency_p99',
  points: Array.from({ length: 36 }, (_, i) => [sec(i - 20), i - 20 < 0 ? 0.05 : 0.35 + 0.005 * (i - 20)]),
  thresholds: [{ value: 0.2, source: 'api_latency_p99 > 200ms' }, { value: 0.5, source: 'latency_p99 still > 500ms after 5min' }],
  activityRatio: 1.2,
});
const deploy = ok('recent_deploys', {
  services: ['trading-api'],
  windowSeconds: 1800,
  replicas: 6,
  deploys: [{ service: 'trading-api', deployment: 'trading/trading-api', revision: 7, at: iso(0), change: 'image', images: ['registry/trading-api:v2.3.1'], previousImages: ['registry/trading-api:v2.3.0'] }],
});
const rollback: CompiledStep = { name: 'rollback_trading_api', action: 'kubectl_rollout_undo', kind: 'kubernetes', mutates: true, mode: 'approval', risk: 'HIGH', approvers: ['oncall_sre'], minApprovals: 1, params: { deployment: 'trading-api' }, expressionParams: [], locals: {}, targets: [], bounds: [], onFail: 'abort', timeoutSeconds: 600 } as unknown as CompiledStep;
const scale: CompiledStep = { ...rollback, name: 'scale_up_trading_api', action: 'patch_hpa_max', risk: 'LOW', mode: 'auto' } as CompiledStep;

describe('hypothesesOf', () => {
  it("rebuilds the seed's 根因分析: the deploy of v2.3.1 first, ≥ 0.8, with deploy time and the step as evidence", () => {
    const [top] = hypothesesOf({ incident, checks: [latency, deploy], now: new Date(T0 + 16 * 60_000) });
    expect(top).toMatchObject({ id: 'recent-deploy-rollback', statement: '部署 trading-api v2.3.1 后异常开始', suggestion: '建议回滚' });
    expect(top?.confidence).toBeGreaterThanOrEqual(0.8);
    expect(top?.evidence[0]).toMatchObject({ label: 'deploy trading/trading-api v2.3.1 (image)', value: '15 min before the anomaly', at: iso(0) });
    expect(top?.evidence[2]).toMatchObject({ label: 'api_latency_p99 at the deploy', value: '0.05 → 0.375 (+650%)' });
  });

  it('without a rollout in the window the deploy hypothesis stays below 0.3 and suggests nothing', () => {
    const none = ok('recent_deploys', { services: ['trading-api'], windowSeconds: 1800, deploys: [] });
    const [h] = hypothesesOf({ incident, checks: [latency, none], now: new Date(T0 + 16 * 60_000) });
    expect(h).toMatchObject({ id: 'recent-deploy-rollback', confidence: 0.05 });
    expect(h?.suggestion).toBeUndefined();
  });

  it('ranks scenario 1: an ALB surge with calm CPU over an internal problem, BTC-USDT alone over a global event', () => {
    const hs = hypothesesOf({
      incident,
      checks: [
        ok('traffic_vs_cpu', { alb: { now: 40_000, baseline: 10_000 }, requests: {}, cpuShare: 0.5, cpuSource: 'metric pod_cpu_usage' }),
        ok('pair_distribution', { pairs: [{ pair: 'BTC-USDT', now: 9000, baseline: 1000 }, { pair: 'ETH-USDT', now: 800, baseline: 800 }] }),
      ],
      now: new Date(),
    });
    expect(hs.map((h) => h.id)).toEqual(['external-surge', 'single-pair-surge', 'internal-problem', 'global-surge']);
    expect(hs[1]?.statement).toBe('BTC-USDT 单一交易对飙升（行情驱动）');
    expect(hs.map((h) => h.confidence)).toEqual([...hs.map((h) => h.confidence)].sort((a, b) => b - a));
  });

  it('reads Redis big keys, Kafka stuck partitions, OOM growth and certificates', () => {
    const hs = hypothesesOf({
      incident,
      checks: [
        ok('redis_memory', { usage: 0.92, used_memory: 1000, evicted_keys: 3, bigKeys: [{ key: 'cache:orderbook', type: 'hash', bytes: 400 }] }),
        ok('kafka_lag', { lag: 50_000, lagTrend: 10, errors: 2 }),
        ok('pod_health', { oomKilledInWindow: 3, restartsInWindow: 4, restartsLowerBound: false, memoryMetric: 'pod_memory_usage', memory: Array.from({ length: 10 }, (_, i) => [sec(i * 6), 0.5 + 0.05 * i]) }),
        ok('certificates', { certificates: [{ name: 'api.exchange.example', source: 'external_domains', notAfter: iso(5 * 1440), daysLeft: 5 }] }),
      ],
      now: new Date(),
    });
    const byId = Object.fromEntries(hs.map((h) => [h.id, h.confidence]));
    expect(byId).toMatchObject({ 'certificate-expiring': 0.95, 'redis-big-keys': 0.9, 'memory-leak': 0.9, 'consumer-failure': 0.85 });
    expect(byId['memory-limit-too-low']).toBeLessThan(byId['memory-leak'] as number);
  });
});

describe('concludeInvestigation', () => {
  it('gives the trend to 500 ms, the risk of the rollback with the hypothesis, similar incidents, and the approvers\' lines', async () => {
    const r = await concludeInvestigation({
      incident,
      checks: [latency, deploy, { name: 'capacity', kind: 'capacity', status: 'timed_out', error: 'no answer within 19 s' }],
      specs: [],
      steps: [scale, rollback],
      isProtected: () => false,
      startedAt: new Date(T0 + 15 * 60_000),
      now: new Date(T0 + 16 * 60_000),
      similarIncidents: async () => [{ incidentId: 'INC-20260101-002', score: 0.82, rootCause: 'trading-api deploy changed the Redis pool', resolutionSteps: ['rollback'] }, { incidentId: 'INC-20260209-001', score: 1, rootCause: 'itself', resolutionSteps: [] }],
    });
    expect(r.trend).toMatchObject({ metric: 'api_latency_p99', threshold: 0.5, status: 'crossing' });
    expect(r.risk).toMatchObject({ level: 'MEDIUM', suggestion: '建议回滚' });
    expect(r.risk?.factors).toMatchObject({ stepRisk: 0.8, blastRadius: 0.6 });
    expect(r.similar.map((s) => s.incidentId)).toEqual(['INC-20260101-002']);
    expect(r.checks).toEqual(expect.arrayContaining([{ name: 'capacity', status: 'timed_out', error: 'no answer within 19 s' }, { name: 'similar_incidents', status: 'ok' }]));
    expect(investigationSummary(r)).toMatch(/^调查完成: 部署 trading-api v2\.3\.1 后异常开始 \(置信度 \d+%\)$/);
    const lines = investigationLines(r, (_m, v) => `${Math.round(v * 1000)}ms`);
    expect(lines.find((l) => l.startsWith('趋势预测'))).toMatch(/^趋势预测: api_latency_p99 将在 \d+ 分钟 内达到 500ms/);
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^风险评估: MEDIUM \(0\.\d\d\), 建议回滚$/), '相似事件: INC-20260101-002 (82%) — trading-api deploy changed the Redis pool; 解决: rollback', '未完成的检查: capacity (timed_out)']));
  });

  it('a failed similar-incident lookup is a failed check, never a failed investigation', async () => {
    const r = await concludeInvestigation({ incident, checks: [], specs: [], steps: [], isProtected: () => false, startedAt: new Date(), now: new Date(), similarIncidents: async () => Promise.reject(new Error('qdrant down')) });
    expect(r.checks).toEqual([{ name: 'similar_incidents', status: 'failed', error: 'qdrant down' }]);
    expect(r.hypotheses).toEqual([]);
    expect(investigationSummary(r)).toBe('调查完成: 未找到可信的根因假设');
  });

  it('has no trend without thresholds or an anomaly metric', () => {
    expect(trendOf([], new Date())).toBeUndefined();
  });
});
