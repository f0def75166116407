/** Approvals: records behind task tokens, signed links and the page they open (escalation and notifiers join here). */
export { APPROVAL_REJECTED_ERROR, PAGE_HEADERS, approvalPage, decideAndRelease, escapeHtml } from './callback';
export type { ApprovalOutput, ApprovalPage, ApprovalPageDeps, DecisionOutcome, RefusalReason, RequestOrigin } from './callback';
export { ApprovalLinkError, MIN_KEY_BYTES, buildApprovalLinks, inMemoryKey, localKeyFile, secretsManagerKey, signApprovalLink, verifyApprovalLink } from './links';
export type { ApprovalLinkFailure, ApprovalLinkQuery, LinkDecision, SigningKey, VerifiedApprovalLink } from './links';
export { ApprovalError, decideApproval, findApprovalForStep, getApproval, isStepApproved, listApprovals, locateApproval, requestApproval } from './store';
export type { ApprovalDecision, ApprovalRecord, ApprovalStatus, ApprovalTables, NewApproval } from './store';
export { ESCALATION_LEVELS, PAGING_CHANNELS, escalationLevel, recipientsFor, recipientsOfRoles, rolesFor } from './escalation';
export type { EscalationLevel, Recipients } from './escalation';
export { CHANNELS, createNotifier, notifierConfigFromEnv, notifyOpsFor, pagerDutySeverity, phoneDedupKey } from './notify';
export type { ApprovalLinks, Channel, ChannelOutcome, EventAction, Notification, Notifier, NotifierConfig, NotifierDeps, PagerDutySeverity, Recipient } from './notify';
export { DEFAULT_ONCALL_FILE, PagerDutyOnCall, RotationFile, lazyOnCall, parsePagerDutyRoles, serviceOwnerRole } from './oncall';
export type { OnCallLookup, PagerDutyOnCallOptions, PagerDutyRoleMapping, Person } from './oncall';
export { readSecret, secretsManagerReader } from './secrets';
export type { Secret, SecretReader } from './secrets';
