/**
 * The runtime guard: the second safety layer, in every action Lambda, before any I/O to the
 * target. It decides from the compiled step (bundled with the function, pinned by the playbook
 * hash the incident recorded), the parameters resolved from stored state, the approval record
 * and the breakers — never from what an invocation payload claims. The compiler runs the same
 * rules (lib/policy/rules) on the playbook as written.
 */
import { PolicyViolationError } from './errors';
import type { Policy } from './policy';
import { formatFinding, runRules, type Finding } from './rules';
import type { BoundSpec, FactorBound, StepFacts } from './step';
import { approversShort, bindingMismatch, type ApprovalBinding, type StoredApproval } from './binding';

export { approvalBinding, approversShort, bindingMismatch, canonicalJson, personKey, sha256 } from './binding';
export type { ApprovalBinding, StoredApproval } from './binding';

/** What the rules decide about a step with resolved parameters. */
export interface StepDecision {
  readonly refusals: readonly Finding[];
  /** Why the step needs an approval (the compiled mode, and every needs_approval finding); empty when it does not. */
  readonly approvalReasons: readonly string[];
}

/** Runs the runtime rules. Read-only steps need no approval unless compiled to wait for one. */
export function decideStep(step: StepFacts, policy: Policy): StepDecision {
  const findings = runRules(step, policy, 'runtime');
  const reasons = findings.filter((f) => f.effect === 'needs_approval').map((f) => `[${f.rule}] ${f.message}`);
  if (step.mode === 'approval') reasons.unshift('the step is compiled to wait for approval');
  return { refusals: findings.filter((f) => f.effect === 'refuse'), approvalReasons: reasons };
}

/** The stored state the guard consults, read by the caller (dispatcher) from DynamoDB. */
export interface GuardState {
  /** The approval record of this step, if any. */
  approval(): Promise<StoredApproval | undefined>;
  /** The breakers: only `auto` lets a mutating action run. */
  gate(): Promise<{ readonly mode: 'auto' | 'diagnose_only' | 'service_stopped'; readonly reason: string }>;
}

/**
 * Throws PolicyViolationError (naming the rule, the step and the field) when the step may not run
 * with these parameters now. Order: rules (blacklist, SQL, flags, endpoints, caps), approval
 * record and its binding, breakers. Read-only steps pass the breakers: the seed's diagnose-only
 * mode keeps diagnostics and notifications running.
 */
export async function guardStep(step: StepFacts, policy: Policy, state: GuardState, where: string, binding: ApprovalBinding): Promise<void> {
  const decision = decideStep(step, policy);
  const refusal = decision.refusals[0];
  if (refusal) {
    throw new PolicyViolationError(`${where}: ${decision.refusals.map(formatFinding).join('; ')}`, { category: refusal.category, rule: refusal.rule, step: step.name });
  }
  if (decision.approvalReasons.length > 0) {
    const record = await state.approval();
    if (!record || record.status !== 'APPROVED') {
      throw new PolicyViolationError(`${where}: no APPROVED approval${record ? ` (approval ${record.approvalId} is ${record.status})` : ''}; it needs one because ${decision.approvalReasons.join('; ')}`, { rule: 'approval-required', step: step.name });
    }
    const mismatch = bindingMismatch(record.binding, binding);
    if (mismatch) throw new PolicyViolationError(`${where}: approval ${record.approvalId} does not cover this invocation: ${mismatch}`, { rule: 'approval-binding', step: step.name });
    const short = approversShort(record, step);
    if (short) throw new PolicyViolationError(`${where}: approval ${record.approvalId} ${short}`, { rule: 'approval-approvers', step: step.name });
  }
  if (!step.action.mutates) return;
  const gate = await state.gate();
  if (gate.mode !== 'auto') throw new PolicyViolationError(`${where}: automatic remediation is paused (${gate.mode}: ${gate.reason})`, { rule: 'breaker-gate', step: step.name });
}

/**
 * Checks one scaled result at run time: `value ÷ base` within the compiled factor range and the
 * policy's floor and ceiling. Returns why not, or undefined.
 * @example checkFactor(spec, bound, 20, 10, policy) // undefined for current_max * 2
 */
export function checkFactor(spec: BoundSpec, bound: FactorBound | undefined, value: number, base: number, policy: Policy): string | undefined {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base <= 0) return `cannot scale ${spec.local} = ${base} to ${value}`;
  const factor = value / base;
  const floor = policy.caps[spec.floor];
  const ceiling = policy.caps[spec.ceiling];
  const eps = 1e-9;
  if (factor < floor - eps || factor > ceiling + eps) return `${value} is ${round(factor)} × ${spec.local} (${base}), outside the policy's ${floor}..${ceiling}`;
  // Rounding to whole replicas or bytes moves the factor by at most one unit of the base.
  const slack = 1 / base + eps;
  if (bound && !bound.reason && (factor < bound.min - slack || factor > bound.max + slack)) return `${value} is ${round(factor)} × ${spec.local} (${base}), outside the compiled ${bound.min}..${bound.max} of "${bound.expression}"`;
  return undefined;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
