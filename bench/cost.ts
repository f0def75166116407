/**
 * `node bin/run-ts.js bench/cost.ts`: what one incident costs per playbook, on the happy path (every
 * condition true, every approval granted at the first ask, recovery) and on the worst path (every
 * approval escalates L2 → L3 → L4 and expires; the incident escalates), from the compiled machines
 * run on the local engine, set next to AWS Systems Manager Automation running the same steps. Prices: us-east-1, read from the pricing pages named below on
 * the day this was written; check them, they change.
 *
 * Each incident is walked, not estimated (bench/cost-walk.ts): each playbook runs on the local
 * engine, on its happy and its worst path; its state transitions are the states the engine entered
 * (Parallel branches included), its Lambda invocations the Tasks it entered (retries and approval
 * Tasks included), its DynamoDB requests those a counting middleware on the engine's DynamoDB
 * client saw, in on-demand request units as DynamoDB reports them (dynalite reports them per call;
 * transactional writes at two units per KB per item, as DynamoDB charges them). (A static walk of
 * the ASL would miss the runtime's own turns: a condition that must read fresh data waits and
 * checks again.) The worst path is walked to the hand-over at level 4; what each periodic recovery check after it
 * costs (until someone resolves the incident, at most the compiled number of checks) is listed apart.
 *
 * Not modelled (a **TODO**, see the README): Lambda duration beyond the 300 ms assumed.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { L4_STATES, type Asl, type AslState } from '../lib/playbook/compile';
import type { Manifest } from '../lib/compiled/manifest';
import { walkPlaybook, type WalkCount } from './cost-walk';
import { median, peakRssMb, type BenchResult } from './result';

/** https://aws.amazon.com/step-functions/pricing/ — Standard workflows, per state transition. */
const SFN_PER_TRANSITION = 0.000025;
/** https://aws.amazon.com/lambda/pricing/ — per request, and per GB-second on Arm. */
const LAMBDA_PER_REQUEST = 0.0000002;
const LAMBDA_PER_GB_SECOND_ARM = 0.0000133334;
/** Assumed per invocation: 256 MB for 300 ms (the agent's functions are I/O-bound). */
const LAMBDA_GB_SECONDS = 0.25 * 0.3;
/** https://aws.amazon.com/systems-manager/pricing/ — Automation, per step beyond the free tier. */
const SSM_AUTOMATION_PER_STEP = 0.002;
/**
 * https://aws.amazon.com/dynamodb/pricing/on-demand/ — on-demand, us-east-1: per write request
 * unit (1 KB; a transactional write takes two) and per read request unit (4 KB strongly
 * consistent; a transactional read takes two, an eventually consistent one half).
 */
const DYNAMO_PER_WRITE_UNIT = 0.625 / 1_000_000;
const DYNAMO_PER_READ_UNIT = 0.125 / 1_000_000;
/** The trigger's Powertools idempotency record per alarm event (in-progress put, completed update): not on the local engine, added here. */
const IDEMPOTENCY_WRITES_PER_EVENT = 2;

const REPO = path.resolve(__dirname, '..');
/** How a worst-path walk ends (bench/cost-walk.ts): at the hand-over, or done for a playbook that never escalates (a scheduled one). */
const WORST_ENDS = ['handed to people at L4', 'SUCCEEDED'];

function isLambda(state: AslState): boolean {
  return state.Type === 'Task';
}

export interface PlaybookCost {
  readonly playbook: string;
  /** One periodic recovery check at level 4 after the hand-over, and how many the machine makes at most. */
  readonly l4Check: { transitions: number; lambdas: number; usd: number; atMost: number };
  /** The same playbook's steps as an SSM Automation runbook (one step per playbook step and per check/notification it needs). */
  readonly ssmAutomationUsd: number;
}

const usd = (transitions: number, lambdas: number) => transitions * SFN_PER_TRANSITION + lambdas * (LAMBDA_PER_REQUEST + LAMBDA_GB_SECONDS * LAMBDA_PER_GB_SECOND_ARM);

/** The states of one turn of the level-4 recovery loop, and the most turns the machine takes. */
function l4Loop(asl: Asl): { transitions: number; lambdas: number; atMost: number } {
  const loop = [L4_STATES.wait, L4_STATES.check, L4_STATES.recovered, L4_STATES.count, L4_STATES.more].filter((s) => asl.States[s]);
  const more = asl.States[L4_STATES.more] as { Choices?: { NumericLessThan?: number }[] } | undefined;
  return { transitions: loop.length, lambdas: loop.filter((s) => isLambda(asl.States[s]!)).length, atMost: more?.Choices?.[0]?.NumericLessThan ?? 0 };
}

export function playbookCosts(manifestFile = path.join(REPO, 'statemachines/index.json')): PlaybookCost[] {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  return manifest.machines.map((m) => {
    const asl = JSON.parse(readFileSync(path.join(REPO, m.file), 'utf8')) as Asl;
    const loop = l4Loop(asl);
    return {
      playbook: m.playbook,
      l4Check: { ...loop, usd: usd(loop.transitions, loop.lambdas) },
      ssmAutomationUsd: (m.steps.length * 2 + 2) * SSM_AUTOMATION_PER_STEP,
    };
  });
}

