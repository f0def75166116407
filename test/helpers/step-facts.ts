/** StepFacts for the policy rules' unit tests: a registered action, its parameters, how it runs. */
import { findAction } from '../../lib/actions';
import { runRules, type Finding, type Phase, type Policy, type StepFacts } from '../../lib/policy';
import { defaultPolicy } from '../../lib/policy/files';

export function facts(action: string, params: Record<string, unknown>, overrides: Partial<StepFacts> = {}): StepFacts {
  const def = findAction(action);
  if (!def) throw new Error(`no action ${action}`);
  return { name: 'step', action: def, mode: 'auto', risk: def.defaultRisk, approvers: [], params, ...overrides };
}

/** The findings of one rule (by id) for a step. */
export function findingsOf(rule: string, step: StepFacts, phase: Phase = 'runtime', policy: Policy = defaultPolicy()): Finding[] {
  return runRules(step, policy, phase).filter((f) => f.rule === rule);
}
