/** elasticache_modify: move a Redis replication group one node size up (scenario 4). */
import { z } from 'zod';
import { requireTarget } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { ElastiCacheOps } from './ports';

const SIZES = ['micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];

/** `cache.r6g.large` → `cache.r6g.xlarge`; undefined at the top of the family. */
export function nextNodeType(nodeType: string): string | undefined {
  const m = /^(cache\.[a-z0-9]+)\.([a-z0-9]+)$/.exec(nodeType);
  if (!m) return undefined;
  const i = SIZES.indexOf(m[2]);
  return i >= 0 && i + 1 < SIZES.length ? `${m[1]}.${SIZES[i + 1]}` : undefined;
}

export const action = defineAction({
  name: 'elasticache_modify',
  description: 'Modify a replication group to the next node size (brief failover, per the seed).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({
    action: z.literal('modify_replication_group'),
    node_type: z.string().regex(/^(upgrade_one_tier|cache\.[a-z0-9]+\.[a-z0-9]+)$/, 'upgrade_one_tier or a node type such as cache.r6g.xlarge'),
    replication_group: z.string().optional(),
  }),
  outputs: ['previous_node_type', 'node_type'],
  iamActions: ['elasticache:DescribeReplicationGroups', 'elasticache:ModifyReplicationGroup'],
  timeoutSeconds: 120,
  targets: (p) => [{ kind: 'cache', name: p.replication_group ?? 'redis' }],
  async run(p, ctx) {
    const ec = requireTarget<ElastiCacheOps>(ctx, 'elasticache', 'elasticache_modify');
    const cur = await ec.describe(p.replication_group);
    if (cur.status !== 'available') throw new InvalidParameterError(`elasticache_modify: ${cur.id} is ${cur.status}, not available`, { target: cur.id });
    const target = p.node_type === 'upgrade_one_tier' ? nextNodeType(cur.nodeType) : p.node_type;
    if (!target || target === cur.nodeType) throw new InvalidParameterError(`elasticache_modify: no larger node type after ${cur.nodeType}`, { target: cur.id });
    if (p.node_type !== 'upgrade_one_tier' && target !== nextNodeType(cur.nodeType)) {
      throw new InvalidParameterError(`elasticache_modify: ${cur.nodeType} → ${target} is more than one tier; the agent moves one tier at a time`, { target: cur.id });
    }
    await ec.modifyNodeType(cur.id, target);
    return { summary: `${cur.id} ${cur.nodeType} → ${target}`, before: { nodeType: cur.nodeType }, after: { nodeType: target }, outputs: { previous_node_type: cur.nodeType, node_type: target } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
