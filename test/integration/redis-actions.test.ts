/** Integration tests of redis_command and redis_analysis against the real Redis at 127.0.0.1:6379, DB 9. */
import { Redis } from 'ioredis';
import type { ActionContext, ActionTargets } from '../../lib/actions/define';
import { InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from '../../lib/actions/errors';
import { action as redisAnalysis } from '../../lib/actions/redis_analysis';
import { action as redisCommand } from '../../lib/actions/redis_command';
import { createPolicy, PolicyViolationError, type Policy } from '../../lib/policy';
import { keysMatching as keysOf } from '../helpers/redis';
import { actionContext } from '../helpers/action-context';
import { loadPolicy } from '../../lib/policy/files';

const RUN = `sretest-${process.pid}-${Date.now()}`;
const unlinkCommand = (pattern: string) => `redis-cli --scan --pattern '${pattern}' | xargs redis-cli UNLINK`;

let redis: Redis;

function context(targets: ActionTargets, policy: Policy = loadPolicy()): ActionContext {
  return actionContext({ incidentId: 'inc-test', step: 'flush_expired_keys', targets, policy, now: () => new Date() });
}

const keysMatching = (pattern: string) => keysOf(redis, pattern);

/** Writes `n` small string keys `<prefix>:<RUN>:<i>`. */
async function seed(prefix: string, n: number): Promise<void> {
  const pipe = redis.pipeline();
  for (let i = 0; i < n; i += 1) pipe.set(`${prefix}:${RUN}:${i}`, `value-${i}`);
  await pipe.exec();
}

async function cleanUp(): Promise<void> {
  const keys = await keysMatching(`*${RUN}*`);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
}

beforeAll(() => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 9 });
});

afterEach(cleanUp);

afterAll(async () => {
  await redis.quit();
});

