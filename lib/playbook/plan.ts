/**
 * `sre-agent plan`: a dry-run table of what a playbook would do, per step — read-only or
 * mutating, automatic or approval (by whom), its condition and timing, what the breakers do to
 * it, its caps and target. Precise where an SSM preview would say "Undetermined": every
 * answer here is decided by the same code the compiler and the runtime guard use.
 */
import { runRules, type Policy } from '../policy';
import { formatDuration } from '../yaml';
import { formatCondition } from '../compiled/expression';
import type { LoadedPlaybook, LoadedStep } from './loader';
import { stepFacts } from './safety';

export interface PlanRow {
  readonly step: string;
  readonly action: string;
  readonly effect: string;
  readonly runs: string;
  readonly condition: string;
  readonly breakers: string;
  readonly limits: string;
  readonly target: string;
}

function capsFor(pb: LoadedPlaybook, step: LoadedStep, policy: Policy): string {
  const c = policy.caps;
  const p = step.params;
  const limits: string[] = [`timeout ${formatDuration(step.timeoutSeconds)}`];
  // The same factor ranges the compiler checks and the runtime enforces on each result.
  for (const b of stepFacts(pb, step).bounds ?? []) {
    const spec = step.action.bounds?.[b.param];
    if (!spec) continue;
    const range = b.reason ? `unbounded (${b.reason})` : b.min === b.max ? `${b.min}×` : `${b.min}×..${b.max}×`;
    limits.push(`${b.param} "${b.expression}" scales ${b.local} by ${range} (policy ${c[spec.floor]}×..${c[spec.ceiling]}×)`);
  }
  switch (step.action.name) {
    case 'rds_query':
      limits.push(`max_kills ${Math.min(Number(p.max_kills ?? c.max_kills), c.max_kills)} (policy ${c.max_kills})`, 'SQL: one parsed read-only statement; KILL only threads idle (Sleep) over the query\'s time > N, never protected services\' users');
      break;
    case 'patch_hpa_max':
    case 'kubectl_scale':
      limits.push(`≤ ${c.max_replicas} replicas`);
      break;
    case 'api_call':
      limits.push(`endpoints on the allow-list only (${policy.document.api_endpoints.join(', ') || 'none'})`);
      break;
    case 'feature_flags':
      limits.push(`degradable features only (${policy.document.degradable_features.join(', ') || 'none'})`);
      break;
    case 'redis_command':
      limits.push(`UNLINK only ${c.redis_unlink_prefixes.join(', ')}, ≤ ${c.redis_max_unlinks} keys`);
      break;
    case 'elasticache_modify':
      limits.push('one node tier at a time');
      break;
  }
  return limits.join('; ');
}

export function planRows(pb: LoadedPlaybook, policy: Policy): PlanRow[] {
  return pb.steps.map((step) => {
    const findings = runRules(stepFacts(pb, step), policy, 'compile');
    const categories = [...new Set(findings.filter((f) => f.effect === 'refuse' && f.category).map((f) => f.category))];
    const refused = findings.filter((f) => f.effect === 'refuse').map((f) => f.rule);
    const effect = categories.length
      ? `BLACKLISTED (${categories.join(', ')})`
      : refused.length
        ? `REFUSED (${[...new Set(refused)].join(', ')})`
        : step.action.mutates
          ? 'mutating'
          : `read-only (${step.action.kind})`;
    const windows = pb.escalationSeconds;
    const runs =
      step.mode === 'approval'
        ? `approval: ${step.approvers.join(' + ')} (${step.minApprovals} of ${step.approvers.length}); escalates after ${formatDuration(windows.oncall_sre)} → team lead, ${formatDuration(windows.team_lead)} → director, expires after ${formatDuration(windows.director)}`
        : 'automatic';
    const cond = step.condition
      ? `${formatCondition(step.condition)}${step.afterStep ? ` (after step ${step.afterStep})` : ''}; false or no data → skipped`
      : 'always';
    const breakers = step.action.mutates ? 'skipped while the global breaker (diagnose-only), or the breaker of the incident\'s service or of a service it acts on, is open' : 'runs even in diagnose-only mode';
    const targets = (step.action.targets?.(step.params) ?? []).map((t) => (t.name.includes('{{') ? `${t.name} (resolved at run time; guard re-checks)` : t.name));
    const prot = step.action.mutates ? (step.action.targets?.(step.params) ?? []).filter((t) => t.kind === 'service' && !t.name.includes('{{') && policy.isProtected(t.name)).map((t) => t.name) : [];
    return {
      step: `${step.index + 1}. ${step.spec.name}`,
      action: step.action.name,
      effect,
      runs: `${runs}${prot.length ? ` [protected: ${prot.join(', ')}]` : ''}`,
      condition: cond,
      breakers,
      limits: capsFor(pb, step, policy),
      target: targets.join(', ') || '—',
    };
  });
}

/** Plain-text table, one block per step (wide columns do not fit a terminal). */
export function renderPlan(pb: LoadedPlaybook, policy: Policy): string {
  const rows = planRows(pb, policy);
  const out = [`Plan for ${pb.name} (risk ${pb.spec.risk}, ${pb.kind === 'schedule' ? `scheduled ${pb.spec.schedule ?? 'rate(1 day)'}` : 'alarm-triggered'})`, ''];
  for (const r of rows) {
    out.push(`${r.step}  [${r.action}]`);
    out.push(`   effect:     ${r.effect}`);
    out.push(`   runs:       ${r.runs}`);
    out.push(`   condition:  ${r.condition}`);
    out.push(`   breakers:   ${r.breakers}`);
    out.push(`   limits:     ${r.limits}`);
    out.push(`   target:     ${r.target}`);
    out.push('');
  }
  return out.join('\n');
}
