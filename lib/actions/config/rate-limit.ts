/** The seed's rate limits as written (`1000 req/s per user`), parsed into the structure a service enforces. */
import { InvalidParameterError } from '../errors';

/** A token-bucket style limit: `requests` per `per_seconds`, counted per `scope`. */
export interface RateLimit {
  readonly requests: number;
  readonly per_seconds: number;
  /** Who each bucket belongs to. @default 'global' */
  readonly scope: 'user' | 'ip' | 'api_key' | 'account' | 'connection' | 'global';
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };
const FORM = /^(\d+(?:\.\d+)?)\s*(?:req|reqs|requests?|r)?\s*\/\s*(s|sec|second|m|min|minute|h|hour)\s*(?:per\s+(user|ip|api_key|account|connection))?$/i;

/**
 * Parses a rate limit. Accepted: `<n> req/<s|min|h> [per user|ip|api_key|account|connection]`.
 * @throws InvalidParameterError naming `field` and the accepted form
 * @example parseRateLimit('1000 req/s per user') // { requests: 1000, per_seconds: 1, scope: 'user' }
 */
export function parseRateLimit(text: string, field = 'rate_limit'): RateLimit {
  const m = FORM.exec(text.trim());
  const requests = m ? Number(m[1]) : NaN;
  if (!m || !(requests > 0)) {
    throw new InvalidParameterError(`update_config: ${field} "${text}" is not a rate limit; write "<n> req/<s|min|h> [per user|ip|api_key|account|connection]", e.g. "1000 req/s per user"`);
  }
  return { requests, per_seconds: UNIT_SECONDS[(m[2] as string).toLowerCase()] as number, scope: ((m[3] ?? 'global').toLowerCase()) as RateLimit['scope'] };
}
