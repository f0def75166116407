/**
 * The policy rules, one per file: the compiler and the runtime guard run the same list. Adding a
 * rule = adding its file (its id is its file name, a test checks it) and one line below.
 */
import type { Policy } from '../policy';
import type { StepFacts } from '../step';
import { rule as approvalMessageNeedsApproval } from './approval-message-needs-approval';
import { rule as approversNamed } from './approvers-named';
import { rule as blacklistedAction } from './blacklisted-action';
import { rule as blacklistedParameters } from './blacklisted-parameters';
import { rule as conflictingApprovalFlags } from './conflicting-approval-flags';
import { rule as degradableFlagsOnly } from './degradable-flags-only';
import { rule as endpointAllowList } from './endpoint-allow-list';
import { rule as expressionBounds } from './expression-bounds';
import { rule as highRiskApproval } from './high-risk-approval';
import { rule as killIdleOnly } from './kill-idle-only';
import { rule as parameterCaps } from './parameter-caps';
import { rule as protectedServiceApproval } from './protected-service-approval';
import type { Finding, Phase, PolicyRule } from './rule';
import { rule as sqlReadOnly } from './sql-read-only';

/** Every rule, in the order findings are reported: the blacklist first. */
export const RULES: readonly PolicyRule[] = [
  blacklistedAction,
  blacklistedParameters,
  sqlReadOnly,
  killIdleOnly,
  degradableFlagsOnly,
  endpointAllowList,
  parameterCaps,
  expressionBounds,
  protectedServiceApproval,
  highRiskApproval,
  approversNamed,
  conflictingApprovalFlags,
  approvalMessageNeedsApproval,
];

/** The findings of every rule that runs in `phase`. */
export function runRules(step: StepFacts, policy: Policy, phase: Phase, rules: readonly PolicyRule[] = RULES): Finding[] {
  return rules.filter((r) => r.phases.includes(phase)).flatMap((r) => r.check(step, policy, phase));
}

export { defineRule, formatFinding } from './rule';
export type { Effect, Finding, Phase, PolicyRule } from './rule';