/** One walked path of one incident: the walked counts (DynamoDB plus the trigger's idempotency writes for alarm playbooks) and what they cost in all. */
export interface WalkedPathCost extends WalkCount {
  /** Step Functions + Lambda + DynamoDB. */
  readonly usd: number;
}

function pathCost(walk: WalkCount, alarm: boolean): WalkedPathCost {
  const extra = alarm ? IDEMPOTENCY_WRITES_PER_EVENT : 0;
  const writeUnits = walk.writeUnits + extra;
  const dynamoUsd = writeUnits * DYNAMO_PER_WRITE_UNIT + walk.readUnits * DYNAMO_PER_READ_UNIT;
  return { ...walk, requests: walk.requests + extra, writeRequests: walk.writeRequests + extra, writeUnits, usd: usd(walk.transitions, walk.lambdas) + dynamoUsd };
}

export interface WalkedPlaybookCost extends PlaybookCost {
  readonly walked: { readonly happy: WalkedPathCost; readonly worst: WalkedPathCost };
}

/** Every playbook's cost per incident, walked on both paths (about 5 s per walk). */
export async function walkedPlaybookCosts(manifestFile?: string): Promise<WalkedPlaybookCost[]> {
  const manifest = JSON.parse(readFileSync(manifestFile ?? path.join(REPO, 'statemachines/index.json'), 'utf8')) as Manifest;
  const out: WalkedPlaybookCost[] = [];
  for (const cost of playbookCosts(manifestFile)) {
    const alarm = manifest.machines.find((m) => m.playbook === cost.playbook)?.trigger.type === 'alarm';
    out.push({ ...cost, walked: { happy: pathCost(await walkPlaybook(cost.playbook, 'happy'), alarm), worst: pathCost(await walkPlaybook(cost.playbook, 'worst'), alarm) } });
  }
  return out;
}

const f = (n: number) => `$${n.toFixed(5)}`;
const units = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function table(rows: readonly WalkedPlaybookCost[]): string {
  const cell = (r: WalkedPlaybookCost, which: 'happy' | 'worst') => {
    const d = r.walked[which];
    return `${d.transitions} / ${d.lambdas} / ${d.requests} (${units(d.readUnits)} RRU, ${units(d.writeUnits)} WRU) / ${f(d.usd)}`;
  };
  const l4 = (r: WalkedPlaybookCost) => `${r.l4Check.transitions} / ${r.l4Check.lambdas} / ${f(r.l4Check.usd)}, at most ${r.l4Check.atMost}`;
  return (
    '| playbook | happy: transitions / Lambda invocations / DynamoDB requests (units) / cost | worst, to the hand-over at L4: the same | then each L4 recovery check: transitions / Lambdas / cost | SSM Automation, same steps |\n| --- | --- | --- | --- | --- |\n' +
    rows.map((r) => `| ${r.playbook} | ${cell(r, 'happy')} | ${cell(r, 'worst')} | ${l4(r)} | ${f(r.ssmAutomationUsd)} |\n`).join('')
  );
}

/** `npm run bench`: the table, timed (no time target: the walk is a count; it passes when every walk reached its end). */
export async function benchCost(): Promise<BenchResult> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let rows: WalkedPlaybookCost[] = [];
  let problem: string | undefined;
  try {
    rows = await walkedPlaybookCosts();
  } catch (err) {
    problem = err instanceof Error ? err.message : String(err);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const unexpected = rows.filter((r) => r.walked.happy.ended !== 'SUCCEEDED' || !WORST_ENDS.includes(r.walked.worst.ended));

  process.stdout.write(`cost per incident (us-east-1; Lambda 256 MB × 300 ms assumed; DynamoDB walked on the local engine, on demand; see bench/cost.ts for the pricing pages):\n${table(rows)}`);
  const missed = [
    ...(problem ? [problem] : []),
    ...unexpected.map((r) => `${r.playbook}: the happy path ended ${r.walked.happy.ended} (expected SUCCEEDED), the worst ${r.walked.worst.ended} (expected ${WORST_ENDS.join(' or ')})`),
  ];
  return {
    name: 'cost',
    workload: `${rows.length} playbooks × happy and worst path walked`,
    roundsMs: [wallMs],
    roundsCpuMs: [(cpu.user + cpu.system) / 1000],
    medianMs: median([wallMs]),
    minMs: wallMs,
    peakRssMb: peakRssMb(),
    targetMs: Number.POSITIVE_INFINITY,
    pass: missed.length === 0,
    ...(missed.length ? { missed: missed.join('; ') } : {}),
  };
}

async function main(): Promise<void> {
  await benchCost();
}

if (require.main === module || path.resolve(process.argv[1] ?? '') === __filename) {
  main().catch((err: unknown) => {
    process.stderr.write(`cost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
