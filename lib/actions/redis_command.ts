/** redis_command: UNLINKs the keys matching an allow-listed pattern (`cache:*`), in batches, under a cap. */
import * as z from '../yaml/zod';
import type { Policy } from '../policy/policy';
import { PolicyViolationError } from '../policy/errors';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import type { Redis } from 'ioredis';
import { readMemoryState, requireRedis, toRedisError } from './redis_analysis';
import { isClusterTarget, masterNodes, targetName } from './redis/nodes';

const params = z.strictObject({
  /** `redis-cli --scan --pattern '<pattern>' | xargs redis-cli UNLINK`, the only accepted form. */
  command: z.string().check(z.minLength(1)),
  description: z.optional(z.string()),
});

/** Parameters of redis_command, as written in the playbook. */
export type RedisCommandParams = z.infer<typeof params>;

/** Keys per UNLINK call, at most. */
export const UNLINK_BATCH = 500;

const SCAN_UNLINK = /^redis-cli\s+--scan\s+--pattern\s+(?:'([^']+)'|"([^"]+)"|([^\s'"|]+))\s*\|\s*xargs\s+redis-cli\s+UNLINK\s*$/;
const GLOB_CHARS = /[*?[\]\\]/;

/** The SCAN pattern of the accepted pipeline, or null for any other command. */
export function parseUnlinkCommand(command: string): string | null {
  const m = SCAN_UNLINK.exec(command.trim());
  return m ? (m[1] ?? m[2] ?? m[3] ?? null) : null;
}

/**
 * True when every key `pattern` can match lies under `allowed`. Only `<literal>*` and exact-key
 * allow entries are understood; Redis globs are case-sensitive, so the prefix test is too.
 * @example patternCovered('cache:user:*', 'cache:*') // true
 */
export function patternCovered(pattern: string, allowed: string): boolean {
  if (!GLOB_CHARS.test(allowed)) return pattern === allowed;
  const prefix = allowed.slice(0, -1);
  return allowed.endsWith('*') && !GLOB_CHARS.test(prefix) && prefix.length > 0 && pattern.startsWith(prefix);
}

function checkCaps(p: RedisCommandParams, policy: Policy): string[] {
  const pattern = parseUnlinkCommand(p.command);
  if (pattern === null) {
    return [`command "${p.command}" is refused: only "redis-cli --scan --pattern '<pattern>' | xargs redis-cli UNLINK" is allowed`];
  }
  const prefixes = policy.caps.redis_unlink_prefixes;
  return prefixes.some((a) => patternCovered(pattern, a))
    ? []
    : [`pattern "${pattern}" is not under an allowed prefix (${prefixes.join(', ')})`];
}

/**
 * Frees Redis memory by UNLINKing cache keys (seed scenario 4, step 2): SCAN MATCH the pattern,
 * re-check each key against the policy, UNLINK in batches of UNLINK_BATCH, stop at
 * caps.redis_max_unlinks. UNLINK frees memory in a background thread, unlike DEL.
 */
export const action = defineAction<RedisCommandParams>({
  name: 'redis_command',
  description: "UNLINKs keys under an allow-listed prefix: redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK.",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params,
  outputs: ['unlinked'],
  // None: it speaks the Redis protocol to the cluster endpoint over the network.
  uses: ['redis'],
  iamActions: [],
  timeoutSeconds: 60,
  checkCaps,
  async run(raw, ctx) {
    const parsed = params.safeParse(raw);
    if (!parsed.success) throw new InvalidParameterError(`redis_command: invalid parameters: ${z.prettifyError(parsed.error)}`);
    const refused = checkCaps(parsed.data, ctx.policy);
    if (refused.length > 0) throw new PolicyViolationError(`redis_command refused: ${refused.join('; ')}`);
    const pattern = parseUnlinkCommand(parsed.data.command) as string;
    const redis = requireRedis(ctx, 'redis_command');
    const cap = ctx.policy.caps.redis_max_unlinks;
    try {
      const before = await readMemoryState(redis);
      // In a cluster every master holds a share of the keys: SCAN each one, and UNLINK key by key
      // there (one multi-key UNLINK across hash slots fails with CROSSSLOT). The cap is for all.
      const cluster = isClusterTarget(redis);
      let unlinked = 0;
      let sent = 0;
      let stopped = false;
      for (const node of await masterNodes(redis)) {
        if (sent >= cap) {
          stopped = true;
          break;
        }
        const done = await unlinkOnNode(node, pattern, cap - sent, cluster, (k) => ctx.policy.isUnlinkAllowed(k));
        unlinked += done.unlinked;
        sent += done.sent;
        stopped ||= done.stopped;
      }
      const after = await readMemoryState(redis);
      const capped = stopped ? `, stopped at the cap of ${cap}` : '';
      return {
        summary: `unlinked ${unlinked} keys matching "${pattern}"${capped}; used_memory ${before.used_memory} → ${after.used_memory} B`,
        before: { used_memory: before.used_memory, dbsize: before.dbsize },
        after: { used_memory: after.used_memory, dbsize: after.dbsize },
        outputs: { unlinked },
      };
    } catch (err) {
      throw toRedisError(err, 'redis_command', targetName(redis));
    }
  },
});

/** SCAN MATCH on one server, re-check each key, UNLINK at most `budget` of them in batches. */
async function unlinkOnNode(
  node: Redis,
  pattern: string,
  budget: number,
  keyByKey: boolean,
  allowed: (key: string) => boolean,
): Promise<{ unlinked: number; sent: number; stopped: boolean }> {
  let unlinked = 0;
  let sent = 0;
  let stopped = false;
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const candidates = keys.filter(allowed);
    const chosen = candidates.slice(0, budget - sent);
    stopped ||= chosen.length < candidates.length;
    for (let i = 0; i < chosen.length; i += UNLINK_BATCH) {
      const batch = chosen.slice(i, i + UNLINK_BATCH);
      unlinked += keyByKey ? await unlinkEach(node, batch) : await node.unlink(...batch);
      sent += batch.length;
    }
  } while (cursor !== '0' && sent < budget);
  stopped ||= cursor !== '0';
  return { unlinked, sent, stopped };
}

/** One UNLINK per key, pipelined: the keys of one batch may lie in different hash slots. */
async function unlinkEach(node: Redis, keys: readonly string[]): Promise<number> {
  const pipe = node.pipeline();
  for (const key of keys) pipe.unlink(key);
  const replies = (await pipe.exec()) ?? [];
  const failed = replies.find(([err]) => err);
  if (failed) throw failed[0];
  return replies.reduce((n, [, count]) => n + Number(count ?? 0), 0);
}

