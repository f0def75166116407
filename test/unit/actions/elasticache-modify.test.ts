/** elasticache_modify (seed scenario 4) over the ElastiCache API, with aws-sdk-client-mock. */
import { DescribeReplicationGroupsCommand, ElastiCacheClient, ModifyReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { action, FAILOVER_NOTE, nextNodeType } from '../../../lib/actions/elasticache_modify';
import { AwsReplicationGroups } from '../../../lib/actions/elasticache/aws-replication-groups';
import { actionContext } from '../../helpers/action-context';

const ec = mockClient(ElastiCacheClient);
const params = { action: 'modify_replication_group' as const, node_type: 'upgrade_one_tier' };
const ctx = () => actionContext({ targets: { elasticache: new AwsReplicationGroups(new ElastiCacheClient({ region: 'us-east-1' }), 'exchange-cache') } });
const group = (nodeType: string, status = 'available') => ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'exchange-cache' }).resolves({ ReplicationGroups: [{ ReplicationGroupId: 'exchange-cache', CacheNodeType: nodeType, Status: status, ClusterEnabled: true }] });

beforeEach(() => ec.reset());

describe('elasticache_modify', () => {
  it('moves the group one tier up with ApplyImmediately, carries the failover note, and reports what AWS says afterwards', async () => {
    // prepare: AWS reports the old node type with status modifying until the change completes
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'exchange-cache' })
      .resolvesOnce({ ReplicationGroups: [{ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.large', Status: 'available', ClusterEnabled: true }] })
      .resolves({ ReplicationGroups: [{ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.large', Status: 'modifying', ClusterEnabled: true, PendingModifiedValues: { AutomaticFailoverStatus: 'enabled' } }] });
    ec.on(ModifyReplicationGroupCommand).resolves({ ReplicationGroup: { ReplicationGroupId: 'exchange-cache', Status: 'modifying' } });

    // act
    const r = await action.run(params, ctx());

    // assess
    expect(ec.commandCalls(ModifyReplicationGroupCommand)[0]!.args[0].input).toEqual({ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.xlarge', ApplyImmediately: true });
    expect(ec.commandCalls(DescribeReplicationGroupsCommand)).toHaveLength(2);
    expect(r.before).toEqual({ replicationGroup: 'exchange-cache', nodeType: 'cache.r6g.large', status: 'available' });
    expect(r.after).toEqual({ replicationGroup: 'exchange-cache', requestedNodeType: 'cache.r6g.xlarge', nodeType: 'cache.r6g.large', status: 'modifying', pending: { AutomaticFailoverStatus: 'enabled' }, note: FAILOVER_NOTE });
    expect(r.outputs).toEqual({ previous_node_type: 'cache.r6g.large', node_type: 'cache.r6g.xlarge', status: 'modifying' });
    expect(r.summary).toContain('modifying: still cache.r6g.large until the change completes');
    expect(r.summary).toContain('failover');
  });

  it('reports the new node type once AWS does', async () => {
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'exchange-cache' })
      .resolvesOnce({ ReplicationGroups: [{ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.large', Status: 'available' }] })
      .resolves({ ReplicationGroups: [{ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.xlarge', Status: 'available' }] });
    ec.on(ModifyReplicationGroupCommand).resolves({});

    const r = await action.run(params, ctx());

    expect(r.after).toMatchObject({ nodeType: 'cache.r6g.xlarge', status: 'available' });
    expect(r.summary).toContain('now cache.r6g.xlarge, available');
  });

  it('refuses at the top of the family and modifies nothing', async () => {
    group('cache.r6g.16xlarge');

    await expect(action.run(params, ctx())).rejects.toMatchObject({ name: 'InvalidParameterError', target: 'exchange-cache', message: expect.stringContaining('no larger node type after cache.r6g.16xlarge') });
    expect(ec.commandCalls(ModifyReplicationGroupCommand)).toHaveLength(0);
  });

  it('refuses a group that is not available (already modifying)', async () => {
    group('cache.r6g.large', 'modifying');

    await expect(action.run(params, ctx())).rejects.toMatchObject({ name: 'InvalidParameterError', message: expect.stringContaining('is modifying, not available') });
  });

  it.each([
    ['cache.r6g.large', 'cache.r6g.xlarge'],
    ['cache.r6g.8xlarge', 'cache.r6g.12xlarge'],
    ['cache.r5.4xlarge', 'cache.r5.12xlarge'],
    ['cache.t4g.medium', undefined],
    ['cache.x2gd.large', undefined],
  ])('nextNodeType(%s) → %s', (from, to) => {
    expect(nextNodeType(from)).toBe(to);
  });
});
