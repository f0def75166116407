/**
 * ElastiCacheOps over the ElastiCache API: DescribeReplicationGroups, ModifyReplicationGroup with
 * ApplyImmediately. The SDK package is loaded at the first call (lib/runtime/lazy-sdk.ts).
 */
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { ActionError, TargetNotFoundError, TransientTargetError } from '../errors';
import type { ElastiCacheOps, ReplicationGroupState } from '../ports';

function fail(err: unknown, doing: string, target: string): ActionError {
  const name = (err as { name?: string }).name ?? 'Error';
  const message = `elasticache_modify: ${doing} ${target} failed: ${name}: ${(err as Error).message}`;
  if (/ReplicationGroupNotFound/.test(name)) return new TargetNotFoundError(message, { target, cause: err });
  if (/Throttl|InvalidReplicationGroupState|ServiceUnavailable/.test(name)) return new TransientTargetError(message, { target, cause: err });
  return new ActionError(message, { target, cause: err });
}

export class AwsReplicationGroups implements ElastiCacheOps {
  /** @param defaultGroup the replication group the playbooks work on (ELASTICACHE_REPLICATION_GROUP) */
  public constructor(private readonly client: Pick<ElastiCacheClient, 'send'>, private readonly defaultGroup?: string) {}

  public async describe(group?: string): Promise<ReplicationGroupState> {
    const id = group ?? this.defaultGroup;
    if (!id) throw new TargetNotFoundError('elasticache_modify: no replication group named by the step and none configured (ELASTICACHE_REPLICATION_GROUP)');
    const { DescribeReplicationGroupsCommand } = await import('@aws-sdk/client-elasticache');
    let g;
    try {
      g = (await this.client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups?.[0];
    } catch (err) {
      throw fail(err, 'DescribeReplicationGroups', id);
    }
    if (!g?.CacheNodeType) throw new TargetNotFoundError(`elasticache_modify: replication group ${id} not found`, { target: id });
    const pending = Object.fromEntries(Object.entries(g.PendingModifiedValues ?? {}).filter(([, v]) => v !== undefined));
    return { id, nodeType: g.CacheNodeType, status: g.Status ?? 'unknown', ...(Object.keys(pending).length > 0 ? { pending } : {}) };
  }

  /** ModifyReplicationGroup, then DescribeReplicationGroups: the group reports `modifying` and its old node type until the change completes. */
  public async modifyNodeType(group: string, nodeType: string): Promise<ReplicationGroupState> {
    const { ModifyReplicationGroupCommand } = await import('@aws-sdk/client-elasticache');
    try {
      await this.client.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: group, CacheNodeType: nodeType, ApplyImmediately: true }));
    } catch (err) {
      throw fail(err, 'ModifyReplicationGroup', group);
    }
    return this.describe(group);
  }
}
