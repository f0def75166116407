/** Approvals: records behind task tokens, signed links and the page they open (escalation joins here; the notifiers are lib/notify). */
export { APPROVAL_REJECTED_ERROR, ApproverNotOnCallError, PAGE_HEADERS, approvalPage, assertStillOnCall, formPostRefusal, decideAndRelease, escapeHtml } from './callback';
export type { ApprovalOutput, ApprovalPage, ApprovalPageDeps, DecisionOutcome, RefusalReason, RequestOrigin } from './callback';
export { ApprovalLinkError, MIN_KEY_BYTES, buildApprovalLinks, inMemoryKey, localKeyFile, secretsManagerKey, signApprovalLink, verifyApprovalLink } from './links';
export type { ApprovalLinkFailure, ApprovalLinkQuery, LinkDecision, SigningKey, VerifiedApprovalLink } from './links';
export { ApprovalError, decideApproval, findApprovalForStep, getApproval, isStepApproved, listApprovals, locateApproval, requestApproval } from './store';
export type { ApprovalDecision, ApprovalRecord, ApprovalStatus, ApprovalTables, NewApproval } from './store';
export { ESCALATION_LEVELS, PAGING_CHANNELS, escalationLevel, recipientsFor, recipientsOfRoles, rolesFor } from './escalation';
export type { EscalationLevel, Recipients } from './escalation';
export { PagerDutyOnCall, RotationFile, lazyOnCall, parsePagerDutyRoles, serviceOwnerRole } from './oncall';
// Reading oncall.yaml (the YAML parsers) is the sub-path lib/approval/oncall-file.
export type { OnCallLookup, PagerDutyOnCallOptions, PagerDutyRoleMapping, Person } from './oncall';
