/** redis_analysis: read-only Redis diagnostics (INFO, DBSIZE, MEMORY STATS, a bounded big-key scan). */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ActionContext } from './define';
import { defineAction } from './define';
import { ActionError, InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from './errors';

const params = z.strictObject({
  /** Read-only commands: `INFO [section]`, `DBSIZE`, `MEMORY STATS`, `redis-cli --bigkeys --memkeys`. */
  commands: z.array(z.string().min(1)).min(1),
  description: z.string().optional(),
});

/** Parameters of redis_analysis, as written in the playbook. */
export type RedisAnalysisParams = z.infer<typeof params>;

/** Keys looked at by one big-key scan, at most. */
export const BIG_KEY_SCAN_LIMIT = 100_000;
/** Big keys reported, largest first. */
export const BIG_KEY_TOP = 10;

/** One large key found by the scan. */
export interface BigKey {
  readonly key: string;
  readonly type: string;
  readonly bytes: number;
}

/** Memory figures published by both Redis actions. */
export interface RedisMemoryState {
  readonly used_memory: number;
  readonly maxmemory: number;
  /** used_memory / maxmemory; null when maxmemory is 0 (no limit). */
  readonly redis_memory_usage: number | null;
  readonly dbsize: number;
  readonly evicted_keys: number;
}

type ParsedCommand = { kind: 'info'; section?: string } | { kind: 'dbsize' } | { kind: 'memory_stats' } | { kind: 'big_keys' };

/** The accepted command forms; anything else is refused (null). */
function parseCommand(text: string): ParsedCommand | null {
  const t = text.trim();
  const info = /^INFO(?:\s+([a-z_]+))?$/i.exec(t);
  if (info) return info[1] ? { kind: 'info', section: info[1].toLowerCase() } : { kind: 'info' };
  if (/^DBSIZE$/i.test(t)) return { kind: 'dbsize' };
  if (/^MEMORY\s+STATS$/i.test(t)) return { kind: 'memory_stats' };
  if (/^redis-cli(?:\s+--(?:bigkeys|memkeys))+$/.test(t)) return { kind: 'big_keys' };
  return null;
}

function checkCaps(p: RedisAnalysisParams): string[] {
  return p.commands
    .filter((c) => parseCommand(c) === null)
    .map((c) => `command "${c}" is not a read-only diagnostic (allowed: INFO [section], DBSIZE, MEMORY STATS, redis-cli --bigkeys/--memkeys)`);
}

/** `key:value` lines of an INFO reply. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** The Redis client of the context, or TargetNotConfiguredError naming the action. */
export function requireRedis(ctx: ActionContext, action: string): Redis {
  const redis = ctx.targets.redis;
  if (!redis) throw new TargetNotConfiguredError(`${action}: no Redis target configured`);
  return redis;
}

/** Wraps a Redis failure: connection problems are transient (retried), the rest are not. */
export function toRedisError(err: unknown, action: string): ActionError {
  if (err instanceof ActionError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const message = `${action}: Redis call failed: ${e.message ?? String(err)}`;
  const transient = ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(e.code ?? '')
    || e.name === 'MaxRetriesPerRequestError' || /Connection is closed|LOADING|BUSY/.test(e.message ?? '');
  return transient ? new TransientTargetError(message, { cause: err }) : new ActionError(message, { cause: err });
}

/** used_memory, maxmemory, their ratio, DBSIZE and evicted_keys, read with INFO and DBSIZE. */
export async function readMemoryState(redis: Redis): Promise<RedisMemoryState> {
  const [memory, stats, dbsize] = await Promise.all([redis.info('memory'), redis.info('stats'), redis.dbsize()]);
  const mem = parseInfo(memory);
  const used = Number(mem.used_memory ?? 0);
  const max = Number(mem.maxmemory ?? 0);
  return {
    used_memory: used,
    maxmemory: max,
    redis_memory_usage: max > 0 ? used / max : null,
    dbsize,
    evicted_keys: Number(parseInfo(stats).evicted_keys ?? 0),
  };
}

/** SCAN + TYPE + MEMORY USAGE over at most BIG_KEY_SCAN_LIMIT keys; the BIG_KEY_TOP largest. */
async function findBigKeys(redis: Redis): Promise<{ scanned: number; complete: boolean; keys: BigKey[] }> {
  let top: BigKey[] = [];
  let scanned = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const keys = found.slice(0, BIG_KEY_SCAN_LIMIT - scanned);
    scanned += keys.length;
    const pipe = redis.pipeline();
    for (const key of keys) pipe.type(key).memory('USAGE', key);
    const replies = (await pipe.exec()) ?? [];
    keys.forEach((key, i) => {
      const [typeErr, type] = replies[2 * i] ?? [];
      const [usageErr, bytes] = replies[2 * i + 1] ?? [];
      // A key deleted between SCAN and MEMORY USAGE has no size: skip it.
      if (!typeErr && !usageErr && typeof bytes === 'number') top.push({ key, type: String(type), bytes });
    });
    top = top.sort((a, b) => b.bytes - a.bytes).slice(0, BIG_KEY_TOP);
  } while (cursor !== '0' && scanned < BIG_KEY_SCAN_LIMIT);
  return { scanned, complete: cursor === '0', keys: top };
}

/** MEMORY STATS as an object, whether the client speaks RESP2 (flat array) or RESP3 (map). */
async function memoryStats(redis: Redis): Promise<Record<string, unknown>> {
  const reply: unknown = await redis.call('MEMORY', 'STATS');
  if (!Array.isArray(reply)) return reply as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

async function runCommand(redis: Redis, cmd: ParsedCommand): Promise<unknown> {
  switch (cmd.kind) {
    case 'info': return parseInfo(cmd.section ? await redis.info(cmd.section) : await redis.info());
    case 'dbsize': return redis.dbsize();
    case 'memory_stats': return memoryStats(redis);
    case 'big_keys': return findBigKeys(redis);
  }
}

/**
 * Reads Redis memory state (seed scenario 4, step 1). Always publishes used_memory, maxmemory,
 * redis_memory_usage, dbsize and evicted_keys; `big_keys` only when a `redis-cli --bigkeys`
 * command was asked for (null otherwise). Each command's reply is recorded in `before`.
 */
export const action = defineAction<RedisAnalysisParams>({
  name: 'redis_analysis',
  description: 'Read-only Redis diagnostics: INFO, DBSIZE, MEMORY STATS and a bounded big-key scan.',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params,
  outputs: ['used_memory', 'maxmemory', 'redis_memory_usage', 'dbsize', 'evicted_keys', 'big_keys'],
  // None: it speaks the Redis protocol to the cluster endpoint over the network.
  uses: ['redis'],
  iamActions: [],
  timeoutSeconds: 60,
  checkCaps,
  async run(raw, ctx) {
    const parsed = params.safeParse(raw);
    if (!parsed.success) throw new InvalidParameterError(`redis_analysis: invalid parameters: ${z.prettifyError(parsed.error)}`);
    const refused = checkCaps(parsed.data);
    if (refused.length > 0) throw new InvalidParameterError(`redis_analysis: ${refused.join('; ')}`);
    const redis = requireRedis(ctx, 'redis_analysis');
    try {
      const replies: Record<string, unknown> = {};
      let bigKeys: BigKey[] | null = null;
      for (const text of parsed.data.commands) {
        const cmd = parseCommand(text) as ParsedCommand;
        const reply = await runCommand(redis, cmd);
        replies[text] = reply;
        if (cmd.kind === 'big_keys') bigKeys = (reply as { keys: BigKey[] }).keys;
      }
      const state = await readMemoryState(redis);
      const usage = state.redis_memory_usage === null ? 'no maxmemory' : `${(state.redis_memory_usage * 100).toFixed(1)}% of maxmemory`;
      const biggest = bigKeys?.[0] ? `; biggest key ${bigKeys[0].key} (${bigKeys[0].bytes} B)` : '';
      return {
        summary: `used_memory ${state.used_memory} B (${usage}), ${state.dbsize} keys, ${state.evicted_keys} evicted${biggest}`,
        before: replies,
        outputs: { ...state, big_keys: bigKeys },
      };
    } catch (err) {
      throw toRedisError(err, 'redis_analysis');
    }
  },
});
