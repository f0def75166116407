/**
 * The `redis` target: REDIS_URL (`rediss://` for TLS, as ElastiCache in-transit encryption needs);
 * with REDIS_CLUSTER=true, the configuration endpoint of a cluster-mode group (every master is acted on).
 */
import { connectRedis } from '../../actions/redis/nodes';
import type { TargetFactory } from './types';

export const redisTarget: TargetFactory = async ({ env }) =>
  env.REDIS_URL ? connectRedis(env.REDIS_URL, { cluster: env.REDIS_CLUSTER === 'true' }) : undefined;
