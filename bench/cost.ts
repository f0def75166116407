/**
 * `node bin/run-ts.js bench/cost.ts`: what one incident costs per playbook, on the happy path (every
 * condition true, every approval granted at the first ask, recovery) and on the worst path (every
 * approval escalates L2 → L3 → L4 and expires; the incident escalates), from the compiled machines:
 * state transitions and Lambda invocations walked through the ASL, set next to AWS Systems Manager
 * Automation running the same steps. Prices: us-east-1, read from the pricing pages named below on
 * the day this was written; check them, they change.
 *
 * Not modelled (a **TODO**, see the README): DynamoDB requests per path (the IAM check counts them
 * per run; a drill-driven measurement belongs here), Lambda duration beyond the 300 ms assumed.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Asl, AslState } from '../lib/playbook/compile';
import { walkPath } from '../lib/playbook/graph';
import type { Manifest } from '../lib/compiled/manifest';

/** https://aws.amazon.com/step-functions/pricing/ — Standard workflows, per state transition. */
const SFN_PER_TRANSITION = 0.000025;
/** https://aws.amazon.com/lambda/pricing/ — per request, and per GB-second on Arm. */
const LAMBDA_PER_REQUEST = 0.0000002;
const LAMBDA_PER_GB_SECOND_ARM = 0.0000133334;
/** Assumed per invocation: 256 MB for 300 ms (the agent's functions are I/O-bound). */
const LAMBDA_GB_SECONDS = 0.25 * 0.3;
/** https://aws.amazon.com/systems-manager/pricing/ — Automation, per step beyond the free tier. */
const SSM_AUTOMATION_PER_STEP = 0.002;

const REPO = path.resolve(__dirname, '..');

function isLambda(state: AslState): boolean {
  return state.Type === 'Task';
}

function approvalTasks(asl: Asl, states: readonly string[]): number {
  return states.filter((s) => String(asl.States[s]?.Resource ?? '').endsWith('.waitForTaskToken')).length;
}

export interface PlaybookCost {
  readonly playbook: string;
  readonly happy: { transitions: number; lambdas: number; usd: number };
  readonly worst: { transitions: number; lambdas: number; usd: number };
  /** The same playbook's steps as an SSM Automation runbook (one step per playbook step and per check/notification it needs). */
  readonly ssmAutomationUsd: number;
}

const usd = (transitions: number, lambdas: number) => transitions * SFN_PER_TRANSITION + lambdas * (LAMBDA_PER_REQUEST + LAMBDA_GB_SECONDS * LAMBDA_PER_GB_SECOND_ARM);

export function playbookCosts(manifestFile = path.join(REPO, 'statemachines/index.json')): PlaybookCost[] {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  return manifest.machines.map((m) => {
    const asl = JSON.parse(readFileSync(path.join(REPO, m.file), 'utf8')) as Asl;
    const happy = walkPath(asl, 'full');
    const lambdas = happy.filter((s) => isLambda(asl.States[s] as AslState)).length;
    // Worst path: each approval asks at L2, L3 and L4 (an escalate Task between levels) and expires;
    // the incident then escalates and the machine checks recovery once more at level 4.
    const approvals = approvalTasks(asl, happy);
    const worstLambdas = lambdas + approvals * 4 + 3;
    const worstTransitions = happy.length + approvals * 8 + 6;
    return {
      playbook: m.playbook,
      happy: { transitions: happy.length, lambdas, usd: usd(happy.length, lambdas) },
      worst: { transitions: worstTransitions, lambdas: worstLambdas, usd: usd(worstTransitions, worstLambdas) },
      ssmAutomationUsd: (m.steps.length * 2 + 2) * SSM_AUTOMATION_PER_STEP,
    };
  });
}

function main(): void {
  const rows = playbookCosts();
  const f = (n: number) => `$${n.toFixed(5)}`;
  process.stdout.write('| playbook | happy: transitions / Lambda invocations / cost | worst: transitions / invocations / cost | SSM Automation, same steps |\n| --- | --- | --- | --- |\n');
  for (const r of rows) process.stdout.write(`| ${r.playbook} | ${r.happy.transitions} / ${r.happy.lambdas} / ${f(r.happy.usd)} | ${r.worst.transitions} / ${r.worst.lambdas} / ${f(r.worst.usd)} | ${f(r.ssmAutomationUsd)} |\n`);
}

if (require.main === module || path.resolve(process.argv[1] ?? '') === __filename) main();
