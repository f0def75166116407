/** The deployment configuration in cdk.json context `sre-agent:config`, checked with zod at synth. */
import { z } from 'zod';
import { breakerConfigSchema } from '../breaker/breaker';

/** Context key that holds the configuration. */
export const CONFIG_CONTEXT_KEY = 'sre-agent:config';

const metricOverride = z.looseObject({ namespace: z.string().min(1), metric: z.string().min(1) });

const agentConfigSchema = z.strictObject({
  /**
   * Per-deployment additions to the metric catalogue (playbooks/metrics.yaml): playbook metric
   * name → CloudWatch namespace/metric/stat/period/dimensions.
   */
  metrics: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), metricOverride).default({}),
  /** Service → owning team (and, later, on-call rotation). */
  services: z.record(z.string().min(1), z.strictObject({ owner: z.string().min(1) })).default({}),
  notifications: z
    .strictObject({
      /** Subscribed to the approvals/alerts topic when set (the address confirms by mail). */
      approvalEmail: z.email().optional(),
    })
    .default({}),
  /** EKS cluster the Kubernetes actions work on; scopes eks:DescribeCluster to its ARN. */
  eksClusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]*$/).optional(),
  /**
   * Circuit-breaker thresholds (seed §3.2), e.g. `{ "coolDownSeconds": 900 }`; what is left out
   * keeps its default (lib/breaker DEFAULT_BREAKER_CONFIG). Every Lambda gets them.
   */
  breakers: breakerConfigSchema.default({}),
  /** VPC of the data-plane targets (Redis, MySQL). Recorded only: no lookup at synth. */
  vpcId: z.string().regex(/^vpc-[0-9a-f]+$/).optional(),
  /**
   * What the detection alarms (one per playbook rule and service, lib/metrics/detection.ts) need
   * from this deployment. A rule whose metric has a dimension without a value here gets no alarm,
   * and the synth warns naming it.
   */
  detection: z
    .strictObject({
      /** Values of the metric catalogue's dimensions other than `service`: `{ "DBInstanceIdentifier": "orders-db", "ReplicationGroupId": "redis-prod", "Cluster Name": "exchange", "Consumer Group": "order-events", "Topic": "orders" }`. */
      dimensions: z.record(z.string().min(1), z.string().min(1).max(1024)).default({}),
      /** Application log group the `log_pattern` rules filter (e.g. `/aws/containerinsights/<cluster>/application`). */
      logGroup: z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/).optional(),
      /** Services to alarm for, per playbook (default: the playbook's `service`). */
      services: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/)).min(1)).default({}),
    })
    .default({ dimensions: {}, services: {} }),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;

/**
 * Parses the `sre-agent:config` context value; `undefined` gives the empty configuration.
 *
 * @example
 * const config = parseAgentConfig(app.node.tryGetContext(CONFIG_CONTEXT_KEY));
 */
export function parseAgentConfig(raw: unknown): AgentConfig {
  const result = agentConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${[CONFIG_CONTEXT_KEY, ...i.path.map(String)].join('.')}: ${i.message}`);
    throw new Error(`cdk.json context "${CONFIG_CONTEXT_KEY}" is invalid, so the stack cannot be synthesized; fix:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}