describe('redis_command flush_expired_keys', () => {
  it('unlinks only keys under cache:*, other prefixes remain', async () => {
    // prepare
    await seed('cache', 30);
    await seed('session', 10);
    await seed('user', 10);
    // act
    const result = await redisCommand.run({ command: unlinkCommand(`cache:${RUN}:*`) }, context({ redis }));
    // assess
    expect(result.outputs).toEqual({ unlinked: 30 });
    expect(await keysMatching(`cache:${RUN}:*`)).toHaveLength(0);
    expect(await keysMatching(`session:${RUN}:*`)).toHaveLength(10);
    expect(await keysMatching(`user:${RUN}:*`)).toHaveLength(10);
    expect(result.before).toEqual({ used_memory: expect.any(Number), dbsize: expect.any(Number) });
    expect(result.summary).toMatch(/^unlinked 30 keys matching "cache:sretest-/);
  });

  it('unlinks in several SCAN rounds and UNLINK batches', async () => {
    await seed('cache', 1_300);

    const result = await redisCommand.run({ command: unlinkCommand(`cache:${RUN}:*`) }, context({ redis }));

    expect(result.outputs).toEqual({ unlinked: 1_300 });
    expect(await keysMatching(`cache:${RUN}:*`)).toHaveLength(0);
  });

  it.each([
    ['FLUSHALL', 'FLUSHALL'],
    ['FLUSHDB', 'FLUSHDB'],
    ["the '*' pattern", unlinkCommand('*')],
    ['a session:* pattern', unlinkCommand(`session:${RUN}:*`)],
    ['DEL', `DEL session:${RUN}:0`],
  ])('refuses %s and leaves the data in place', async (_label, command) => {
    await seed('cache', 5);
    await seed('session', 5);

    const run = redisCommand.run({ command }, context({ redis }));

    await expect(run).rejects.toBeInstanceOf(PolicyViolationError);
    expect(await keysMatching(`*:${RUN}:*`)).toHaveLength(10);
  });

  it('stops at the unlink cap', async () => {
    await seed('cache', 20);
    const base = loadPolicy();
    const policy = createPolicy({ ...base.document, caps: { ...base.caps, redis_max_unlinks: 5 } });

    const result = await redisCommand.run({ command: unlinkCommand(`cache:${RUN}:*`) }, context({ redis }, policy));

    expect(result.outputs).toEqual({ unlinked: 5 });
    expect(result.summary).toContain('stopped at the cap of 5');
    expect(await keysMatching(`cache:${RUN}:*`)).toHaveLength(15);
  });

  it('reports the target not configured', async () => {
    const run = redisCommand.run({ command: unlinkCommand('cache:*') }, context({}));

    await expect(run).rejects.toThrow(new TargetNotConfiguredError('redis_command: no Redis target configured'));
  });

  it('reports an unreachable Redis as transient, naming the server', async () => {
    const unreachable = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    try {
      const run = redisCommand.run({ command: unlinkCommand(`cache:${RUN}:*`) }, context({ redis: unreachable }));

      await expect(run).rejects.toBeInstanceOf(TransientTargetError);
      await expect(run).rejects.toMatchObject({ target: '127.0.0.1:1', message: expect.stringContaining('Redis call to 127.0.0.1:1 failed') });
    } finally {
      unreachable.disconnect();
    }
  });
});

describe('redis_analysis analyze_redis_keys', () => {
  const SEED_COMMANDS = ['INFO memory', 'DBSIZE', 'redis-cli --bigkeys --memkeys'];

  it('reports dbsize, used_memory and big keys from real data', async () => {
    await seed('cache', 50);
    const big = `cache:${RUN}:big`;
    await redis.set(big, 'x'.repeat(2_000_000));

    const result = await redisAnalysis.run({ commands: SEED_COMMANDS }, context({ redis }));

    const out = result.outputs as Record<string, unknown>;
    expect(out.dbsize).toBeGreaterThanOrEqual(51);
    expect(out.used_memory).toBeGreaterThan(2_000_000);
    expect(out.maxmemory).toBe(0);
    expect(out.redis_memory_usage).toBeNull();
    expect(out.evicted_keys).toEqual(expect.any(Number));
    const bigKeys = out.big_keys as { key: string; type: string; bytes: number }[];
    expect(bigKeys[0]).toEqual({ key: big, type: 'string', bytes: expect.any(Number) });
    expect(bigKeys[0]?.bytes).toBeGreaterThan(2_000_000);
    expect(bigKeys.length).toBeLessThanOrEqual(10);
    expect(result.before).toMatchObject({ DBSIZE: out.dbsize, 'INFO memory': expect.objectContaining({ used_memory: expect.any(String) }) });
  });

  it('leaves big_keys null when no big-key scan was asked for, and reads MEMORY STATS', async () => {
    const result = await redisAnalysis.run({ commands: ['MEMORY STATS', 'INFO stats'] }, context({ redis }));

    expect(result.outputs).toMatchObject({ big_keys: null, dbsize: expect.any(Number) });
    expect(result.before).toMatchObject({ 'MEMORY STATS': expect.objectContaining({ 'keys.count': expect.any(Number) }) });
  });

  it.each(['FLUSHDB', 'DEL cache:x:0', 'CONFIG SET maxmemory 1', 'redis-cli --bigkeys; redis-cli FLUSHALL', 'INFO memory FLUSHALL'])(
    'refuses %s and changes nothing',
    async (command) => {
      await seed('cache', 3);

      expect(redisAnalysis.checkCaps?.({ commands: [command] }, loadPolicy())).toEqual([expect.stringContaining('is not a read-only diagnostic')]);
      await expect(redisAnalysis.run({ commands: ['DBSIZE', command] }, context({ redis }))).rejects.toBeInstanceOf(InvalidParameterError);
      expect(await keysMatching(`cache:${RUN}:*`)).toHaveLength(3);
    },
  );

  it('reports an unreachable Redis as transient, naming the server', async () => {
    const unreachable = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    unreachable.on('error', () => undefined);
    try {
      await expect(redisAnalysis.run({ commands: SEED_COMMANDS }, context({ redis: unreachable }))).rejects.toMatchObject({ name: 'TransientTargetError', target: '127.0.0.1:1' });
    } finally {
      unreachable.disconnect();
    }
  });

  it('reports the target not configured', async () => {
    await expect(redisAnalysis.run({ commands: SEED_COMMANDS }, context({}))).rejects.toThrow(
      new TargetNotConfiguredError('redis_analysis: no Redis target configured'),
    );
  });
});
