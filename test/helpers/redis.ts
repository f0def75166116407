/** Redis helpers for tests against the real server: every key matching a pattern, by SCAN (never KEYS). */
export { keysMatching } from '../../lib/sandbox/redis-keys';
