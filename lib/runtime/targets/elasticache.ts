/** The `elasticache` target: the replication group ELASTICACHE_REPLICATION_GROUP. */
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { AwsReplicationGroups } from '../../actions/elasticache/aws-replication-groups';
import type { TargetFactory } from './types';

export const elasticacheTarget: TargetFactory = async ({ env }) => (env.ELASTICACHE_REPLICATION_GROUP ? new AwsReplicationGroups(new ElastiCacheClient({}), env.ELASTICACHE_REPLICATION_GROUP) : undefined);
