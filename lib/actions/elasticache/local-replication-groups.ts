/**
 * ElastiCacheOps for `npm start`: a replication group in front of the real Redis (`--redis`), its
 * node type kept in the data folder. Moving it up a tier raises every master's `maxmemory` in
 * proportion to the new node type's memory (when maxmemory is set; 0 means no limit and is left
 * alone), so memory usage responds as it would on a larger node, and the state is read back.
 */
import { InvalidParameterError, TargetNotFoundError, TransientTargetError } from '../errors';
import { readJsonDocument, writeJsonDocument } from '../json-file';
import type { ElastiCacheOps, ReplicationGroupState } from '../ports';
import { masterNodes, nodeName, type RedisTarget } from '../redis/nodes';

const GRAVITON_R = { large: 13.07, xlarge: 26.32, '2xlarge': 52.82, '4xlarge': 105.81, '8xlarge': 209.55, '12xlarge': 317.77, '16xlarge': 419.09 };
const GRAVITON_M = { large: 6.38, xlarge: 12.93, '2xlarge': 26.04, '4xlarge': 52.26, '8xlarge': 103.68, '12xlarge': 157.12, '16xlarge': 209.55 };
const BURSTABLE = { micro: 0.5, small: 1.37, medium: 3.09 };

/**
 * Memory of each node type in GiB, per family and size (ElastiCache "Supported node types":
 * https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html). Covers
 * every size of elasticache_modify's NODE_TYPE_TIERS (a unit test keeps them in step).
 */
export const NODE_TYPE_MEMORY_GIB: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  r6g: GRAVITON_R, r7g: GRAVITON_R, m6g: GRAVITON_M, m7g: GRAVITON_M,
  r5: { large: 13.07, xlarge: 26.32, '2xlarge': 52.82, '4xlarge': 105.81, '12xlarge': 317.77, '24xlarge': 635.61 },
  m5: { large: 6.38, xlarge: 12.93, '2xlarge': 26.04, '4xlarge': 58.33, '12xlarge': 157.12, '24xlarge': 314.32 },
  t3: BURSTABLE, t4g: BURSTABLE,
};

/** `cache.r6g.xlarge` → 26.32; undefined for a node type not in {@link NODE_TYPE_MEMORY_GIB}. */
export function nodeTypeMemoryGiB(nodeType: string): number | undefined {
  const m = /^cache\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(nodeType);
  return m ? NODE_TYPE_MEMORY_GIB[m[1] as string]?.[m[2] as string] : undefined;
}

/** The file's shape: the replication groups and their node types. */
interface LocalGroupsDocument {
  replicationGroups: Record<string, { nodeType: string }>;
}

export interface LocalReplicationGroupsOptions {
  /** Where the node type is kept (`<data>/elasticache.json`). */
  readonly file: string;
  /** The Redis the group stands for; its masters' maxmemory follows the node type. */
  readonly redis: RedisTarget;
  /** The group's id, used when a step names none. @default 'local-redis' */
  readonly group?: string;
  /** The node type the group starts with. @default 'cache.r6g.large' */
  readonly nodeType?: string;
}

export class LocalReplicationGroups implements ElastiCacheOps {
  private readonly group: string;
  private readonly initialNodeType: string;

  public constructor(private readonly o: LocalReplicationGroupsOptions) {
    this.group = o.group ?? 'local-redis';
    this.initialNodeType = o.nodeType ?? 'cache.r6g.large';
    if (nodeTypeMemoryGiB(this.initialNodeType) === undefined) throw new InvalidParameterError(`local ElastiCache: node type ${this.initialNodeType} is not in NODE_TYPE_MEMORY_GIB (lib/actions/elasticache/local-replication-groups.ts)`, { target: this.group });
  }

  private read(): LocalGroupsDocument {
    const doc = readJsonDocument<LocalGroupsDocument>(this.o.file, () => ({ replicationGroups: {} }), 'elasticache_modify:', this.group);
    return { replicationGroups: doc.replicationGroups ?? {} };
  }

  private write(doc: LocalGroupsDocument): void {
    writeJsonDocument(this.o.file, doc);
  }

  private id(group?: string): string {
    const id = group ?? this.group;
    if (id !== this.group) throw new TargetNotFoundError(`elasticache_modify: replication group ${id} not found (the local one is ${this.group})`, { target: id });
    return id;
  }

  /** Each master's maxmemory, by `host:port`. */
  private async maxmemory(id: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    try {
      for (const node of await masterNodes(this.o.redis)) {
        const reply = (await node.config('GET', 'maxmemory')) as string[];
        out[nodeName(node)] = Number(reply[1] ?? 0);
      }
    } catch (err) {
      throw new TransientTargetError(`elasticache_modify: CONFIG GET maxmemory on ${id} failed: ${(err as Error).message}`, { target: id, cause: err });
    }
    return out;
  }

  public async describe(group?: string): Promise<ReplicationGroupState> {
    const id = this.id(group);
    const nodeType = this.read().replicationGroups[id]?.nodeType ?? this.initialNodeType;
    return { id, nodeType, status: 'available', maxmemory: await this.maxmemory(id) };
  }

  public async modifyNodeType(group: string, nodeType: string): Promise<ReplicationGroupState> {
    const id = this.id(group);
    const doc = this.read();
    const from = doc.replicationGroups[id]?.nodeType ?? this.initialNodeType;
    const [fromGiB, toGiB] = [nodeTypeMemoryGiB(from), nodeTypeMemoryGiB(nodeType)];
    if (fromGiB === undefined || toGiB === undefined) throw new InvalidParameterError(`elasticache_modify: the memory of ${fromGiB === undefined ? from : nodeType} is not in NODE_TYPE_MEMORY_GIB (lib/actions/elasticache/local-replication-groups.ts)`, { target: id });
    const before = await this.maxmemory(id);
    try {
      for (const node of await masterNodes(this.o.redis)) {
        const bytes = before[nodeName(node)] ?? 0;
        if (bytes > 0) await node.config('SET', 'maxmemory', String(Math.round((bytes * toGiB) / fromGiB)));
      }
    } catch (err) {
      throw new TransientTargetError(`elasticache_modify: CONFIG SET maxmemory on ${id} failed: ${(err as Error).message}`, { target: id, cause: err });
    }
    doc.replicationGroups[id] = { nodeType };
    this.write(doc);
    return this.describe(id);
  }
}
