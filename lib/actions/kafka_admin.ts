/** kafka_admin: read-only consumer-group diagnostics (scenario 5). */
import * as z from '../yaml/zod';
import { requireTarget } from './common';
import { defineAction, type ActionContext } from './define';
import { ActionError } from './errors';
import { deploymentTarget } from './kubernetes';
import type { KafkaOps, KubeOps, PodHealth } from './ports';

export const action = defineAction({
  name: 'kafka_admin',
  description: 'Describe a consumer group: members, lag and its trend, errors, partition assignment (read-only).',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    commands: z.array(z.enum(['describe_consumer_group', 'check_consumer_health', 'check_partition_assignment'])).check(z.minLength(1)),
    group: z.optional(z.string()),
  }),
  outputs: ['consumer_group', 'consumer_lag', 'consumers_healthy', 'lag_increasing', 'consumer_has_errors', 'unassigned_partitions', 'consumer_deployment'],
  uses: ['kafka', 'kube'],
  iamActions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic'],
  async run(p, ctx) {
    const kafka = requireTarget<KafkaOps>(ctx, 'kafka', 'kafka_admin');
    const g = await kafka.describeGroup(p.group);
    // From CloudWatch alone (state Unknown) health cannot be judged: unknown, never guessed.
    const known = g.state !== 'Unknown';
    const kafkaHealthy = known ? g.state === 'Stable' && g.members > 0 && g.errors === 0 && g.unassignedPartitions === 0 : null;
    // The consumer pods, when the cluster is configured: pods not ready, OOM-killed or restarting in
    // the last hour are errors whatever the offsets say; ready pods alone do not prove progress.
    const pods = await consumerPods(ctx, g.deployment);
    const podsHealthy = pods ? pods.readyPods >= pods.desiredReplicas && pods.restartsInWindow === 0 : undefined;
    const healthy = podsHealthy === false ? false : kafkaHealthy;
    const hasErrors = podsHealthy === false ? true : known ? g.errors > 0 : null;
    const podText = pods ? `; pods ${pods.readyPods}/${pods.desiredReplicas} ready, ${pods.restartsInWindow} restart(s)${pods.oomKilledInWindow ? ` (${pods.oomKilledInWindow} OOMKilled)` : ''} in the last hour` : '';
    return {
      summary: `group ${g.group}: ${g.state}, ${g.members} members, lag ${g.lag} (trend ${g.lagTrend > 0 ? `up ${g.lagTrend.toFixed(1)}/s` : 'flat/down'}), ${g.errors} errors, ${g.unassignedPartitions} unassigned partitions${g.deployment ? `; consumer deployment ${g.deployment}` : ''}${podText}`,
      before: pods ? { ...g, pods } : g,
      outputs: {
        consumer_group: g.group,
        consumer_lag: g.lag,
        consumers_healthy: healthy,
        lag_increasing: g.lagTrend > 0,
        consumer_has_errors: hasErrors,
        unassigned_partitions: g.unassignedPartitions,
        consumer_deployment: g.deployment ?? null,
      },
    };
  },
});

/** Health of the consumer deployment's pods, when a cluster is configured and the group maps to a deployment. */
async function consumerPods(ctx: ActionContext, deployment: string | undefined): Promise<PodHealth | undefined> {
  const kube = ctx.targets.kube as KubeOps | undefined;
  if (!kube || !deployment) return undefined;
  try {
    return await kube.podHealth(deploymentTarget(ctx, deployment, 'kafka_admin'), 3600);
  } catch (err) {
    // The cluster's view is extra evidence: without it the group's own state decides.
    if (err instanceof ActionError) return undefined;
    throw err;
  }
}
