/**
 * kafka_admin (seed scenario 5) at the kafkajs admin boundary (no Kafka broker, nor a JS
 * Kafka-protocol peer, can run here): a fake Admin answering describeGroups / fetchOffsets /
 * fetchTopicOffsets in kafkajs' shapes, member assignments encoded with kafkajs' own
 * AssignerProtocol; and MSK's CloudWatch lag metrics through aws-sdk-client-mock.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { AssignerProtocol } from 'kafkajs';
import { action } from '../../../../lib/actions/kafka_admin';
import { KafkajsConsumerGroups, type KafkaAdmin } from '../../../../lib/actions/kafka/consumer-groups';
import { MskCloudWatchLag } from '../../../../lib/actions/kafka/msk-cloudwatch';
import { actionContext } from '../../../helpers/action-context';
import { loadPolicy } from '../../../../lib/policy/files';

const services = loadPolicy().services;
const serviceOf = (group: string) => {
  const service = services.serviceOfConsumerGroup(group);
  return service ? { service, deployment: services.entry(service).deployment } : undefined;
};
const commands = ['describe_consumer_group', 'check_consumer_health', 'check_partition_assignment'] as ('describe_consumer_group' | 'check_consumer_health' | 'check_partition_assignment')[];

function member(id: string, partitions: number[]) {
  return { memberId: id, clientId: 'order-consumer', clientHost: `/10.0.1.${partitions[0] ?? 9}`, memberMetadata: Buffer.alloc(0), memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { 'order-events': partitions }, userData: Buffer.alloc(0) }) };
}

/** A group on order-events (3 partitions); `committed` and `ends` per sample (first, second). */
function fakeAdmin(o: { state?: string; members: ReturnType<typeof member>[]; committed: [number[], number[]]; ends: [number[], number[]] }): KafkaAdmin & { calls: string[] } {
  let sample = 0;
  const calls: string[] = [];
  return {
    calls,
    describeGroups: async (ids) => (calls.push(`describeGroups ${ids.join(',')}`), { groups: [{ groupId: ids[0]!, state: o.state ?? 'Stable', protocolType: 'consumer', protocol: 'RoundRobinAssigner', members: o.members, errorCode: 0 }] }),
    fetchOffsets: async ({ groupId }) => {
      calls.push(`fetchOffsets ${groupId}`);
      const c = o.committed[sample]!;
      return [{ topic: 'order-events', partitions: c.map((offset, partition) => ({ partition, offset: String(offset), metadata: null })) }];
    },
    fetchTopicOffsets: async (topic) => {
      calls.push(`fetchTopicOffsets ${topic}`);
      const e = o.ends[sample]!;
      sample = Math.min(sample + 1, 1);
      return e.map((high, partition) => ({ partition, offset: String(high), high: String(high), low: '0' }));
    },
  } as KafkaAdmin & { calls: string[] };
}

function run(admin: KafkaAdmin) {
  const kafka = new KafkajsConsumerGroups({ admin, defaultGroup: 'order-events', serviceOf, sampleIntervalMs: 5000, sleep: async () => undefined });
  return action.run({ commands }, actionContext({ targets: { kafka } }));
}

