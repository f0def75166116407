/**
 * What an approval is bound to and who decided it: the binding of an invocation (action, hash of
 * its resolved parameters, its targets), people compared by identity, and whether an APPROVED
 * record carries the approvals a step requires. Used by the runtime guard, the approval request
 * and the callback; it runs no rule, so importing it brings no rule (nor the SQL parser) along.
 */
import { createHash } from 'node:crypto';
import type { Policy } from './policy';
import type { StepFacts, TargetRef } from './step';

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

/** An approval record as the guard reads it. */
export interface StoredApproval {
  readonly approvalId: string;
  readonly status: string;
  readonly binding?: Partial<ApprovalBinding>;
  readonly decisions: readonly { readonly role: string; readonly decision: string; readonly person: string }[];
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
