/**
 * The investigation's formulas (lib/analysis): Theil–Sen trend prediction, the hypotheses'
 * confidence formulas and the risk score, on constructed series and timelines. Pure; no I/O.
 */
import { deployConfidence } from '../../../lib/actions/kubernetes';
import {
  capacityExhausted,
  certificateConfidence,
  connectionLeakConfidence,
  deployRollbackConfidence,
  kafkaConfidence,
  MAX_CONFIDENCE,
  NO_DEPLOY_CONFIDENCE,
  oomConfidence,
  pairConcentration,
  poolConfigConfidence,
  redisConfidence,
  stepChangeAt,
  surgeVersusInternal,
} from '../../../lib/analysis/confidence';
import { assessRisk, riskText } from '../../../lib/analysis/risk';
import { predictCrossing, theilSen, type TrendPoint } from '../../../lib/analysis/trend';

const T0 = Date.parse('2026-02-09T14:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
/** One point a minute from `from` to `to` (inclusive). */
function series(from: number, to: number, f: (m: number) => number): TrendPoint[] {
  const out: TrendPoint[] = [];
  for (let m = from; m <= to; m++) out.push({ at: at(m), value: f(m) });
  return out;
}

describe('Theil–Sen trend prediction', () => {
  it('recovers the slope of a straight line exactly', () => {
    const fit = theilSen(series(0, 10, (m) => 0.05 + 0.01 * m));
    expect(fit?.slope).toBeCloseTo(0.01 / 60, 10);
    expect(fit?.intercept).toBeCloseTo(0.05, 10);
  });

  it('ignores outliers that would drag a least-squares line', () => {
    const pts = series(0, 19, (m) => 0.1 + 0.01 * m).map((p, i) => (i === 3 || i === 11 || i === 17 ? { ...p, value: 5 } : p));
    expect(theilSen(pts)?.slope).toBeCloseTo(0.01 / 60, 8);
  });

  it('predicts the seed\'s "延迟将在 30 分钟内达到 500ms" with an interval around it', () => {
    // Latency rising 5 ms a minute from 300 ms, with ±10 ms noise: 500 ms is ~30 minutes after the last point.
    const noise = [0, 0.008, -0.006, 0.01, -0.009, 0.004, -0.002, 0.007, -0.01, 0.003, 0, -0.005, 0.009, -0.003, 0.006];
    const pts = series(0, 14, (m) => 0.28 + 0.005 * m + (noise[m] ?? 0));
    const p = predictCrossing('api_latency_p99', pts, 0.5, at(14));
    expect(p.status).toBe('crossing');
    expect(p.etaSeconds).toBeGreaterThan(25 * 60);
    expect(p.etaSeconds).toBeLessThan(35 * 60);
    expect(p.etaLowSeconds).toBeLessThanOrEqual(p.etaSeconds as number);
    expect(p.etaHighSeconds).toBeGreaterThanOrEqual(p.etaSeconds as number);
    expect(p.slopePerMinute).toBeCloseTo(0.005, 3);
    expect(p.points).toBe(15);
  });

  it('says "not enough data" below five points, and for one distinct time', () => {
    expect(predictCrossing('m', series(0, 3, (m) => m), 10, at(3)).status).toBe('not_enough_data');
    expect(predictCrossing('m', [0, 1, 2, 3, 4, 5].map((v) => ({ at: at(0), value: v })), 10, at(0)).status).toBe('not_enough_data');
  });

  it('is already_crossed past the threshold and not_crossing on a flat or falling series', () => {
    expect(predictCrossing('m', series(0, 9, (m) => 0.4 + 0.02 * m), 0.5, at(9)).status).toBe('already_crossed');
    expect(predictCrossing('m', series(0, 9, () => 0.3), 0.5, at(9)).status).toBe('not_crossing');
    expect(predictCrossing('m', series(0, 9, (m) => 0.4 - 0.01 * m), 0.5, at(9)).status).toBe('not_crossing');
  });

  it('predicts a falling metric crossing a floor with direction below', () => {
    const p = predictCrossing('free', series(0, 9, (m) => 100 - 5 * m), 10, at(9), { direction: 'below' });
    expect(p.status).toBe('crossing');
    expect(p.etaSeconds).toBeCloseTo(((55 - 10) / 5) * 60, -1);
  });

  it('leaves the later bound open when the slope interval reaches zero', () => {
    const pts = series(0, 7, (m) => [0.3, 0.32, 0.29, 0.33, 0.3, 0.34, 0.31, 0.35][m] as number);
    const p = predictCrossing('m', pts, 0.5, at(7));
    expect(p.status).toBe('crossing');
    expect(p.etaHighSeconds).toBeUndefined();
  });
});

describe('Hypothesis: recent deploy → rollback', () => {
  const anomaly = at(15);
  // Latency flat at 50 ms, stepping to 350 ms at the deploy (14:00), the anomaly detected at 14:15.
  const latency = [...series(-20, -1, () => 0.05), ...series(0, 15, () => 0.35)];

  it('a deploy 15 minutes before the anomaly with a step change at the deploy is ≥ 0.8', () => {
    const time = deployConfidence(at(0), anomaly, 1800, { sameService: true, change: 'image' });
    const step = stepChangeAt(latency, at(0));
    expect(step?.relative).toBeCloseTo(6, 5);
    const c = deployRollbackConfidence(time, step);
    expect(c).toBeGreaterThanOrEqual(0.8);
    expect(c).toBeLessThan(1);
  });

  it('the same deploy with the metric flat across it scores lower than the timing alone', () => {
    const flat = series(-20, 15, () => 0.05);
    const time = deployConfidence(at(0), anomaly, 1800, { sameService: true, change: 'image' });
    expect(deployRollbackConfidence(time, stepChangeAt(flat, at(0)))).toBeLessThan(time);
  });

  it('no deploy in the window is < 0.3', () => {
    expect(NO_DEPLOY_CONFIDENCE).toBeLessThan(0.3);
    // A deploy outside the window times to 0: even a step cannot raise it.
    const time = deployConfidence(at(-60), anomaly, 1800, { sameService: true, change: 'image' });
    expect(deployRollbackConfidence(time, stepChangeAt(latency, at(0)))).toBeLessThan(0.3);
  });

  it('a deploy just before the anomaly is never certain', () => {
    expect(deployRollbackConfidence(0.95, { before: 1, after: 100, relative: 99 })).toBeLessThanOrEqual(MAX_CONFIDENCE);
  });

  it('without data around the deploy the timing alone counts', () => {
    expect(deployRollbackConfidence(0.69, undefined)).toBe(0.69);
    expect(stepChangeAt(series(0, 0, () => 1), at(0))).toBeUndefined();
  });
});

describe('Scenario 1 questions', () => {
  it('traffic ×4 with CPU at 55 % is an external surge, not an internal problem', () => {
    const c = surgeVersusInternal(4, 0.55);
    expect(c.external).toBeGreaterThanOrEqual(0.85);
    expect(c.internal).toBe(0);
  });

  it('normal traffic with CPU at 95 % is an internal problem', () => {
    const c = surgeVersusInternal(1.05, 0.95);
    expect(c.internal).toBeGreaterThanOrEqual(0.85);
    expect(c.external).toBeLessThan(0.1);
  });

  it('an unknown input leaves its hypothesis out', () => {
    expect(surgeVersusInternal(undefined, 0.9)).toEqual({ internal: 0.9 });
  });

  it('BTC/USDT alone rising is one pair (行情驱动); every pair rising is global', () => {
    const one = pairConcentration([
      { pair: 'BTC-USDT', now: 9000, baseline: 1000 },
      { pair: 'ETH-USDT', now: 820, baseline: 800 },
      { pair: 'SOL-USDT', now: 300, baseline: 310 },
    ]);
    expect(one.top).toBe('BTC-USDT');
    expect(one.single).toBeGreaterThanOrEqual(0.85);
    expect(one.global).toBe(0);
    const all = pairConcentration([
      { pair: 'BTC-USDT', now: 3000, baseline: 1000 },
      { pair: 'ETH-USDT', now: 2400, baseline: 800 },
      { pair: 'SOL-USDT', now: 900, baseline: 300 },
    ]);
    expect(all.global).toBe(0.9);
    expect(all.single).toBe(0);
  });

  it('an HPA at its ceiling on full nodes is capacity exhausted; half-way with room is not', () => {
    expect(capacityExhausted({ current: 20, max: 20, atCeiling: true }, 0)).toBe(0.9);
    expect(capacityExhausted({ current: 10, max: 20, atCeiling: false }, 40)).toBe(0);
  });
});

describe('Scenarios 3–7', () => {
  it('one service holding 90 % of the connections, idle, at 95 % of max is a leak', () => {
    expect(connectionLeakConfidence(0.9, 0.9, 0.95)).toBeGreaterThanOrEqual(0.8);
    expect(connectionLeakConfidence(0.3, 0.9, 0.95)).toBe(0);
  });

  it('a one-hour wait_timeout with mostly idle connections suspects the pool configuration', () => {
    expect(poolConfigConfidence(28800, 0.9)).toBeCloseTo(0.63, 2);
    expect(poolConfigConfidence(60, 0.9)).toBe(0);
  });

  it('big keys holding a third of the memory outrank growth', () => {
    const r = redisConfidence(0.92, 400, 1000, 5);
    expect(r.bigKeys).toBe(0.9);
    expect(r.growth).toBe(0);
  });

  it('stuck partitions are a consumer failure; a healthy group falling behind is producers outpacing it', () => {
    expect(kafkaConfidence(50_000, 100, 2).consumerFailure).toBe(0.85);
    const slow = kafkaConfidence(50_000, 200, 0);
    expect(slow.producerOutpacing).toBeGreaterThan(0.8);
    expect(slow.consumerFailure).toBe(0.1);
  });

  it('steady memory growth with OOM kills is a leak; kills without growth a limit too low', () => {
    expect(oomConfidence(3, 0.25).leak).toBe(0.9);
    expect(oomConfidence(3, 0).limitTooLow).toBe(0.7);
    expect(oomConfidence(0, 0).limitTooLow).toBe(0.05);
  });

  it('a certificate within 7 days is near certain, never certain', () => {
    expect(certificateConfidence(5)).toBe(0.95);
    expect(certificateConfidence(21)).toBe(0.9);
    expect(certificateConfidence(74)).toBe(0.05);
  });
});

describe('Risk assessment', () => {
  it('rolling back trading-api (6 replicas) on a 85 % hypothesis is MEDIUM with the hypothesis\'s suggestion', () => {
    const r = assessRisk({ stepRisk: 'HIGH', protectedService: false, replicasAffected: 6, activityRatio: 1.2, hypothesis: { confidence: 0.85, suggestion: '建议回滚', statement: '部署 v2.3.1 后异常开始' } });
    expect(r.score).toBe(0.52);
    expect(r.level).toBe('MEDIUM');
    expect(riskText(r)).toBe('MEDIUM (0.52), 建议回滚');
    expect(r.factors).toEqual({ stepRisk: 0.8, blastRadius: 0.6, marketActivity: 0.1, uncertainty: 0.15 });
  });

  it('the matching engine in a busy market on a weak hypothesis is CRITICAL and asks for a person', () => {
    const r = assessRisk({ stepRisk: 'HIGH', protectedService: true, activityRatio: 4, hypothesis: { confidence: 0.1, statement: 'x' } });
    expect(r.level).toBe('CRITICAL');
    expect(r.suggestion).toBe('建议人工介入，暂缓自动操作');
  });

  it('a LOW step on a calm market with a sure hypothesis is LOW; a range counts as its upper end', () => {
    expect(assessRisk({ stepRisk: 'LOW', protectedService: false, replicasAffected: 0, activityRatio: 1, hypothesis: { confidence: 0.9, statement: 'x' } }).level).toBe('LOW');
    expect(assessRisk({ stepRisk: 'LOW-MEDIUM', protectedService: false }).factors.stepRisk).toBe(0.5);
  });
});
