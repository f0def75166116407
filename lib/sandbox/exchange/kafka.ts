/**
 * The order-events consumer group of the drill world, as kafka_admin reads it (the KafkaOps port):
 * offsets move with the world's production rate and with what the ready order-consumer pods of
 * the Kubernetes sandbox can process, so scaling the consumer really drains the lag. A stand-in
 * for a broker the drill does not have, named as such in its state.
 */
import type { KafkaGroupState, KafkaOps } from '../../actions/ports';

export interface ConsumerGroupOptions {
  readonly group: string;
  readonly topic: string;
  readonly partitions: number;
  /** The consumer deployment (service map consumer_groups). */
  readonly deployment: string;
  readonly service: string;
  /** Ready consumer pods now. */
  readyConsumers(): number;
}

/** Messages one consumer pod processes per second. */
export const MESSAGES_PER_CONSUMER = 700;

export class SimulatedConsumerGroup implements KafkaOps {
  /** Messages produced per second (the world sets it). */
  public productionRate = 2500;
  private readonly end: number[];
  private readonly committed: number[];
  private lastTrend = 0;

  public constructor(private readonly o: ConsumerGroupOptions) {
    this.end = Array.from({ length: o.partitions }, (_, i) => 4_000_000 + i * 1000);
    this.committed = [...this.end];
  }

  /** Moves the offsets on by `seconds` of simulated time. */
  public advance(seconds: number): void {
    const before = this.lag;
    const n = this.o.partitions;
    const produced = this.productionRate * seconds;
    for (let i = 0; i < n; i += 1) this.end[i] = (this.end[i] as number) + produced / n;
    let capacity = this.o.readyConsumers() * MESSAGES_PER_CONSUMER * seconds;
    // Consumers work their partitions evenly; what one partition does not need, another may use.
    for (let pass = 0; pass < 2 && capacity > 0; pass += 1) {
      const share = capacity / n;
      for (let i = 0; i < n; i += 1) {
        const take = Math.min(share, (this.end[i] as number) - (this.committed[i] as number));
        this.committed[i] = (this.committed[i] as number) + take;
        capacity -= take;
      }
    }
    this.lastTrend = seconds > 0 ? (this.lag - before) / seconds : 0;
  }

  public get lag(): number {
    return Math.round(this.end.reduce((sum, e, i) => sum + e - (this.committed[i] as number), 0));
  }

  public async describeGroup(group?: string): Promise<KafkaGroupState> {
    const members = this.o.readyConsumers();
    const partitions = this.end.map((e, i) => ({ topic: this.o.topic, partition: i, committed: Math.floor(this.committed[i] as number), end: Math.floor(e), lag: Math.round(e - (this.committed[i] as number)) }));
    return {
      group: group ?? this.o.group,
      state: members > 0 ? 'Stable' : 'Empty',
      members,
      lag: this.lag,
      lagTrend: this.lastTrend,
      errors: members > 0 ? 0 : partitions.filter((p) => p.lag > 0).length,
      unassignedPartitions: members > 0 ? 0 : this.o.partitions,
      deployment: this.o.deployment,
      service: this.o.service,
      partitions,
      memberDetails: Array.from({ length: members }, (_, i) => ({ id: `consumer-${i + 1}`, client: `${this.o.deployment}-${i + 1}`, host: '/10.42.0.1', partitions: partitions.filter((p) => p.partition % Math.max(1, members) === i).map((p) => `${p.topic}-${p.partition}`) })),
    };
  }
}
