/** The `elasticache` target: the replication group ELASTICACHE_REPLICATION_GROUP (the SDK package loaded at the first call). */
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { AwsReplicationGroups } from '../../actions/elasticache/aws-replication-groups';
import { lazyClient } from '../lazy-sdk';
import type { TargetFactory } from './types';

export const elasticacheTarget: TargetFactory = async ({ env }) => (env.ELASTICACHE_REPLICATION_GROUP ? new AwsReplicationGroups(lazyClient<ElastiCacheClient>(async () => new (await import('@aws-sdk/client-elasticache')).ElastiCacheClient({})), env.ELASTICACHE_REPLICATION_GROUP) : undefined);
