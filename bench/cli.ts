/**
 * CLI latency: simple commands run as a user runs them (`node bin/sre-agent-cli.js ...`, a new
 * process each time, from the prebuilt .build/ when it is fresh). Target: each simple command
 * answers within 300 ms (median of the rounds): `--help`, and `incidents` against a port where
 * nothing listens (the work of every API command: load, read the token, one request). `validate`
 * of one playbook loads the compiler, the action schemas and the SQL parser; it is timed and
 * printed, not held to the target.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { median, peakRssMb, type BenchResult } from './result';

const ROOT = path.resolve(__dirname, '..');
const ROUNDS = 7;
export const TARGET_MS = 300;
const SIMPLE: readonly (readonly string[])[] = [['--help'], ['incidents', '--url', 'http://127.0.0.1:9']];
const COMMANDS: readonly (readonly string[])[] = [...SIMPLE, ['validate', 'traffic-surge']];

const run = promisify(execFile);

async function timeOnce(args: readonly string[]): Promise<{ wall: number; cpu: number }> {
  const before = process.cpuUsage();
  const t0 = performance.now();
  // A failing command (incidents: nothing listens) is still a measured answer.
  await run(process.execPath, [path.join(ROOT, 'bin/sre-agent-cli.js'), ...args], { cwd: ROOT }).catch(() => undefined);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(before);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

export async function benchCli(): Promise<BenchResult> {
  const { isFresh } = require('../bin/build-cli.js') as { isFresh(): boolean };
  const perCommand = new Map<string, number[]>();
  const rounds: number[] = [];
  const cpus: number[] = [];
  await timeOnce(COMMANDS[0]!); // warm the file cache
  for (let i = 0; i < ROUNDS; i += 1) {
    let slowest = 0;
    let cpu = 0;
    for (const args of COMMANDS) {
      const t = await timeOnce(args);
      perCommand.set(args[0]!, [...(perCommand.get(args[0]!) ?? []), t.wall]);
      if (SIMPLE.includes(args)) {
        slowest = Math.max(slowest, t.wall);
        cpu += t.cpu;
      }
    }
    rounds.push(slowest);
    cpus.push(cpu);
  }
  const medians = [...perCommand].map(([cmd, ms]) => `${cmd} ${Math.round(median(ms))} ms`);
  const worst = Math.max(...SIMPLE.map((args) => median(perCommand.get(args[0]!)!)));
  return {
    name: 'cli',
    workload: `slowest of ${SIMPLE.length} simple commands, a process each (${isFresh() ? 'prebuilt' : 'tsx: run npm run build'}): ${medians.join(', ')}`,
    roundsMs: rounds,
    roundsCpuMs: cpus,
    medianMs: worst,
    minMs: Math.min(...rounds),
    peakRssMb: peakRssMb(),
    targetMs: TARGET_MS,
    pass: worst < TARGET_MS,
  };
}
