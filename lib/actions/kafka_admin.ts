/** kafka_admin: read-only consumer-group diagnostics (scenario 5). */
import { z } from 'zod';
import { requireTarget } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import type { KafkaOps } from './ports';

export const action = defineAction({
  name: 'kafka_admin',
  description: 'Describe a consumer group: members, lag and its trend, errors, partition assignment (read-only).',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    commands: z.array(z.enum(['describe_consumer_group', 'check_consumer_health', 'check_partition_assignment'])).min(1),
    group: z.string().optional(),
  }),
  outputs: ['consumer_group', 'consumer_lag', 'consumers_healthy', 'lag_increasing', 'consumer_has_errors', 'unassigned_partitions', 'consumer_deployment'],
  iamActions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic'],
  async run(p, ctx) {
    const kafka = requireTarget<KafkaOps>(ctx, 'kafka', 'kafka_admin');
    const g = await kafka.describeGroup(p.group);
    // From CloudWatch alone (state Unknown) health cannot be judged: unknown, never guessed.
    const known = g.state !== 'Unknown';
    const healthy = known ? g.state === 'Stable' && g.members > 0 && g.errors === 0 && g.unassignedPartitions === 0 : null;
    return {
      summary: `group ${g.group}: ${g.state}, ${g.members} members, lag ${g.lag} (trend ${g.lagTrend > 0 ? `up ${g.lagTrend.toFixed(1)}/s` : 'flat/down'}), ${g.errors} errors, ${g.unassignedPartitions} unassigned partitions${g.deployment ? `; consumer deployment ${g.deployment}` : ''}`,
      before: g,
      outputs: {
        consumer_group: g.group,
        consumer_lag: g.lag,
        consumers_healthy: healthy,
        lag_increasing: g.lagTrend > 0,
        consumer_has_errors: known ? g.errors > 0 : null,
        unassigned_partitions: g.unassignedPartitions,
        consumer_deployment: g.deployment ?? null,
      },
    };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
