/**
 * The approval decisions, as pure functions over a record: may this person decide now, what the
 * status becomes, what a new level's request does to an existing record, and which records can
 * no longer be used once their execution is gone. lib/approval/store.ts applies them with
 * conditional writes; `npm run mutate` tests them directly.
 */
import { bindingMismatch, personKey, type ApprovalBinding } from '../policy/binding';

/** The record fields the decisions read. */
export interface DecidableRecord {
  readonly approvalId: string;
  readonly step: string;
  readonly status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly decisions: readonly { readonly role: string; readonly person: string; readonly decision: 'approve' | 'reject' }[];
  readonly expiresAt: string;
  readonly level: number;
  readonly taskToken: string;
  readonly binding?: ApprovalBinding;
  readonly usedAt?: string;
  readonly closedReason?: string;
}

/** One decision as it is about to be made: who, for which role, which way. */
export interface DecisionAttempt {
  readonly role: string;
  readonly person: string;
  readonly decision: 'approve' | 'reject';
}

/**
 * Why this decision may not be made on this record at `now`, or undefined when it may: the record
 * is PENDING and unexpired, the role is an approver that has not decided, and an approval comes
 * from someone who has not approved it already in another role (one person, one approval: the
 * two-person rule). A rejection is taken from any approver role still open: it only stops the step.
 */
export function decisionRefusal(rec: DecidableRecord, attempt: DecisionAttempt, now: Date): string | undefined {
  if (rec.status !== 'PENDING') return `approval ${rec.approvalId} is already ${rec.status}`;
  if (Date.parse(rec.expiresAt) <= now.getTime()) return `approval ${rec.approvalId} expired at ${rec.expiresAt}`;
  if (!rec.approvers.includes(attempt.role)) return `role "${attempt.role}" is not an approver of step "${rec.step}" (approvers: ${rec.approvers.join(', ')})`;
  if (rec.decisions.some((d) => d.role === attempt.role)) return `role "${attempt.role}" already decided approval ${rec.approvalId}`;
  const mine = attempt.decision === 'approve' ? rec.decisions.find((d) => d.decision === 'approve' && personKey(d.person) === personKey(attempt.person)) : undefined;
  if (mine) return `${mine.person} already approved approval ${rec.approvalId} as ${mine.role}; the approvals of step "${rec.step}" must come from two different people`;
  return undefined;
}

/**
 * The status once these decisions are in: any rejection rejects; the step is approved once
 * `minApprovals` approvals come from distinct roles and distinct people.
 */
export function statusAfter(rec: Pick<DecidableRecord, 'minApprovals'>, decisions: DecidableRecord['decisions']): 'PENDING' | 'APPROVED' | 'REJECTED' {
  if (decisions.some((d) => d.decision === 'reject')) return 'REJECTED';
  const approving = decisions.filter((d) => d.decision === 'approve');
  const roles = new Set(approving.map((d) => d.role)).size;
  const people = new Set(approving.map((d) => personKey(d.person))).size;
  return Math.min(roles, people) >= rec.minApprovals ? 'APPROVED' : 'PENDING';
}

/** What a level's request does to the record already there (none: create one). */
export type RequestOutcome =
  | { readonly kind: 'create' }
  | { readonly kind: 'refuse'; readonly reason: string }
  /** Decided (while it escalated), or the same request again: hand the record back as it is. */
  | { readonly kind: 'return' }
  /** Still PENDING: store this level and its task token in it. */
  | { readonly kind: 'update' };

export function requestOutcome(existing: DecidableRecord | undefined, request: { readonly incidentId: string; readonly step: string; readonly level: number; readonly taskToken: string; readonly binding: ApprovalBinding }): RequestOutcome {
  if (!existing) return { kind: 'create' };
  const mismatch = bindingMismatch(existing.binding, request.binding);
  if (mismatch) return { kind: 'refuse', reason: `approval ${existing.approvalId} for step "${request.step}" of ${request.incidentId} binds another invocation (${mismatch}); not asking again` };
  if (existing.status === 'CANCELLED' || existing.status === 'EXPIRED') {
    return { kind: 'refuse', reason: `approval ${existing.approvalId} for step "${request.step}" of ${request.incidentId} is ${existing.status}${existing.closedReason ? ` (${existing.closedReason})` : ''}; not asking again` };
  }
  if (existing.status !== 'PENDING') return { kind: 'return' };
  if (existing.level >= request.level && existing.taskToken === request.taskToken) return { kind: 'return' };
  return { kind: 'update' };
}

/** True when a record could still let its step run, so it must be closed once the execution is gone. */
export function isClosable(rec: Pick<DecidableRecord, 'status' | 'usedAt'>): boolean {
  return rec.status === 'PENDING' || (rec.status === 'APPROVED' && rec.usedAt === undefined);
}
