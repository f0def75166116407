/**
 * The approval decisions, as pure functions over a record: may this person decide now, what the
 * status becomes, what a new level's request does to an existing record, and which records can
 * no longer be used once their execution is gone. lib/approval/store.ts applies them with
 * conditional writes; `npm run mutate` tests them directly.
 */
import { bindingMismatch, type ApprovalBinding } from '../policy/guard';

/** The record fields the decisions read. */
export interface DecidableRecord {
  readonly approvalId: string;
  readonly step: string;
  readonly status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly decisions: readonly { readonly role: string; readonly decision: 'approve' | 'reject' }[];
  readonly expiresAt: string;
  readonly level: number;
  readonly taskToken: string;
  readonly binding?: ApprovalBinding;
  readonly usedAt?: string;
  readonly closedReason?: string;
}

/** Why `role` may not decide this record at `now`, or undefined when it may. */
export function decisionRefusal(rec: DecidableRecord, role: string, now: Date): string | undefined {
  if (rec.status !== 'PENDING') return `approval ${rec.approvalId} is already ${rec.status}`;
  if (Date.parse(rec.expiresAt) <= now.getTime()) return `approval ${rec.approvalId} expired at ${rec.expiresAt}`;
  if (!rec.approvers.includes(role)) return `role "${role}" is not an approver of step "${rec.step}" (approvers: ${rec.approvers.join(', ')})`;
  if (rec.decisions.some((d) => d.role === role)) return `role "${role}" already decided approval ${rec.approvalId}`;
  return undefined;
}

/** The status once these decisions are in: any rejection rejects; `minApprovals` distinct approving roles approve. */
export function statusAfter(rec: Pick<DecidableRecord, 'minApprovals'>, decisions: DecidableRecord['decisions']): 'PENDING' | 'APPROVED' | 'REJECTED' {
  if (decisions.some((d) => d.decision === 'reject')) return 'REJECTED';
  const approvedRoles = new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.role));
  return approvedRoles.size >= rec.minApprovals ? 'APPROVED' : 'PENDING';
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
