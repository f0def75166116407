/**
 * Compile benchmark: 1,000 playbooks varied from the seven seed playbooks (renamed, thresholds,
 * durations and parameters changed, steps added and removed, all still valid) are validated and
 * compiled in memory, and their ASL serialised as `npm run compile` would write it. Target: the
 * whole batch in under 2 s on a 2-core machine, so `validate`/`compile` stay instant as the
 * playbook folder grows.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { compilePlaybook, loadPlaybookText, playbookFiles, REPO_ROOT } from '../lib/playbook';
import { median, peakRssMb, type BenchResult } from './result';
import { defaultCatalogue } from '../lib/playbook/catalogue-file';
import { defaultPolicy } from '../lib/policy/files';

/** Playbooks compiled per round. */
export const PLAYBOOK_COUNT = 1000;
export const ROUNDS = 5;
export const TARGET_MS = 2000;

interface GeneratedPlaybook {
  /** Virtual path, `bench/generated/<name>.yaml`. */
  readonly file: string;
  readonly text: string;
}

type Step = Record<string, unknown> & { name: string; action: string; params?: Record<string, unknown>; condition?: string };
type Playbook = Record<string, unknown> & { playbook: string; steps: Step[] };

/**
 * Scales every number written with a unit (`200ms`, `3min`, `85%`) in a condition or detection
 * rule; a number inside a name (`pod_restart_count_1h`) is part of the name, not a threshold.
 * @example scaleThresholds('pod_restart_count_1h > 3 for 5min', 2) // 'pod_restart_count_1h > 3 for 10min'
 */
export function scaleThresholds(text: string, factor: number): string {
  return text.replace(/(?<![A-Za-z0-9_.])(\d+(?:\.\d+)?)(ms|min|s|h|d|%)(?![A-Za-z0-9_])/g, (_m, n: string, unit: string) => {
    const scaled = Math.max(1, Math.round(Number(n) * factor));
    return `${unit === '%' ? Math.min(99, scaled) : scaled}${unit}`;
  });
}

/** Changes the parameters the seed playbooks use, staying inside the policy caps. */
function varyParams(step: Step, i: number): void {
  const p = step.params;
  if (!p) return;
  switch (step.action) {
    case 'rds_query':
      p.max_kills = 10 + (i % 41);
      break;
    case 'patch_hpa_max':
      p.new_max = `current_max * ${[1.5, 2, 3][i % 3]}`;
      break;
    case 'kubectl_scale':
      p.replicas = i % 2 === 0 ? 'current * 2' : 'current + 2';
      break;
    case 'check_certificates':
      p.warning_threshold = `${20 + (i % 40)}d`;
      p.critical_threshold = `${3 + (i % 10)}d`;
      break;
    case 'rds_parameter_change':
      p.new_value = `current * ${[1.2, 1.5, 2][i % 3]}`;
      break;
    case 'send_alert':
      p.channels = [['pagerduty', 'slack', 'phone'], ['slack'], ['pagerduty', 'sns']][i % 3];
      break;
  }
}

/** Steps the generator may append: a notification and a follow-up ticket, both valid anywhere. */
function extraSteps(i: number): Step[] {
  const notify: Step = {
    name: `notify_oncall_${i % 10}`,
    action: 'send_alert',
    params: { severity: ['LOW', 'MEDIUM', 'HIGH'][i % 3], channels: ['slack'], message: `{{service}}: {{playbook}} step ${i} done for {{incident_id}}` },
    auto_execute: true,
  };
  const ticket: Step = {
    name: `followup_ticket_${i % 10}`,
    action: 'create_ticket',
    params: { title: `{{service}} follow-up #${i}`, priority: ['LOW', 'MEDIUM', 'HIGH'][i % 3], assignee: 'sre-team' },
  };
  return i % 3 === 0 ? [notify, ticket] : i % 3 === 1 ? [notify] : [ticket];
}

/** Playbook `i`: seed `i mod 7`, renamed and varied deterministically. */
function vary(seed: Playbook, seedName: string, i: number): Playbook {
  const pb = structuredClone(seed);
  const factor = 0.5 + (i % 11) / 10;
  pb.playbook = `${seedName}-${i}`;
  pb.description = `${String(pb.description ?? '')} (variant ${i})`;
  const detection = pb.detection as { primary?: unknown[] } | undefined;
  if (detection?.primary) detection.primary = detection.primary.map((r) => (typeof r === 'string' ? scaleThresholds(r, factor) : r));
  for (const step of pb.steps) {
    if (step.condition) step.condition = scaleThresholds(step.condition, factor);
    varyParams(step, i);
  }
  // Removing the last step never breaks a reference: conditions only look back.
  if (i % 5 === 0 && pb.steps.length > 1) pb.steps.pop();
  if (i % 4 !== 0) pb.steps.push(...extraSteps(i));
  if (i % 6 === 0) pb.escalation = { oncall_sre: `${5 + (i % 10)}min`, team_lead: `${15 + (i % 15)}min`, director: '30min' };
  return pb;
}

/** The seed playbooks as plain objects, with their names. */
function seeds(): { name: string; playbook: Playbook }[] {
  return playbookFiles().map((file) => ({ name: path.basename(file, '.yaml'), playbook: parse(readFileSync(file, 'utf8')) as Playbook }));
}

/** `count` valid playbooks as YAML text, cycling through the seeds. */
export function generatePlaybooks(count: number = PLAYBOOK_COUNT): GeneratedPlaybook[] {
  const base = seeds();
  return Array.from({ length: count }, (_, i) => {
    const seed = base[i % base.length];
    const pb = vary(seed.playbook, seed.name, i);
    return { file: path.join(REPO_ROOT, 'bench/generated', `${pb.playbook}.yaml`), text: stringify(pb) };
  });
}

/** Validates, compiles and serialises every playbook once; returns the total ASL size (so nothing is optimised away). */
export function compileAll(playbooks: readonly GeneratedPlaybook[]): number {
  const policy = defaultPolicy();
  let bytes = 0;
  for (const { file, text } of playbooks) {
    const machine = compilePlaybook(loadPlaybookText(file, text), policy, { sourcePath: path.relative(REPO_ROOT, file) });
    bytes += `${JSON.stringify(machine.asl, null, 2)}\n`.length;
  }
  return bytes;
}

/**
 * Runs the compile benchmark: generates the playbooks (untimed), then times ROUNDS rounds of
 * compiling all of them.
 * @example const r = await benchCompile(); console.log(r.medianMs);
 */
export async function benchCompile(options: { count?: number; rounds?: number } = {}): Promise<BenchResult> {
  const count = options.count ?? PLAYBOOK_COUNT;
  const playbooks = generatePlaybooks(count);
  // The policy and the metric catalogue are read once per process, not per playbook: load them untimed.
  defaultPolicy();
  defaultCatalogue();
  const roundsMs: number[] = [];
  const roundsCpuMs: number[] = [];
  for (let r = 0; r < (options.rounds ?? ROUNDS); r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    compileAll(playbooks);
    roundsMs.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    roundsCpuMs.push((used.user + used.system) / 1000);
  }
  const medianMs = median(roundsMs);
  return {
    name: 'compile',
    workload: `${count} playbooks`,
    roundsMs,
    roundsCpuMs,
    medianMs,
    minMs: Math.min(...roundsMs),
    peakRssMb: peakRssMb(),
    targetMs: TARGET_MS,
    pass: medianMs < TARGET_MS,
  };
}
