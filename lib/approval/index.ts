/** Approvals: records behind task tokens (links, escalation and notifiers join here). */
export { ApprovalError, decideApproval, findApprovalForStep, getApproval, isStepApproved, listApprovals, requestApproval } from './store';
export type { ApprovalDecision, ApprovalRecord, ApprovalStatus, ApprovalTables, NewApproval } from './store';
