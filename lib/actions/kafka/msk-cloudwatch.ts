/**
 * KafkaOps from MSK's CloudWatch consumer-lag metrics (AWS/Kafka SumOffsetLag and
 * EstimatedMaxTimeLag per Cluster Name, Consumer Group, Topic): a second source that needs no
 * broker connection. It sees lag and its trend, not members or assignments: the group's state is
 * `Unknown`, so kafka_admin's consumers_healthy is unknown rather than guessed. The SDK package is
 * loaded at the first read (lib/runtime/lazy-sdk.ts).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ActionError, TargetNotFoundError, TransientTargetError } from '../errors';
import type { KafkaGroupState, KafkaOps } from '../ports';

export interface MskCloudWatchLagOptions {
  readonly client: Pick<CloudWatchClient, 'send'>;
  /** The MSK cluster name (the `Cluster Name` dimension). */
  readonly cluster: string;
  /** The topic the group consumes (the `Topic` dimension). */
  readonly topic: string;
  readonly defaultGroup?: string;
  serviceOf?(group: string): { service: string; deployment: string } | undefined;
  now?(): Date;
}

export class MskCloudWatchLag implements KafkaOps {
  public constructor(private readonly o: MskCloudWatchLagOptions) {}

  public async describeGroup(group?: string): Promise<KafkaGroupState> {
    const id = group ?? this.o.defaultGroup;
    if (!id) throw new TargetNotFoundError('kafka_admin: no consumer group named by the step and no default group configured (KAFKA_CONSUMER_GROUP)');
    const end = this.o.now?.() ?? new Date();
    const dims = [{ Name: 'Cluster Name', Value: this.o.cluster }, { Name: 'Consumer Group', Value: id }, { Name: 'Topic', Value: this.o.topic }];
    const query = (Id: string, MetricName: string) => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/Kafka', MetricName, Dimensions: dims }, Period: 60, Stat: 'Maximum' } });
    const { GetMetricDataCommand } = await import('@aws-sdk/client-cloudwatch');
    let res;
    try {
      res = await this.o.client.send(new GetMetricDataCommand({ StartTime: new Date(end.getTime() - 10 * 60_000), EndTime: end, ScanBy: 'TimestampAscending', MetricDataQueries: [query('lag', 'SumOffsetLag'), query('timelag', 'EstimatedMaxTimeLag')] }));
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      const message = `kafka_admin: GetMetricData for group ${id} failed: ${name}: ${(err as Error).message}`;
      throw /Throttl|LimitExceeded|InternalService/.test(name) ? new TransientTargetError(message, { target: id, cause: err }) : new ActionError(message, { target: id, cause: err });
    }
    const series = (key: string) => res.MetricDataResults?.find((r) => r.Id === key)?.Values ?? [];
    const lag = series('lag');
    if (lag.length === 0) throw new TargetNotFoundError(`kafka_admin: no SumOffsetLag data in the last 10 minutes for ${this.o.cluster} / ${id} / ${this.o.topic} (is consumer-lag monitoring on?)`, { target: id });
    const times = res.MetricDataResults?.find((r) => r.Id === 'lag')?.Timestamps ?? [];
    const span = times.length > 1 ? (new Date(times[times.length - 1]!).getTime() - new Date(times[0]!).getTime()) / 1000 : 0;
    const owner = this.o.serviceOf?.(id);
    return {
      group: id,
      state: 'Unknown',
      members: 0,
      lag: lag[lag.length - 1]!,
      lagTrend: span > 0 ? (lag[lag.length - 1]! - lag[0]!) / span : 0,
      errors: 0,
      unassignedPartitions: 0,
      ...(owner ? { deployment: owner.deployment, service: owner.service } : {}),
      estimatedMaxTimeLagSeconds: series('timelag').at(-1) ?? null,
    } as KafkaGroupState;
  }
}
