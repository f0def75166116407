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
  it('moves the group one tier up with ApplyImmediately and carries the failover note', async () => {
    group('cache.r6g.large');
    ec.on(ModifyReplicationGroupCommand).resolves({ ReplicationGroup: { ReplicationGroupId: 'exchange-cache', Status: 'modifying' } });

    const r = await action.run(params, ctx());

    expect(ec.commandCalls(ModifyReplicationGroupCommand)[0]!.args[0].input).toEqual({ ReplicationGroupId: 'exchange-cache', CacheNodeType: 'cache.r6g.xlarge', ApplyImmediately: true });
    expect(r.after).toEqual({ replicationGroup: 'exchange-cache', nodeType: 'cache.r6g.xlarge', note: FAILOVER_NOTE });
    expect(r.summary).toContain('failover');
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
