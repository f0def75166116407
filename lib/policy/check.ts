/**
 * Compile-time safety: refuses playbooks that could auto-execute a blacklisted operation, run a
 * mutating step on the matching engine (or another protected service) without approval, run a
 * HIGH-risk mutation on its own, or pass a literal parameter over a cap. The runtime guard
 * (lib/policy/guard.ts) checks the same rules again on resolved parameters.
 */
import { walkStrings, type LoadedPlaybook, type LoadedStep } from '../playbook/loader';
import { problemAt, type PlaybookProblem, type FieldPath } from '../yaml';
import type { Policy } from './policy';
import type { BlacklistHit } from './types';

/** Blacklist hits for a step's action and parameters: the action's own category plus its classifier's. */
export function blacklistHits(step: Pick<LoadedStep, 'action' | 'params'>, policy: Policy): BlacklistHit[] {
  const hits: BlacklistHit[] = [];
  if (step.action.blacklist) hits.push({ category: step.action.blacklist, reason: `action ${step.action.name} is itself a ${step.action.blacklist} operation` });
  hits.push(...(step.action.classify?.(step.params, policy) ?? []));
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(h.category + h.reason) && seen.add(h.category + h.reason));
}

/** Literal (non-template) services a step targets that the policy protects. */
export function protectedTargets(step: Pick<LoadedStep, 'action' | 'params'>, policy: Policy): string[] {
  return (step.action.targets?.(step.params) ?? [])
    .filter((t) => t.kind === 'service' && !t.name.includes('{{') && policy.isProtected(t.name))
    .map((t) => t.name);
}

export function checkPlaybookSafety(pb: LoadedPlaybook, policy: Policy): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  for (const step of pb.steps) {
    const path: FieldPath = ['steps', step.index];
    const fail = (field: FieldPath, message: string, offset?: number) => problems.push(problemAt(pb.source, [...path, ...field], message, { offset }));
    const s = step.spec;
    const label = `step "${s.name}" (action ${step.action.name})`;

    const hits = blacklistHits(step, policy);
    for (const hit of hits) {
      const at = step.action.blacklist ? { field: ['action'] } : paramAt(step, hit.reason);
      fail(at.field, `${label} is a blacklisted operation, category ${hit.category}: ${hit.reason}. The agent never executes it, with or without approval; it may only diagnose, ticket, notify and suggest (playbooks/policy.yaml)`, at.offset);
    }
    // The only fix for a blacklisted step is to remove it: advice about approvals would mislead.
    if (hits.length > 0) continue;
    if (s.auto_execute === true && s.requires_approval === true) {
      fail(['auto_execute'], `${label} sets both auto_execute and requires_approval; choose one`);
    }
    if (step.mode === 'auto' && step.action.mutates) {
      for (const svc of protectedTargets(step, policy)) {
        const why = policy.isMatchingEngine(svc) ? 'mutating steps on the matching engine always need approval, even at low risk (seed §2 scenario 2)' : `"${svc}" is a protected service (playbooks/policy.yaml)`;
        fail(['auto_execute'], `${label} targets ${svc} without requires_approval: true: ${why}`);
      }
      // A step may not talk its action's risk down: the runtime guard also uses the registered risk.
      const risk = [step.risk, step.action.defaultRisk].find((r) => r === 'CRITICAL') ?? [step.risk, step.action.defaultRisk].find((r) => r === 'HIGH');
      if (risk) {
        const defaulted = s.risk === undefined || s.risk !== risk ? ` (${risk} is the registered risk of ${step.action.name})` : '';
        fail(s.risk === risk ? ['risk'] : ['auto_execute'], `${label} is a ${risk}-risk mutation set to run without approval${defaulted}; add requires_approval: true and approvers`);
      }
    }
    if (step.mode === 'approval' && (step.risk === 'HIGH' || step.risk === 'CRITICAL') && !s.approvers) {
      fail(['approvers'], `${label} is ${step.risk} risk and needs approval: name the approvers, e.g. approvers: ["oncall_sre", "team_lead"]`);
    }
    if (s.approval_message !== undefined && step.mode !== 'approval') {
      fail(['approval_message'], `${label} has an approval_message but runs without approval`);
    }
    for (const message of step.action.checkCaps?.(step.params, policy) ?? []) {
      const at = paramAt(step, message);
      fail(at.field, `${label}: ${message}`, at.offset);
    }
  }
  return problems;
}

/**
 * The parameter a blacklist reason or cap message is about, so the error points at it rather
 * than at the step: the parameter the message starts with (`max_kills 500 is over ...`,
 * `query: SQL verb DELETE ...`) or, failing that, the string holding the message's first quoted
 * value (`feature flag "trading_pair_x" matches ...` → `disable[1]`), at that value; else the
 * whole params block.
 */
function paramAt(step: Pick<LoadedStep, 'spec'>, text: string): { field: FieldPath; offset?: number } {
  const params = step.spec.params ?? {};
  const first = /^(\w+)/.exec(text)?.[1];
  const named = first !== undefined && Object.prototype.hasOwnProperty.call(params, first) ? first : undefined;
  const quoted = /"([^"]+)"/.exec(text)?.[1];
  let found: { field: FieldPath; offset?: number } | undefined;
  if (quoted !== undefined) {
    walkStrings(named === undefined ? params : params[named], named === undefined ? [] : [named], (str, p) => {
      if (!found && str.includes(quoted)) found = { field: ['params', ...p], offset: str.indexOf(quoted) };
    });
  }
  return found ?? { field: named === undefined ? ['params'] : ['params', named] };
}
