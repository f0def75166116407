/** elasticache_modify: move a Redis replication group one node size up (scenario 4). */
import * as z from '../yaml/zod';
import { requireTarget } from './common';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import type { ElastiCacheOps, ReplicationGroupState } from './ports';

const GRAVITON = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];
/**
 * Node sizes per family, smallest first (ElastiCache "supported node types"): one tier up is the
 * next size of the same family; the last size of a family has none (refused).
 */
export const NODE_TYPE_TIERS: Readonly<Record<string, readonly string[]>> = {
  r6g: GRAVITON, r7g: GRAVITON, m6g: GRAVITON, m7g: GRAVITON,
  r5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
  m5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
  t3: ['micro', 'small', 'medium'], t4g: ['micro', 'small', 'medium'],
};

/** The failover note of the seed's scale step, carried in the result and the timeline. */
export const FAILOVER_NOTE = 'ElastiCache 扩容会有短暂的 failover (node type change: replicas are replaced, then a failover to the new primary; expect a few seconds of write errors)';

/** `cache.r6g.large` → `cache.r6g.xlarge`; undefined at the top of the family or for a family not in {@link NODE_TYPE_TIERS}. */
export function nextNodeType(nodeType: string): string | undefined {
  const m = /^cache\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(nodeType);
  const sizes = m ? NODE_TYPE_TIERS[m[1] as string] : undefined;
  if (!m || !sizes) return undefined;
  const i = sizes.indexOf(m[2] as string);
  return i >= 0 && i + 1 < sizes.length ? `cache.${m[1]}.${sizes[i + 1]}` : undefined;
}

/** What the timeline records of a group's state. */
function groupState(g: ReplicationGroupState): Record<string, unknown> {
  return { nodeType: g.nodeType, status: g.status, ...(g.pending ? { pending: g.pending } : {}), ...(g.maxmemory ? { maxmemory: g.maxmemory } : {}) };
}

export const action = defineAction({
  name: 'elasticache_modify',
  description: 'Modify a replication group to the next node size (brief failover, per the seed).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({
    action: z.literal('modify_replication_group'),
    node_type: z.string().check(z.regex(/^(upgrade_one_tier|cache\.[a-z0-9]+\.[a-z0-9]+)$/, 'upgrade_one_tier or a node type such as cache.r6g.xlarge')),
    replication_group: z.optional(z.string()),
  }),
  outputs: ['previous_node_type', 'node_type', 'status'],
  uses: ['elasticache'],
  iamActions: ['elasticache:DescribeReplicationGroups', 'elasticache:ModifyReplicationGroup'],
  timeoutSeconds: 120,
  targets: (p) => [{ kind: 'cache', name: p.replication_group ?? 'redis' }],
  async run(p, ctx) {
    const ec = requireTarget<ElastiCacheOps>(ctx, 'elasticache', 'elasticache_modify');
    const cur = await ec.describe(p.replication_group);
    if (cur.status !== 'available') throw new InvalidParameterError(`elasticache_modify: ${cur.id} is ${cur.status}, not available`, { target: cur.id });
    const target = p.node_type === 'upgrade_one_tier' ? nextNodeType(cur.nodeType) : p.node_type;
    if (!target || target === cur.nodeType) throw new InvalidParameterError(`elasticache_modify: no larger node type after ${cur.nodeType} in lib/actions/elasticache_modify.ts NODE_TYPE_TIERS (top of its family, or a family not listed); scale out (shards/replicas) by hand instead`, { target: cur.id });
    if (p.node_type !== 'upgrade_one_tier' && target !== nextNodeType(cur.nodeType)) {
      throw new InvalidParameterError(`elasticache_modify: ${cur.nodeType} → ${target} is more than one tier; the agent moves one tier at a time`, { target: cur.id });
    }
    // `after` is what the service reports once asked, not what was asked: AWS keeps the old node
    // type with status `modifying` until the change completes.
    const now = await ec.modifyNodeType(cur.id, target);
    const state = now.nodeType === target ? `now ${now.nodeType}, ${now.status}` : `${now.status}: still ${now.nodeType} until the change completes`;
    return {
      summary: `${cur.id} ${cur.nodeType} → ${target} (ApplyImmediately), ${state}; ${FAILOVER_NOTE}`,
      before: { replicationGroup: cur.id, ...groupState(cur) },
      after: { replicationGroup: now.id, requestedNodeType: target, ...groupState(now), note: FAILOVER_NOTE },
      outputs: { previous_node_type: cur.nodeType, node_type: target, status: now.status },
    };
  },
});
