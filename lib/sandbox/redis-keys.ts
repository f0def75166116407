/** Every key of a Redis database matching a pattern, by SCAN (never KEYS): for drills and tests against the real server. */
import type { Redis } from 'ioredis';

export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
