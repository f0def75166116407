/** The `redis` target: REDIS_URL (`rediss://` for TLS, as ElastiCache in-transit encryption needs). */
import Redis from 'ioredis';
import type { TargetFactory } from './types';

export const redisTarget: TargetFactory = async ({ env }) =>
  env.REDIS_URL ? new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, tls: env.REDIS_URL.startsWith('rediss:') ? {} : undefined }) : undefined;
