/**
 * Drills: `sre-agent drill all --speed 60` (every seed scenario and both breakers end to end on the
 * local engine and the drill world, lib/local/drill), timed as a whole. Target: within 3 minutes
 * on this machine (median of the rounds), and every drill on its expected path. Rounds default to
 * 3 (SRE_AGENT_BENCH_DRILL_ROUNDS); Redis database 10, the drills' default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DRILL_REDIS, runDrills } from '../lib/local/drill';
import { median, peakRssMb, type BenchResult } from './result';

export const TARGET_MS = 180_000;
const SPEED = 60;

export async function benchDrills(): Promise<BenchResult> {
  const rounds = Number(process.env.SRE_AGENT_BENCH_DRILL_ROUNDS ?? 3);
  const wall: number[] = [];
  const cpu: number[] = [];
  const failed: string[] = [];
  const reportDir = mkdtempSync(path.join(tmpdir(), 'sre-agent-bench-drills-'));
  let figures = '';
  try {
    for (let i = 0; i < rounds; i += 1) {
      const before = process.cpuUsage();
      const t0 = performance.now();
      const results = await runDrills(['all'], { speed: SPEED, redisUrl: DEFAULT_DRILL_REDIS, reportDir, log: () => undefined });
      wall.push(performance.now() - t0);
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      failed.push(...results.filter((r) => !r.passed).map((r) => `round ${i + 1} ${r.scenario}: ${r.deviations.join('; ')}`));
      figures = results.map((r) => `${r.scenario} ${r.wallSeconds}s`).join(', ');
    }
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
  const med = median(wall);
  return {
    name: 'drills',
    workload: `drill all --speed ${SPEED} (last round: ${figures})`,
    roundsMs: wall,
    roundsCpuMs: cpu,
    medianMs: med,
    minMs: Math.min(...wall),
    peakRssMb: peakRssMb(),
    targetMs: TARGET_MS,
    pass: med < TARGET_MS && failed.length === 0,
    ...(failed.length ? { missed: `drills off their path: ${failed.join(' | ').slice(0, 600)}` } : {}),
  };
}
