/**
 * The Redis actions on a real Redis Cluster (three masters started by the test from this machine's
 * redis-server, CONFIG disabled as on ElastiCache): redis_analysis reads every master, redis_command
 * UNLINKs on every master under one cap. Seed scenario 4 on ElastiCache cluster mode.
 */
import type { Cluster } from 'ioredis';
import { Redis } from 'ioredis';
import type { ActionContext } from '../../lib/actions/define';
import { TargetNotConfiguredError } from '../../lib/actions/errors';
import { action as redisAnalysis, type BigKey } from '../../lib/actions/redis_analysis';
import { action as redisCommand } from '../../lib/actions/redis_command';
import { connectRedis, masterNodes, targetName } from '../../lib/actions/redis/nodes';
import { createPolicy, type Policy } from '../../lib/policy';
import { actionContext } from '../helpers/action-context';
import { startRedisCluster, type LocalRedisCluster } from '../helpers/redis-cluster';
import { loadPolicy } from '../../lib/policy/files';

let local: LocalRedisCluster;
let cluster: Cluster;

const context = (policy: Policy = loadPolicy()): ActionContext => actionContext({ step: 'flush_expired_keys', targets: { redis: cluster }, policy, now: () => new Date() });
const unlinkCommand = (pattern: string) => `redis-cli --scan --pattern '${pattern}' | xargs redis-cli UNLINK`;

/** Keys per master, counted on each master directly. */
async function keysPerMaster(pattern: string): Promise<number[]> {
  return Promise.all(
    (await masterNodes(cluster)).map(async (node) => {
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        n += keys.length;
        cursor = next;
      } while (cursor !== '0');
      return n;
    }),
  );
}

beforeAll(async () => {
  local = await startRedisCluster();
  cluster = (await connectRedis(`redis://127.0.0.1:${local.ports[0]}`, { cluster: true, connectNow: true })) as Cluster;
}, 60_000);

afterAll(async () => {
  await cluster?.quit();
  await local?.stop();
});

beforeEach(async () => {
  for (const node of await masterNodes(cluster)) await node.flushall();
  // 300 cache keys and 60 session keys spread over the hash slots, so every master holds some.
  // (A cluster pipeline must stay within one slot: plain commands, routed by the client.)
  await Promise.all([
    ...Array.from({ length: 300 }, (_, i) => cluster.set(`cache:quote:${i}`, `q-${i}`)),
    ...Array.from({ length: 60 }, (_, i) => cluster.set(`session:${i}`, `s-${i}`)),
  ]);
});

describe('Redis targets (lib/actions/redis/nodes)', () => {
  it('names a cluster target by its configuration endpoint, as errors report it', () => {
    expect(targetName(cluster)).toBe(`127.0.0.1:${local.ports[0]}`);
  });


  it('finds the three masters of the cluster, each answering for itself', async () => {
    const masters = await masterNodes(cluster);
    expect(masters).toHaveLength(3);
    expect((await keysPerMaster('cache:*')).every((n) => n > 0)).toBe(true);
  });

  it('runs on a server that refuses CONFIG, as ElastiCache does', async () => {
    const [node] = await masterNodes(cluster);
    await expect(node.call('CONFIG', 'GET', 'maxmemory')).rejects.toThrow(/unknown command/i);
  });

  it.each([
    ['not a URL', 'localhost:6379', /Redis URL "localhost:6379"/],
    ['another scheme', 'http://127.0.0.1:6379', /scheme http: is not redis: or rediss:/],
  ])('refuses %s with TargetNotConfiguredError naming it', async (_what, url, message) => {
    const attempt = connectRedis(url, { cluster: true });
    await expect(attempt).rejects.toThrow(TargetNotConfiguredError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('redis_analysis on a cluster', () => {
  it('sums keys and memory over every master and reports the fullest master as the usage', async () => {
    // prepare: one big key, on whichever master owns its slot
    await cluster.set('cache:big-report', 'x'.repeat(200_000));
    // act
    const result = await redisAnalysis.run({ commands: ['INFO memory', 'DBSIZE', 'redis-cli --bigkeys --memkeys'] }, context());
    // assess
    const outputs = result.outputs as Record<string, unknown>;
    expect(outputs.dbsize).toBe(361);
    const masters = (result.before as { masters: { node: string; used_memory: number; maxmemory: number; redis_memory_usage: number; dbsize: number }[] }).masters;
    expect(masters).toHaveLength(3);
    expect(masters.reduce((n, m) => n + m.dbsize, 0)).toBe(361);
    expect(outputs.used_memory).toBe(masters.reduce((n, m) => n + m.used_memory, 0));
    expect(outputs.maxmemory).toBe(3 * 64 * 1024 * 1024);
    expect(outputs.redis_memory_usage).toBe(Math.max(...masters.map((m) => m.redis_memory_usage)));
    const big = outputs.big_keys as BigKey[];
    expect(big[0]).toMatchObject({ key: 'cache:big-report', type: 'string' });
    expect(masters.map((m) => m.node)).toContain(big[0].node);
    // per-master replies of the other commands, named by node
    expect(Object.keys((result.before as Record<string, Record<string, unknown>>).DBSIZE).sort()).toEqual(masters.map((m) => m.node).sort());
    expect(result.summary).toMatch(/across 3 masters .*on the fullest master\), 361 keys/);
  });
});

describe('redis_command on a cluster', () => {
  it('unlinks the cache keys on every master and leaves the others', async () => {
    // act
    const result = await redisCommand.run({ command: unlinkCommand('cache:*') }, context());
    // assess
    expect(result.outputs).toEqual({ unlinked: 300 });
    expect(await keysPerMaster('cache:*')).toEqual([0, 0, 0]);
    expect((await keysPerMaster('session:*')).reduce((a, b) => a + b, 0)).toBe(60);
    expect(result.before).toEqual({ used_memory: expect.any(Number), dbsize: 360 });
    expect(result.after).toEqual({ used_memory: expect.any(Number), dbsize: 60 });
  });

  it('holds one cap across all masters', async () => {
    // prepare
    const base = loadPolicy();
    const policy = createPolicy({ ...base.document, caps: { ...base.caps, redis_max_unlinks: 40 } });
    // act
    const result = await redisCommand.run({ command: unlinkCommand('cache:*') }, context(policy));
    // assess
    expect(result.outputs).toEqual({ unlinked: 40 });
    expect((await keysPerMaster('cache:*')).reduce((a, b) => a + b, 0)).toBe(260);
    expect(result.summary).toContain('stopped at the cap of 40');
  });

  it('a single server client works as before (one master: itself)', async () => {
    const [node] = await masterNodes(cluster);
    const single = new Redis({ host: '127.0.0.1', port: node.options.port });
    try {
      expect(await masterNodes(single)).toEqual([single]);
    } finally {
      single.disconnect();
    }
  });
});
