/**
 * Redis targets in both shapes the exchange runs: one server (or an ElastiCache cluster-mode
 * disabled primary) and a cluster (ElastiCache cluster mode enabled, or Redis Cluster), where
 * every master holds a share of the keys and its own maxmemory. The Redis actions work per master.
 */
import type { Cluster, Redis } from 'ioredis';
import { TargetNotConfiguredError } from '../errors';

/** What the Redis actions act on: a single server's client or a cluster client. */
export type RedisTarget = Redis | Cluster;

/** How long to wait for a cluster client to learn its slots before giving up, in ms. */
export const CLUSTER_READY_TIMEOUT_MS = 10_000;

/** A transient failure while a cluster client has not yet learnt which nodes serve its slots. */
export class ClusterNotReadyError extends Error {
  override readonly name = 'ClusterNotReadyError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function isCluster(target: RedisTarget): target is Cluster {
  // ioredis sets isCluster on both classes; no value import keeps ioredis out of this module's load.
  return (target as { isCluster?: boolean }).isCluster === true;
}

async function clusterReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return;
  if (cluster.status === 'wait') await cluster.connect();
  if ((cluster.status as string) === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cluster.off('ready', ready);
      reject(new ClusterNotReadyError(`Redis cluster not ready after ${CLUSTER_READY_TIMEOUT_MS} ms (status ${cluster.status})`));
    }, CLUSTER_READY_TIMEOUT_MS);
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    cluster.once('ready', ready);
  });
}

/**
 * The clients of every master: the target itself for one server; each master of a cluster,
 * addressed directly (SCAN, INFO and DBSIZE are per node, and a cluster client would send them
 * to one node only).
 */
export async function masterNodes(target: RedisTarget): Promise<Redis[]> {
  if (!isCluster(target)) return [target];
  await clusterReady(target);
  const masters = target.nodes('master');
  if (masters.length === 0) throw new ClusterNotReadyError('Redis cluster reports no master node');
  return masters;
}

/** `host:port` of a node, as the timeline names it. */
export function nodeName(node: Redis): string {
  return `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;
}

/** `host:port` of a target as errors name it: the server, or a cluster's first startup node (its configuration endpoint). */
export function targetName(target: RedisTarget): string {
  if (!isCluster(target)) return nodeName(target);
  // ioredis keeps the startup nodes as given (host:port strings, ports or {host, port}) in a field its types mark private.
  const first = (target as unknown as { startupNodes?: (string | number | { host?: string; port?: number })[] }).startupNodes?.[0];
  if (typeof first === 'object' && first) return `${first.host ?? '127.0.0.1'}:${first.port ?? 6379}`;
  return first === undefined ? 'redis cluster' : typeof first === 'number' ? `127.0.0.1:${first}` : first;
}

/** Whether the target is a cluster, for summaries. */
export function isClusterTarget(target: RedisTarget): boolean {
  return isCluster(target);
}

/** Options of {@link connectRedis}. */
export interface ConnectRedisOptions {
  /**
   * Treat the URL as a cluster's configuration endpoint (ElastiCache cluster mode enabled).
   * @default false
   */
  readonly cluster?: boolean;
  /**
   * Connect now (and fail now when the server is unreachable) rather than at the first command.
   * @default false
   */
  readonly connectNow?: boolean;
}

/**
 * A client for `redis://` or `rediss://` (TLS) URL. With `cluster`, the URL is the configuration
 * endpoint: the client discovers the masters from it and, as ElastiCache requires with TLS, keeps
 * the endpoint's host name for certificate checks instead of resolving it to node addresses.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<RedisTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new TargetNotConfiguredError(`Redis URL "${url}" is not a URL (expected redis://host:port[/db] or rediss://...)`, { cause: err });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TargetNotConfiguredError(`Redis URL "${url}": scheme ${parsed.protocol} is not redis: or rediss:`);
  }
  const tls = parsed.protocol === 'rediss:' ? {} : undefined;
  const { default: IORedis, Cluster: IOCluster } = await import('ioredis');
  if (options.cluster) {
    const cluster = new IOCluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], {
      lazyConnect: !options.connectNow,
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: {
        maxRetriesPerRequest: 2,
        tls,
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      },
    });
    if (options.connectNow) await clusterReady(cluster);
    return cluster;
  }
  const redis = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 2, tls });
  if (options.connectNow) await redis.connect();
  return redis;
}
