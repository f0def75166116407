/** Shared vocabulary of the safety policy: blacklist categories, risk levels, policy hits. */

/** The seed's §3.1 absolute blacklist categories. */
export const BLACKLIST_CATEGORIES = [
  'wallet_operations',
  'matching_engine_core',
  'database_writes',
  'global_operations',
] as const;
export type BlacklistCategory = (typeof BLACKLIST_CATEGORIES)[number];

export const RISK_LEVELS = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Risk = (typeof RISK_LEVELS)[number];

/** One reason an operation falls in a blacklist category. */
export interface BlacklistHit {
  readonly category: BlacklistCategory;
  /** What in the parameters matched, e.g. `endpoint "wallet/withdraw"`. */
  readonly reason: string;
}
