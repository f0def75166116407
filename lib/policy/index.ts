/** Safety policy: blacklist, protected services, caps, the rules; shared by compiler and runtime guard. */
export { BLACKLIST_CATEGORIES, RISK_LEVELS } from './types';
export type { BlacklistCategory, BlacklistHit, Risk } from './types';
export { PolicyViolationError } from './errors';
export { createPolicy, globMatch, policyFromSource } from './policy';
export type { Policy, PolicyDocument, PolicyField } from './policy';
export { createServiceMap, emptyServiceMap, parseServiceRef, serviceMapFromSource } from './services';
// Reading policy.yaml and services.yaml (the YAML parsers) is the sub-path lib/policy/files.
export type { ServiceEntry, ServiceIdentity, ServiceMap } from './services';
export { EndpointError, normaliseEndpoint } from './endpoints';
export type { NormalEndpoint } from './endpoints';
export { analyseSql, idleFilterOf, KILL_FOLLOW_UP, SIDE_EFFECT_FUNCTIONS, SQL_ANALYSIS } from './sql';
export type { IdleFilter, SqlAnalysis, SqlFacts, SqlTable } from './sql';
export { isTemplated, stringsOf } from './step';
export type { ActionFacts, ActionKind, BoundSpec, FactorBound, FactorCap, ParameterRoles, StepFacts, TargetRef } from './step';
export { RULES, runRules, defineRule, formatFinding } from './rules';
export type { Effect, Finding, Phase, PolicyRule } from './rules';
export { approvalBinding, approversShort, bindingMismatch, canonicalJson, checkFactor, decideStep, guardStep, personKey, sha256 } from './guard';
export type { ApprovalBinding, GuardState, StepDecision, StoredApproval } from './guard';
