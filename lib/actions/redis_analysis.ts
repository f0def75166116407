/**
 * redis_analysis: read-only Redis diagnostics (INFO, DBSIZE, MEMORY STATS, a bounded big-key scan),
 * on one server or on every master of a cluster. No CONFIG command: ElastiCache refuses it, and
 * INFO carries maxmemory.
 */
import type { Redis } from 'ioredis';
import * as z from '../yaml/zod';
import type { ActionContext } from './define';
import { defineAction } from './define';
import { ActionError, InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from './errors';
import { ClusterNotReadyError, isClusterTarget, masterNodes, nodeName, targetName, type RedisTarget } from './redis/nodes';

const params = z.strictObject({
  /** Read-only commands: `INFO [section]`, `DBSIZE`, `MEMORY STATS`, `redis-cli --bigkeys --memkeys`. */
  commands: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  description: z.optional(z.string()),
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
  /** `host:port` of the master holding it, in a cluster. */
  readonly node?: string;
}

/** Memory figures published by both Redis actions. In a cluster: sums over the masters, except the usage. */
export interface RedisMemoryState {
  readonly used_memory: number;
  readonly maxmemory: number;
  /**
   * used_memory / maxmemory; in a cluster, that of the fullest master (each master evicts on its
   * own maxmemory, so the fullest one is what the seed's `redis_memory_usage > 85%` is about).
   * null when no master has a maxmemory (no limit).
   */
  readonly redis_memory_usage: number | null;
  readonly dbsize: number;
  readonly evicted_keys: number;
}

/** One master's figures, kept in the step's `before` for a cluster. */
export interface NodeMemoryState extends RedisMemoryState {
  readonly node: string;
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
export function requireRedis(ctx: ActionContext, action: string): RedisTarget {
  const redis = ctx.targets.redis;
  if (!redis) throw new TargetNotConfiguredError(`${action}: no Redis target configured`);
  return redis;
}

/** Wraps a Redis failure, naming the server (`target`): connection problems are transient (retried), the rest are not. */
export function toRedisError(err: unknown, action: string, target: string): ActionError {
  if (err instanceof ActionError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const message = `${action}: Redis call to ${target} failed: ${e.message ?? String(err)}`;
  const transient = ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(e.code ?? '')
    || err instanceof ClusterNotReadyError || e.name === 'MaxRetriesPerRequestError' || e.name === 'ClusterAllFailedError'
    || /Connection is closed|LOADING|BUSY|CLUSTERDOWN|TRYAGAIN/.test(e.message ?? '');
  return transient ? new TransientTargetError(message, { target, cause: err }) : new ActionError(message, { target, cause: err });
}

/** used_memory, maxmemory, their ratio, DBSIZE and evicted_keys of one server, read with INFO and DBSIZE. */
export async function readNodeMemoryState(redis: Redis): Promise<NodeMemoryState> {
  const [memory, stats, dbsize] = await Promise.all([redis.info('memory'), redis.info('stats'), redis.dbsize()]);
  const mem = parseInfo(memory);
  const used = Number(mem.used_memory ?? 0);
  const max = Number(mem.maxmemory ?? 0);
  return {
    node: nodeName(redis),
    used_memory: used,
    maxmemory: max,
    redis_memory_usage: max > 0 ? used / max : null,
    dbsize,
    evicted_keys: Number(parseInfo(stats).evicted_keys ?? 0),
  };
}

/** The memory state of a target: one server's, or the masters' summed, with the fullest master's usage. */
export async function readMemoryState(target: RedisTarget): Promise<RedisMemoryState & { readonly nodes: readonly NodeMemoryState[] }> {
  const nodes = await Promise.all((await masterNodes(target)).map(readNodeMemoryState));
  const usages = nodes.map((n) => n.redis_memory_usage).filter((u): u is number => u !== null);
  return {
    used_memory: sum(nodes.map((n) => n.used_memory)),
    maxmemory: sum(nodes.map((n) => n.maxmemory)),
    redis_memory_usage: usages.length > 0 ? Math.max(...usages) : null,
    dbsize: sum(nodes.map((n) => n.dbsize)),
    evicted_keys: sum(nodes.map((n) => n.evicted_keys)),
    nodes,
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** SCAN + TYPE + MEMORY USAGE over at most BIG_KEY_SCAN_LIMIT keys of every master; the BIG_KEY_TOP largest. */
export async function findBigKeys(masters: readonly Redis[]): Promise<{ scanned: number; complete: boolean; keys: BigKey[] }> {
  let top: BigKey[] = [];
  let scanned = 0;
  let complete = true;
  // One budget for the whole target: a cluster of many masters costs no more than one server.
  for (const redis of masters) {
    if (scanned >= BIG_KEY_SCAN_LIMIT) {
      complete = false;
      break;
    }
    const found = await findNodeBigKeys(redis, BIG_KEY_SCAN_LIMIT - scanned, masters.length > 1 ? nodeName(redis) : undefined);
    scanned += found.scanned;
    complete &&= found.complete;
    top = [...top, ...found.keys].sort((a, b) => b.bytes - a.bytes).slice(0, BIG_KEY_TOP);
  }
  return { scanned, complete, keys: top };
}

async function findNodeBigKeys(redis: Redis, limit: number, node: string | undefined): Promise<{ scanned: number; complete: boolean; keys: BigKey[] }> {
  let top: BigKey[] = [];
  let scanned = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const keys = found.slice(0, limit - scanned);
    scanned += keys.length;
    const pipe = redis.pipeline();
    for (const key of keys) pipe.type(key).memory('USAGE', key);
    const replies = (await pipe.exec()) ?? [];
    keys.forEach((key, i) => {
      const [typeErr, type] = replies[2 * i] ?? [];
      const [usageErr, bytes] = replies[2 * i + 1] ?? [];
      // A key deleted between SCAN and MEMORY USAGE has no size: skip it.
      if (!typeErr && !usageErr && typeof bytes === 'number') top.push({ key, type: String(type), bytes, ...(node ? { node } : {}) });
    });
    top = top.sort((a, b) => b.bytes - a.bytes).slice(0, BIG_KEY_TOP);
  } while (cursor !== '0' && scanned < limit);
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

async function runNodeCommand(redis: Redis, cmd: Exclude<ParsedCommand, { kind: 'big_keys' }>): Promise<unknown> {
  switch (cmd.kind) {
    case 'info': return parseInfo(cmd.section ? await redis.info(cmd.section) : await redis.info());
    case 'dbsize': return redis.dbsize();
    case 'memory_stats': return memoryStats(redis);
  }
}

/** A command's reply: one server's as is; in a cluster, the big-key scan over all masters and the other replies per master. */
async function runCommand(masters: readonly Redis[], cluster: boolean, cmd: ParsedCommand): Promise<unknown> {
  if (cmd.kind === 'big_keys') return findBigKeys(masters);
  if (!cluster) return runNodeCommand(masters[0], cmd);
  const replies = await Promise.all(masters.map((m) => runNodeCommand(m, cmd)));
  return Object.fromEntries(masters.map((m, i) => [nodeName(m), replies[i]]));
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
      const cluster = isClusterTarget(redis);
      const masters = await masterNodes(redis);
      const replies: Record<string, unknown> = {};
      let bigKeys: BigKey[] | null = null;
      for (const text of parsed.data.commands) {
        const cmd = parseCommand(text) as ParsedCommand;
        const reply = await runCommand(masters, cluster, cmd);
        replies[text] = reply;
        if (cmd.kind === 'big_keys') bigKeys = (reply as { keys: BigKey[] }).keys;
      }
      const { nodes, ...state } = await readMemoryState(redis);
      const usage = state.redis_memory_usage === null
        ? 'no maxmemory'
        : `${(state.redis_memory_usage * 100).toFixed(1)}% of maxmemory${cluster ? ' on the fullest master' : ''}`;
      const biggest = bigKeys?.[0] ? `; biggest key ${bigKeys[0].key} (${bigKeys[0].bytes} B)` : '';
      const shape = cluster ? ` across ${nodes.length} masters` : '';
      return {
        summary: `used_memory ${state.used_memory} B${shape} (${usage}), ${state.dbsize} keys, ${state.evicted_keys} evicted${biggest}`,
        before: cluster ? { ...replies, masters: nodes } : replies,
        outputs: { ...state, big_keys: bigKeys },
      };
    } catch (err) {
      throw toRedisError(err, 'redis_analysis', targetName(redis));
    }
  },
});
