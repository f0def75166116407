/**
 * Cold init of two builds on one machine: this checkout's functions against another checkout's
 * (a `git worktree` of an earlier commit, with node_modules), both built as their stack builds
 * them (each checkout's bench/bundles.ts and lib/infra/bundling.ts), timed process by process in
 * turn so that both see the same machine state. Medians of the rounds, above bare `node -e 0`,
 * wall and CPU. Wall figures drift between machines several-fold; a comparison on one machine
 * does not.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node bin/run-ts.js bench/bundles-compare.ts /tmp/before [rounds=7] [functionId ...]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../lib/infra/bundling';
import { median } from './result';

interface Built {
  readonly build: 'before' | 'after';
  readonly functionId: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly bytes: number;
}

type BundlesModule = typeof import('./bundles');

async function buildAll(build: Built['build'], root: string, out: string, only: readonly string[]): Promise<Built[]> {
  // Each checkout's own bench module: its entries, its esbuild options, its function environment.
  const bench = require(path.join(root, 'bench/bundles.ts')) as BundlesModule;
  const dir = path.join(out, build);
  mkdirSync(dir, { recursive: true });
  bench.provideRuntimeSdk(dir);
  const built: Built[] = [];
  for (const e of bench.lambdaEntries(root)) {
    if (only.length > 0 && !only.includes(e.functionId)) continue;
    const fdir = path.join(dir, e.functionId.replace(':', '-'));
    const { bytes } = await bench.buildFunction(e.entry, fdir);
    built.push({ build, functionId: e.functionId, dir: fdir, env: bench.functionEnvironment(path.join(fdir, 'config')), bytes });
  }
  return built;
}

function time(cwd: string, env: NodeJS.ProcessEnv, script: string): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', `${script};const u=process.cpuUsage();process.stdout.write(String((u.user+u.system)/1000))`], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node in ${cwd} exited ${r.status}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  return { wall: performance.now() - t0, cpu: Number(r.stdout) };
}

async function main(): Promise<void> {
  const [other, rounds = '7', ...only] = process.argv.slice(2);
  if (!other) throw new Error('usage: bench/bundles-compare.ts <other checkout> [rounds] [functionId ...]');
  const out = mkdtempSync(path.join(tmpdir(), 'sre-agent-bundles-compare-'));
  try {
    const built = [...(await buildAll('before', path.resolve(other), out, only)), ...(await buildAll('after', REPO_ROOT, out, only))];
    const samples = new Map<string, { wall: number[]; cpu: number[] }>();
    const add = (key: string, t: { wall: number; cpu: number }) => {
      const s = samples.get(key) ?? { wall: [], cpu: [] };
      s.wall.push(t.wall);
      s.cpu.push(t.cpu);
      samples.set(key, s);
    };
    for (const b of built) time(b.dir, b.env, `require('./index.js')`); // warm the file cache
    for (let i = 0; i < Number(rounds); i += 1) {
      add('bare', time(out, { PATH: process.env.PATH }, '0'));
      for (const b of built) add(`${b.functionId} ${b.build}`, time(b.dir, b.env, `if(typeof require('./index.js').handler!=='function')throw new Error('no handler')`));
    }
    const bare = samples.get('bare')!;
    const above = (key: string) => `${Math.round(median(samples.get(key)!.wall) - median(bare.wall))} / ${Math.round(median(samples.get(key)!.cpu) - median(bare.cpu))}`;
    const kb = (id: string, build: Built['build']) => Math.round((built.find((b) => b.functionId === id && b.build === build)?.bytes ?? Number.NaN) / 1000);
    const rows = [...new Set(built.map((b) => b.functionId))].map((id) => `| ${id} | ${kb(id, 'before')} → ${kb(id, 'after')} | ${above(`${id} before`)} | ${above(`${id} after`)} |`);
    process.stdout.write(`bare node -e 0: ${Math.round(median(bare.wall))} ms wall, ${Math.round(median(bare.cpu))} ms cpu; medians of ${rounds}\n| function | kB | before (ms above bare, wall / cpu) | after |\n| --- | ---: | ---: | ---: |\n${rows.join('\n')}\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bundles-compare: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