describe('kafka_admin over kafkajs admin', () => {
  it('healthy consumers that fall behind: consumers_healthy and lag_increasing, deployment from the service map', async () => {
    // prepare: every partition assigned and moving, end offsets growing faster than commits
    const admin = fakeAdmin({ members: [member('m1', [0, 1]), member('m2', [2])], committed: [[100, 100, 100], [150, 150, 150]], ends: [[5100, 5100, 5100], [5300, 5300, 5300]] });

    // act
    const r = await run(admin);

    // assess: lag 3 × 5000 → 3 × 5150 over 5 s
    expect(r.outputs).toMatchObject({ consumer_group: 'order-events', consumer_lag: 15_450, consumers_healthy: true, lag_increasing: true, consumer_has_errors: false, unassigned_partitions: 0, consumer_deployment: 'order-consumer' });
    expect(r.summary).toContain('trend up 90.0/s');
  });

  it('a stuck consumer (committed offset not moving while it has lag) is consumer_has_errors', async () => {
    const admin = fakeAdmin({ members: [member('m1', [0, 1]), member('m2', [2])], committed: [[100, 100, 100], [150, 100, 150]], ends: [[500, 500, 500], [500, 500, 500]] });

    const r = await run(admin);

    expect(r.outputs).toMatchObject({ consumers_healthy: false, consumer_has_errors: true, lag_increasing: false });
    expect((r.before as { stuckPartitions: string[] }).stuckPartitions).toEqual(['order-events/1']);
  });

  it('counts partitions no member holds (check_partition_assignment)', async () => {
    const admin = fakeAdmin({ state: 'Stable', members: [member('m1', [0])], committed: [[10, 10, 10], [20, 10, 10]], ends: [[30, 30, 30], [30, 30, 30]] });

    const r = await run(admin);

    expect(r.outputs).toMatchObject({ unassigned_partitions: 2, consumers_healthy: false });
    expect((r.before as { unassigned: string[] }).unassigned).toEqual(['order-events/1', 'order-events/2']);
  });

  it('names a group that does not exist (Dead)', async () => {
    const admin = fakeAdmin({ state: 'Dead', members: [], committed: [[], []], ends: [[], []] });

    await expect(run(admin)).rejects.toMatchObject({ name: 'TargetNotFoundError', target: 'order-events' });
  });

  it('a broker connection failure is transient (retried), naming the group', async () => {
    const admin = { ...fakeAdmin({ members: [], committed: [[], []], ends: [[], []] }), describeGroups: async () => Promise.reject(Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError', retriable: true })) };

    await expect(run(admin)).rejects.toMatchObject({ name: 'TransientTargetError', target: 'order-events' });
  });
});

describe('kafka_admin over MSK CloudWatch metrics', () => {
  const cw = mockClient(CloudWatchClient);
  beforeEach(() => cw.reset());

  it('reads SumOffsetLag and its trend with the MSK dimensions; health stays unknown', async () => {
    const t0 = new Date('2026-02-09T14:05:00Z');
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [
      { Id: 'lag', Label: 'SumOffsetLag', Timestamps: [t0, new Date(t0.getTime() + 300_000)], Values: [12_000, 18_000], StatusCode: 'Complete' },
      { Id: 'timelag', Label: 'EstimatedMaxTimeLag', Timestamps: [t0], Values: [42], StatusCode: 'Complete' },
    ] });
    const kafka = new MskCloudWatchLag({ client: new CloudWatchClient({ region: 'us-east-1' }), cluster: 'exchange-msk', topic: 'order-events', defaultGroup: 'order-events', serviceOf, now: () => new Date('2026-02-09T14:15:00Z') });

    const r = await action.run({ commands }, actionContext({ targets: { kafka } }));

    const q = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries![0]!.MetricStat!.Metric!;
    expect(q).toEqual({ Namespace: 'AWS/Kafka', MetricName: 'SumOffsetLag', Dimensions: [{ Name: 'Cluster Name', Value: 'exchange-msk' }, { Name: 'Consumer Group', Value: 'order-events' }, { Name: 'Topic', Value: 'order-events' }] });
    expect(r.outputs).toMatchObject({ consumer_lag: 18_000, lag_increasing: true, consumers_healthy: null, consumer_has_errors: null, consumer_deployment: 'order-consumer' });
  });

  it('no data is TargetNotFoundError naming the group, not zero lag', async () => {
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'lag', Timestamps: [], Values: [] }] });
    const kafka = new MskCloudWatchLag({ client: new CloudWatchClient({ region: 'us-east-1' }), cluster: 'exchange-msk', topic: 'order-events', defaultGroup: 'order-events' });

    await expect(action.run({ commands }, actionContext({ targets: { kafka } }))).rejects.toMatchObject({ name: 'TargetNotFoundError', target: 'order-events' });
  });
});
