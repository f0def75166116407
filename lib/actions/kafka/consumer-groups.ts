/**
 * KafkaOps over the kafkajs admin client (seed scenario 5): the group's state and members
 * (DescribeGroups, member assignments decoded), committed offsets (OffsetFetch) against end
 * offsets (ListOffsets) per partition, the partitions no member holds, and the lag trend from two
 * samples `sampleIntervalMs` apart. MSK IAM authentication when configured. The consumer
 * deployment comes from the service map's consumer_groups.
 */
import { AssignerProtocol, type Admin, type KafkaConfig } from 'kafkajs';
import { ActionError, TargetNotFoundError, TransientTargetError } from '../errors';
import type { KafkaGroupState, KafkaOps } from '../ports';

/** The kafkajs Admin calls this adapter makes (the test boundary). */
export type KafkaAdmin = Pick<Admin, 'describeGroups' | 'fetchOffsets' | 'fetchTopicOffsets'>;

export interface KafkajsConsumerGroupsOptions {
  readonly admin: KafkaAdmin;
  /** The group the playbook watches when the step names none. */
  readonly defaultGroup?: string;
  /** Service that consumes as a group (the service map's consumer_groups). */
  serviceOf?(group: string): { service: string; deployment: string } | undefined;
  /** Between the two lag samples. @default 5000 */
  readonly sampleIntervalMs?: number;
  sleep?(ms: number): Promise<void>;
}

interface Sample {
  readonly partitions: { topic: string; partition: number; committed: number; end: number; lag: number }[];
}

const kafkaFail = (err: unknown, doing: string, group: string): ActionError => {
  if (err instanceof ActionError) return err;
  const e = err as { name?: string; retriable?: boolean; message?: string };
  const message = `kafka_admin: ${doing} for group ${group} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  return e.retriable || /Connection|ECONNREFUSED|ETIMEDOUT|KafkaJSNumberOfRetriesExceeded|KafkaJSRequestTimeoutError/.test(`${e.name} ${e.message}`) ? new TransientTargetError(message, { target: group, cause: err }) : new ActionError(message, { target: group, cause: err });
};

export class KafkajsConsumerGroups implements KafkaOps {
  public constructor(private readonly o: KafkajsConsumerGroupsOptions) {}

  private async sample(group: string): Promise<Sample> {
    const admin = this.o.admin;
    const committed = await admin.fetchOffsets({ groupId: group });
    const partitions: Sample['partitions'] = [];
    for (const t of committed) {
      const ends = await admin.fetchTopicOffsets(t.topic);
      for (const p of t.partitions) {
        const end = ends.find((e) => e.partition === p.partition);
        const high = Number(end?.high ?? end?.offset ?? 0);
        const low = Number(end?.low ?? 0);
        // -1: nothing committed yet; the group will start from the earliest or latest offset, count the whole log.
        const c = Number(p.offset) < 0 ? low : Number(p.offset);
        partitions.push({ topic: t.topic, partition: p.partition, committed: c, end: high, lag: Math.max(0, high - c) });
      }
    }
    return { partitions };
  }

  public async describeGroup(group?: string): Promise<KafkaGroupState> {
    const id = group ?? this.o.defaultGroup;
    if (!id) throw new TargetNotFoundError('kafka_admin: no consumer group named by the step and no default group configured (KAFKA_CONSUMER_GROUP)');
    try {
      const described = (await this.o.admin.describeGroups([id])).groups[0];
      if (!described || described.state === 'Dead') throw new TargetNotFoundError(`kafka_admin: consumer group ${id} does not exist (state ${described?.state ?? 'unknown'})`, { target: id });
      const assigned = new Set<string>();
      const members = described.members.map((m) => {
        const a = m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        const parts = Object.entries(a?.assignment ?? {}).flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`));
        for (const p of parts) assigned.add(p);
        return { id: m.memberId, client: m.clientId, host: m.clientHost, partitions: parts };
      });
      const first = await this.sample(id);
      await (this.o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(this.o.sampleIntervalMs ?? 5000);
      const second = await this.sample(id);
      const lag = (s: Sample) => s.partitions.reduce((a, p) => a + p.lag, 0);
      const seconds = (this.o.sampleIntervalMs ?? 5000) / 1000;
      const unassigned = second.partitions.filter((p) => !assigned.has(`${p.topic}/${p.partition}`)).map((p) => `${p.topic}/${p.partition}`);
      // A partition with lag whose committed offset did not move between the samples: its consumer is stuck.
      const stuck = second.partitions.filter((p) => p.lag > 0 && assigned.has(`${p.topic}/${p.partition}`) && first.partitions.find((q) => q.topic === p.topic && q.partition === p.partition)?.committed === p.committed).map((p) => `${p.topic}/${p.partition}`);
      const owner = this.o.serviceOf?.(id);
      return {
        group: id,
        state: described.state,
        members: members.length,
        lag: lag(second),
        lagTrend: (lag(second) - lag(first)) / seconds,
        errors: stuck.length + (members.length === 0 && lag(second) > 0 ? 1 : 0),
        unassignedPartitions: unassigned.length,
        ...(owner ? { deployment: owner.deployment, service: owner.service } : {}),
        partitions: second.partitions,
        memberDetails: members,
        stuckPartitions: stuck,
        unassigned,
      };
    } catch (err) {
      throw kafkaFail(err, 'describe', id);
    }
  }
}

export interface KafkaConnection {
  /** Bootstrap brokers, `host:port` comma-separated (KAFKA_BROKERS). */
  readonly brokers: string;
  /** MSK IAM: SASL OAUTHBEARER with a token signed for the region (MSK_IAM_REGION). */
  readonly mskIamRegion?: string;
  /** TLS to the brokers. @default true with MSK IAM, else false */
  readonly ssl?: boolean;
}

/** kafkajs client settings for a connection; MSK IAM signs a token with the Lambda's role (aws-msk-iam-sasl-signer-js). */
export async function kafkaConfig(c: KafkaConnection): Promise<KafkaConfig> {
  const base: KafkaConfig = { clientId: 'sre-agent', brokers: c.brokers.split(',').map((b) => b.trim()).filter(Boolean), connectionTimeout: 5000, requestTimeout: 10000, retry: { retries: 2 } };
  if (!c.mskIamRegion) return { ...base, ssl: c.ssl ?? false };
  const region = c.mskIamRegion;
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return {
    ...base,
    ssl: c.ssl ?? true,
    sasl: {
      mechanism: 'oauthbearer',
      oauthBearerProvider: async () => {
        const t = await generateAuthToken({ region });
        return { value: t.token };
      },
    },
  };
}
