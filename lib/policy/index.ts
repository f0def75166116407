/** Safety policy: blacklist, protected services, caps; shared by compiler and runtime guard. */
export { BLACKLIST_CATEGORIES, RISK_LEVELS } from './types';
export type { BlacklistCategory, BlacklistHit, Risk } from './types';
export { PolicyViolationError } from './errors';
export { createPolicy, defaultPolicy, globMatch, loadPolicy, DEFAULT_POLICY_FILE } from './policy';
export type { Policy, PolicyDocument, PolicyField } from './policy';
export { createServiceMap, emptyServiceMap, loadServiceMap, parseServiceRef, DEFAULT_SERVICES_FILE } from './services';
export type { ServiceEntry, ServiceIdentity, ServiceMap } from './services';
