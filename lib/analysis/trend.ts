/**
 * Trend prediction (seed §5.1: "趋势预测: 延迟将在 30 分钟内达到 500ms"): a Theil–Sen fit over the
 * recent window (the median of the slopes between every pair of points, robust to up to ~29 % of
 * outliers, unlike least squares), the time until the fitted line reaches the threshold, and an
 * interval from Sen's distribution-free confidence interval of the slope.
 */
import type { TrendPrediction } from './types';

/** One datapoint of the window. */
export interface TrendPoint {
  readonly at: Date;
  readonly value: number;
}

export interface TrendOptions {
  /**
   * Fewer points than this is "not enough data".
   * @default 5
   */
  readonly minPoints?: number;
  /**
   * Two-sided confidence of the slope interval (Sen 1968, with Kendall's S variance).
   * @default 0.9
   */
  readonly confidence?: number;
  /**
   * Which way the threshold is crossed: `above` (latency rising to 500 ms) or `below` (free memory falling).
   * @default 'above'
   */
  readonly direction?: 'above' | 'below';
}

/** The fitted line: value = intercept + slope · (t − t0), t in seconds. */
export interface TheilSenFit {
  /** Median pairwise slope, per second. */
  readonly slope: number;
  readonly intercept: number;
  /** Seconds of the time origin (the first point). */
  readonly t0: number;
  /** Slope interval at the requested confidence, per second. */
  readonly slopeLow: number;
  readonly slopeHigh: number;
  readonly points: number;
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = p < 0.5 ? p : 1 - p;
  let x: number;
  if (q < 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  } else {
    const r = q - 0.5;
    const s = r * r;
    x = ((((((a[0]! * s + a[1]!) * s + a[2]!) * s + a[3]!) * s + a[4]!) * s + a[5]!) * r) / (((((b[0]! * s + b[1]!) * s + b[2]!) * s + b[3]!) * s + b[4]!) * s + 1);
    return p < 0.5 ? x : -x;
  }
  return p < 0.5 ? x : -x;
}

/**
 * Theil–Sen estimator. Slope: median of (v_j − v_i)/(t_j − t_i) over all pairs with t_i ≠ t_j;
 * intercept: median of v_i − slope·(t_i − t0). Interval (Sen 1968): with N pairwise slopes sorted
 * and C = z·√(n(n−1)(2n+5)/18), the slopes of rank ⌊(N − C)/2⌋ and ⌈(N + C)/2⌉ (0-based, clamped).
 * Undefined when fewer than two distinct times.
 *
 * @example theilSen([{at: t(0), value: 1}, {at: t(60), value: 2}, {at: t(120), value: 3}]).slope // 1/60
 */
export function theilSen(points: readonly TrendPoint[], confidence = 0.9): TheilSenFit | undefined {
  const pts = points.filter((p) => Number.isFinite(p.value)).map((p) => ({ t: p.at.getTime() / 1000, v: p.value })).sort((a, b) => a.t - b.t);
  const first = pts[0];
  if (!first) return undefined;
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const pi = pts[i]!;
      const pj = pts[j]!;
      if (pj.t !== pi.t) slopes.push((pj.v - pi.v) / (pj.t - pi.t));
    }
  }
  if (slopes.length === 0) return undefined;
  slopes.sort((a, b) => a - b);
  const slope = median(slopes);
  const t0 = first.t;
  const intercept = median(pts.map((p) => p.v - slope * (p.t - t0)).sort((a, b) => a - b));
  const n = pts.length;
  const N = slopes.length;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const C = z * Math.sqrt((n * (n - 1) * (2 * n + 5)) / 18);
  const lo = Math.max(0, Math.min(N - 1, Math.floor((N - C) / 2)));
  const hi = Math.max(0, Math.min(N - 1, Math.ceil((N + C) / 2)));
  return { slope, intercept, t0, slopeLow: slopes[lo] as number, slopeHigh: slopes[hi] as number, points: n };
}

/**
 * Time until `metric` crosses `threshold`, from the Theil–Sen line over `points` evaluated at `now`:
 * - `not_enough_data`: fewer than `minPoints` points (or fewer than two distinct times);
 * - `already_crossed`: the fitted value now, or the latest point, is past the threshold;
 * - `not_crossing`: the median slope does not move toward the threshold;
 * - `crossing`: eta = (threshold − fitted now) / slope; the interval uses the slope interval
 *   (the steeper slope gives the earlier bound; when the shallower one does not move toward the
 *   threshold the later bound is open and left out).
 *
 * @example predictCrossing('api_latency_p99', points, 0.5, now) // { status: 'crossing', etaSeconds: 1800, ... }
 */
export function predictCrossing(metric: string, points: readonly TrendPoint[], threshold: number, now: Date, options: TrendOptions = {}): TrendPrediction {
  const minPoints = options.minPoints ?? 5;
  const sign = (options.direction ?? 'above') === 'above' ? 1 : -1;
  const valid = points.filter((p) => Number.isFinite(p.value));
  const fit = valid.length >= minPoints ? theilSen(valid, options.confidence ?? 0.9) : undefined;
  if (!fit) return { metric, threshold, status: 'not_enough_data', points: valid.length };
  const slopePerMinute = fit.slope * 60;
  const fittedNow = fit.intercept + fit.slope * (now.getTime() / 1000 - fit.t0);
  const latest = valid.reduce((a, b) => (b.at > a.at ? b : a));
  const past = (v: number) => sign * (v - threshold) >= 0;
  if (past(fittedNow) || past(latest.value)) return { metric, threshold, status: 'already_crossed', slopePerMinute, points: fit.points };
  const toward = sign * fit.slope;
  if (!(toward > 0)) return { metric, threshold, status: 'not_crossing', slopePerMinute, points: fit.points };
  const gap = threshold - fittedNow;
  const eta = gap / fit.slope;
  const steep = sign > 0 ? fit.slopeHigh : fit.slopeLow;
  const shallow = sign > 0 ? fit.slopeLow : fit.slopeHigh;
  return {
    metric,
    threshold,
    status: 'crossing',
    etaSeconds: Math.round(eta),
    ...(sign * steep > 0 ? { etaLowSeconds: Math.round(gap / steep) } : {}),
    ...(sign * shallow > 0 ? { etaHighSeconds: Math.round(gap / shallow) } : {}),
    slopePerMinute,
    points: fit.points,
  };
}
