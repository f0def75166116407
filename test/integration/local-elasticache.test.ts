/**
 * The local ElastiCache target (`npm start --redis`): a replication group kept in the data folder
 * in front of the real Redis at 127.0.0.1:6379, whose maxmemory follows the node type; and a local
 * run of redis-memory-pressure that reaches scale_redis_cluster and succeeds with before/after.
 * maxmemory is server-wide: each test that sets it restores it (run under the services lock).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { findApprovalForStep, type ApprovalRecord } from '../../lib/approval';
import { NODE_TYPE_TIERS } from '../../lib/actions/elasticache_modify';
import { LocalReplicationGroups, nodeTypeMemoryGiB } from '../../lib/actions/elasticache/local-replication-groups';
import { getIncident, getTimeline } from '../../lib/incident';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { decideOnEngine } from '../helpers/approvals';
import { alarmEvent } from '../helpers/events';

const DB = 8;
let redis: Redis;
let dir: string;
let savedMaxmemory: string;

beforeAll(async () => {
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: DB });
  savedMaxmemory = ((await redis.config('GET', 'maxmemory')) as string[])[1] ?? '0';
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-elasticache-'));
});
afterEach(async () => {
  await redis.config('SET', 'maxmemory', savedMaxmemory);
  rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await redis.quit();
});

describe('LocalReplicationGroups', () => {
  it('knows the memory of every node type elasticache_modify can move to', () => {
    const missing = Object.entries(NODE_TYPE_TIERS).flatMap(([family, sizes]) => sizes.map((s) => `cache.${family}.${s}`)).filter((t) => nodeTypeMemoryGiB(t) === undefined);
    expect(missing).toEqual([]);
  });

  it('moves the node type, keeps it in the data folder, and raises maxmemory in proportion', async () => {
    // prepare: the Redis stands for a cache.r6g.large (13.07 GiB) with a 100 MB maxmemory
    await redis.config('SET', 'maxmemory', String(100_000_000));
    const file = path.join(dir, 'elasticache.json');
    const groups = new LocalReplicationGroups({ file, redis });

    // act
    const before = await groups.describe();
    const after = await groups.modifyNodeType(before.id, 'cache.r6g.xlarge');

    // assess: read back from the server and the file, not echoed
    expect(before).toEqual({ id: 'local-redis', nodeType: 'cache.r6g.large', status: 'available', maxmemory: { '127.0.0.1:6379': 100_000_000 } });
    expect(after).toEqual({ id: 'local-redis', nodeType: 'cache.r6g.xlarge', status: 'available', maxmemory: { '127.0.0.1:6379': Math.round((100_000_000 * 26.32) / 13.07) } });
    expect(((await redis.config('GET', 'maxmemory')) as string[])[1]).toBe(String(Math.round((100_000_000 * 26.32) / 13.07)));
    expect((await new LocalReplicationGroups({ file, redis }).describe()).nodeType).toBe('cache.r6g.xlarge');
  });

  it('leaves maxmemory 0 (no limit) alone', async () => {
    await redis.config('SET', 'maxmemory', '0');
    const groups = new LocalReplicationGroups({ file: path.join(dir, 'elasticache.json'), redis });

    const after = await groups.modifyNodeType('local-redis', 'cache.r6g.xlarge');

    expect(after.maxmemory).toEqual({ '127.0.0.1:6379': 0 });
    expect(after.nodeType).toBe('cache.r6g.xlarge');
  });

  it('names a replication group it does not hold', async () => {
    const groups = new LocalReplicationGroups({ file: path.join(dir, 'elasticache.json'), redis });

    await expect(groups.modifyNodeType('sessions-prod', 'cache.r6g.xlarge')).rejects.toMatchObject({ name: 'TargetNotFoundError', target: 'sessions-prod' });
  });
});

describe('npm start --redis: redis-memory-pressure', () => {
  let agent: RunningAgent | undefined;
  afterEach(async () => {
    await agent?.engine.quiet();
    await agent?.stop();
    agent = undefined;
  });

  it('reaches scale_redis_cluster when memory stays high, and the approved scale-up succeeds with before/after', async () => {
    // prepare: memory stays at 91% after the cleanup
    await redis.config('SET', 'maxmemory', String(200_000_000));
    agent = await startLocal({ port: 0, speedUp: 600, dataDir: dir, redisUrl: `redis://127.0.0.1:6379/${DB}`, kube: false, outbox: false, log: () => undefined });
    const engine = agent.engine;
    engine.metrics.put([
      { name: 'redis_memory_usage', value: 91, unit: 'Percent', at: new Date(Date.now() - 1000) },
      { name: 'redis_evicted_keys', value: 0, unit: 'Count', at: new Date(Date.now() - 1000) },
    ]);
    const started = await handleAlarmEvent(alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage'), { doc: engine.doc, tables: engine.tables, breakerConfig: {}, starter: engine, machines: engine.playbooks, now: () => new Date() });
    const id = started.incidentId!;
    let pending: ApprovalRecord | undefined;
    for (const deadline = Date.now() + 5000; !pending && Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
      const rec = await findApprovalForStep(engine.doc, engine.tables, id, 'scale_redis_cluster');
      if (rec?.status === 'PENDING') pending = rec;
    }

    // act: decided as the approval pages decide: the task released is the one waiting when the
    // decision lands. At 600x the level-2 window is 1 s: on a loaded machine it may have passed
    // (then level 3 finds the approval decided and goes on at once); releasing level 2's token by
    // hand failed the test then, though the agent did right.
    await decideOnEngine(engine, pending!.approvalId, { role: 'oncall_sre', person: 'alice', decision: 'approve' });
    // The larger node's headroom shows in the next datapoint, which the recovery check reads.
    engine.metrics.put([{ name: 'redis_memory_usage', value: 45, unit: 'Percent', at: new Date() }]);
    const approved = await decideOnEngine(engine, pending!.approvalId, { role: 'team_lead', person: 'bob', decision: 'approve' });
    await engine.quiet();

    // assess
    expect(approved.record.status).toBe('APPROVED');
    const scale = (await getTimeline(engine.doc, engine.tables, id)).filter((e) => e.step === 'scale_redis_cluster');
    expect(scale.map((e) => e.type)).not.toContain('step_failed');
    const raised = Math.round((200_000_000 * 26.32) / 13.07);
    expect(scale.find((e) => e.type === 'action')).toMatchObject({
      before: { replicationGroup: 'local-redis', nodeType: 'cache.r6g.large', status: 'available', maxmemory: { '127.0.0.1:6379': 200_000_000 } },
      after: { replicationGroup: 'local-redis', requestedNodeType: 'cache.r6g.xlarge', nodeType: 'cache.r6g.xlarge', status: 'available', maxmemory: { '127.0.0.1:6379': raised } },
    });
    expect(((await redis.config('GET', 'maxmemory')) as string[])[1]).toBe(String(raised));
    expect((await getIncident(engine.doc, engine.tables, id)).status).toBe('RESOLVED');
  });
});
