/**
 * The runtime guard: the second safety layer, in every action Lambda, before any I/O to the
 * target. It decides from the compiled step (bundled with the function, pinned by the playbook
 * hash the incident recorded), the parameters resolved from stored state, the approval record
 * and the breakers — never from what an invocation payload claims. The compiler runs the same
 * rules (lib/policy/rules) on the playbook as written.
 */
import { createHash } from 'node:crypto';
import { PolicyViolationError } from './errors';
import type { Policy } from './policy';
import { formatFinding, runRules, type Finding } from './rules';
import type { BoundSpec, FactorBound, StepFacts, TargetRef } from './step';

/** What an approval approved: the guard runs a step only on an approval of exactly this. */
export interface ApprovalBinding {
  readonly action: string;
  /** sha256 of the canonical JSON of the resolved parameters. */
  readonly paramsHash: string;
  /** The systems the parameters target, canonical (`service:trading-api`). */
  readonly target: string;
}

/** JSON with object keys sorted: one text per value, whatever order the keys were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What an approval of this invocation must name: the action, the hash of its resolved
 * parameters and its resolved targets (services by identity). The approval request and the
 * guard compute it the same way, from the compiled step and stored state.
 */
export function approvalBinding(action: string, params: Readonly<Record<string, unknown>>, targets: readonly TargetRef[], policy: Policy): ApprovalBinding {
  const names = targets.map((t) => `${t.kind}:${t.kind === 'service' ? policy.services.identify(t.name).name : t.name}`);
  return { action, paramsHash: sha256(canonicalJson(params)), target: [...new Set(names)].sort().join(',') || 'none' };
}

/** Why the binding of an approval differs from the step's, or undefined when it does not. */
export function bindingMismatch(approved: Partial<ApprovalBinding> | undefined, expected: ApprovalBinding): string | undefined {
  if (!approved) return 'the approval record binds nothing (written before bindings were stored)';
  const diffs: string[] = [];
  if (approved.action !== expected.action) diffs.push(`action ${String(approved.action)} was approved, ${expected.action} is invoked`);
  if (approved.target !== expected.target) diffs.push(`target ${String(approved.target)} was approved, ${expected.target} is invoked`);
  if (approved.paramsHash !== expected.paramsHash) diffs.push(`parameters ${String(approved.paramsHash).slice(0, 12)}… were approved, ${expected.paramsHash.slice(0, 12)}… are invoked`);
  return diffs.length > 0 ? diffs.join('; ') : undefined;
}

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
/** An approval record as the guard reads it. */
export interface StoredApproval {
  readonly approvalId: string;
  readonly status: string;
  readonly binding?: Partial<ApprovalBinding>;
  readonly decisions: readonly { readonly role: string; readonly decision: string; readonly person: string }[];
}

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
 * One person, one approval: the key a decision's person is compared by. Names are folded the way
 * people type them (Unicode compatibility forms, invisible characters, case, runs of spaces), so
 * `Kenji Sato`, `  kenji   SATO ` and `ＫＥＮＪＩ SATO` are one person. The CLI and the local API
 * resolve handles and e-mails to the roster's name before a decision is stored, and links carry it.
 * @example personKey('  Kenji   SATO ') // 'kenji sato'
 */
export function personKey(person: string): string {
  return person.normalize('NFKC').replace(/\p{Cf}/gu, '').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Why an APPROVED record does not carry the approvals the compiled step requires, or undefined:
 * every decision by a role the step names, no rejection, and at least `minApprovals` approvals by
 * distinct roles *and* distinct people (seed §2's two approvers for HIGH steps are two people: one
 * person holding both roles through an override or two PagerDuty schedules approves once).
 */
export function approversShort(record: StoredApproval, step: Pick<StepFacts, 'approvers' | 'minApprovals'>): string | undefined {
  const stranger = record.decisions.find((d) => !step.approvers.includes(d.role));
  if (stranger) return `holds a decision by role "${stranger.role}" (${stranger.person}), which is not an approver of the step (${step.approvers.join(', ') || 'none'})`;
  if (record.decisions.some((d) => d.decision !== 'approve')) return 'holds a rejection';
  const approving = record.decisions.filter((d) => d.decision === 'approve');
  const roles = new Set(approving.map((d) => d.role)).size;
  const people = new Set(approving.map((d) => personKey(d.person))).size;
  const needed = Math.max(1, step.minApprovals ?? step.approvers.length);
  if (roles < needed) return `has ${roles} approving role(s) of the ${needed} the step requires (${step.approvers.join(' + ')})`;
  if (people < needed) return `has approvals by ${people} person(s) (${[...new Set(approving.map((d) => d.person))].join(', ')}) where the step requires ${needed} different people (${step.approvers.join(' + ')})`;
  return undefined;
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
