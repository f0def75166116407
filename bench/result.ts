/** What every benchmark returns, and the one line bench/run.ts prints for it. */

export interface BenchResult {
  /** Short id, e.g. `compile`. */
  readonly name: string;
  /** What one round does, e.g. `1000 playbooks`. */
  readonly workload: string;
  /** Wall time of each round, in milliseconds, in the order run. */
  readonly roundsMs: readonly number[];
  /**
   * CPU time (user + system) of each round, in milliseconds. Well below the wall time means
   * the process waited for a core: other work was running, and the wall time overstates.
   */
  readonly roundsCpuMs: readonly number[];
  readonly medianMs: number;
  readonly minMs: number;
  /** Peak resident set size of the process after the rounds, in MB. */
  readonly peakRssMb: number;
  /** The median must stay under this. */
  readonly targetMs: number;
  /** Every target of the benchmark met (some have more than the time one). */
  readonly pass: boolean;
  /** What missed, when `pass` is false for a reason other than the median time. */
  readonly missed?: string;
}

/** Middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak RSS of this process so far, in MB (`maxRSS` is in kilobytes). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** `compile: 1000 playbooks: median 812 ms (min 790 ms), rss 180 MB, target < 2000 ms: PASS` */
export function formatResult(r: BenchResult): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  return `${r.name}: ${r.workload}: median ${ms(r.medianMs)} (min ${ms(r.minMs)}), rss ${Math.round(r.peakRssMb)} MB, target < ${r.targetMs} ms: ${r.medianMs < r.targetMs ? 'PASS' : 'FAIL'}`;
}
