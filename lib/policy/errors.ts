/** Errors of the safety policy, shared by the compiler and the runtime guard. */
import type { BlacklistCategory } from './types';

/**
 * An operation the policy forbids: blacklisted, needs an approval it does not have, over a cap,
 * or refused by a breaker. Never retried by the state machines (they Catch it by name).
 */
export class PolicyViolationError extends Error {
  /** The §3.1 blacklist category at fault, when the refusal comes from the blacklist. */
  public readonly category?: BlacklistCategory;
  /** The rule that refused (a file name under lib/policy/rules), when a rule did. */
  public readonly rule?: string;
  /** The step refused. */
  public readonly step?: string;
  public constructor(message: string, options?: { category?: BlacklistCategory; rule?: string; step?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'PolicyViolationError';
    this.category = options?.category;
    this.rule = options?.rule;
    this.step = options?.step;
  }
}
