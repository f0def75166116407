/** Errors of the safety policy, shared by the compiler and the runtime guard. */
import type { BlacklistCategory } from './types';

/**
 * An operation the policy forbids: blacklisted, needs an approval it does not have, over a cap,
 * or refused by a breaker. Never retried by the state machines.
 */
export class PolicyViolationError extends Error {
  /** The §3.1 blacklist category at fault, when the refusal comes from the blacklist. */
  public readonly category?: BlacklistCategory;
  public constructor(message: string, options?: { category?: BlacklistCategory; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'PolicyViolationError';
    this.category = options?.category;
  }
}
