/** The drill world's order-events consumer group: lag follows production minus what the ready consumers process. */
import { MESSAGES_PER_CONSUMER, SimulatedConsumerGroup } from '../../../lib/sandbox/exchange';

function group(consumers: { n: number }) {
  return new SimulatedConsumerGroup({ group: 'order-events', topic: 'order-events', partitions: 12, deployment: 'order-consumer', service: 'order-consumer', readyConsumers: () => consumers.n });
}

describe('SimulatedConsumerGroup', () => {
  it('builds lag while production outruns the consumers, and reports a growing trend', async () => {
    // prepare
    const consumers = { n: 4 };
    const g = group(consumers);
    g.productionRate = 4000;
    // act
    g.advance(10);
    const state = await g.describeGroup();
    // assess: 4,000/s produced, 4 × 700/s consumed, for 10 s
    expect(state.lag).toBe((4000 - 4 * MESSAGES_PER_CONSUMER) * 10);
    expect(state.lagTrend).toBeCloseTo(1200);
    expect(state).toMatchObject({ state: 'Stable', members: 4, errors: 0, unassignedPartitions: 0, deployment: 'order-consumer' });
  });

  it('drains the lag once there are enough consumers, and never below zero', async () => {
    // prepare
    const consumers = { n: 4 };
    const g = group(consumers);
    g.productionRate = 4000;
    g.advance(30);
    // act
    consumers.n = 8;
    g.advance(10);
    const draining = await g.describeGroup();
    g.advance(600);
    // assess
    expect(draining.lag).toBe(36_000 - (8 * MESSAGES_PER_CONSUMER - 4000) * 10);
    expect(draining.lagTrend).toBeLessThan(0);
    expect((await g.describeGroup()).lag).toBe(0);
  });

  it('has no members and every lagging partition as an error when no consumer is ready', async () => {
    // prepare
    const g = group({ n: 0 });
    // act
    g.advance(5);
    // assess
    expect(await g.describeGroup()).toMatchObject({ state: 'Empty', members: 0, errors: 12, unassignedPartitions: 12 });
  });
});
