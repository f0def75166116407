/**
 * `npm run bench`: runs every benchmark below in turn and prints one line each. Exits 0 even when
 * a target is missed (a slow CI machine is not a broken build), but says so plainly.
 */
import { availableParallelism, loadavg } from 'node:os';
import { benchAlarmStorm } from './alarm-storm';
import { benchBundles } from './bundles';
import { benchCli } from './cli';
import { benchCompile } from './compile';
import { benchDrills } from './drills';
import { benchCost } from './cost';
import { formatResult, type BenchResult } from './result';

/** Every benchmark, in the order run. Adding one = one line here. */
const BENCHMARKS: readonly (() => Promise<BenchResult>)[] = [
  benchCompile,
  benchAlarmStorm,
  benchCli,
  benchBundles,
  benchDrills,
  benchCost,
];

async function main(): Promise<void> {
  const missed: string[] = [];
  // Wall times on a busy machine overstate: say how busy it was.
  process.stdout.write(`node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}\n`);
  for (const bench of BENCHMARKS) {
    const result = await bench();
    process.stdout.write(`${formatResult(result)}\n`);
    const ms = (list: readonly number[]) => list.map((n) => Math.round(n)).join(', ');
    process.stdout.write(`  rounds: wall ${ms(result.roundsMs)} ms; cpu ${ms(result.roundsCpuMs)} ms\n`);
    if (!result.pass) missed.push(`${result.name} (${result.missed ?? `median ${Math.round(result.medianMs)} ms, target < ${result.targetMs} ms`})`);
  }
  process.stdout.write(missed.length ? `\nTARGET MISSED: ${missed.join('; ')}\n` : `\nall ${BENCHMARKS.length} benchmark target(s) met\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
