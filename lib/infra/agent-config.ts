/** The deployment configuration in cdk.json context `sre-agent:config`, checked with zod at synth. */
import * as z from '../yaml/zod';
import { breakerConfigSchema } from '../breaker/breaker';
import { StackConfigError } from './errors';

/** Context key that holds the configuration. */
export const CONFIG_CONTEXT_KEY = 'sre-agent:config';

const nonEmpty = z.string().check(z.minLength(1));
/** A string matching `pattern` (no message of its own: zod's "Invalid string: must match pattern ..."). */
const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));
const vpcId = matching(/^vpc-[0-9a-f]+$/);
const bedrockModelId = /^[a-z0-9-]+\.[A-Za-z0-9.:-]+$/;
const k8sNamespace = matching(/^[a-z0-9][a-z0-9-]{0,62}$/);

const metricOverride = z.looseObject({ namespace: nonEmpty, metric: nonEmpty });

const targetsSchema = z.strictObject({
  /** `rediss://<primary or configuration endpoint>:6379` (no password: in-VPC, TLS). */
  redisUrl: z.optional(matching(/^rediss?:\/\/[^@/]+(:\d+)?(\/\d+)?$/, 'rediss://host:port without credentials')),
  redisCluster: z.optional(z.boolean()),
  /** Secrets Manager secret name of the database user rds_query connects as (and kills idle threads with). */
  rdsSecretId: z.optional(matching(/^[A-Za-z0-9/_+=.@-]+$/)),
  rdsEndpoint: z.optional(matching(/^[A-Za-z0-9.-]+:\d+$/)),
  /** The DB instance rds_parameter_change reads and whose parameter group it changes. */
  rdsInstanceId: z.optional(matching(/^[A-Za-z][A-Za-z0-9-]{0,62}$/)),
  /** The instance's custom parameter group: ModifyDBParameterGroup is allowed on it alone (else on groups tagged sre-agent:managed=true). */
  rdsParameterGroup: z.optional(matching(/^[A-Za-z][A-Za-z0-9-]{0,254}$/)),
  /** The replication group elasticache_modify may resize (else only groups tagged sre-agent:managed=true). */
  elasticacheReplicationGroup: z.optional(matching(/^[a-z][a-z0-9-]{0,39}$/)),
  kafkaBrokers: z.optional(nonEmpty),
  /** Region of the MSK cluster when its brokers use IAM authentication. */
  mskIamRegion: z.optional(matching(/^[a-z]{2}(-[a-z]+)+-\d$/)),
  kafkaConsumerGroup: z.optional(nonEmpty),
  mskClusterName: z.optional(nonEmpty),
  kafkaTopic: z.optional(nonEmpty),
  /** Parameter Store prefix of update_config / feature_flags. */
  configParameterPrefix: z._default(matching(/^\/[A-Za-z0-9_.\-/]+$/), '/sre-agent'),
  adminHttp: z.optional(z.boolean()),
  checkAcm: z.optional(z.boolean()),
  checkIamKeys: z.optional(z.boolean()),
  tlsDomains: z.optional(z.array(matching(/^[A-Za-z0-9.-]+(:\d+)?$/))),
  jiraBaseUrl: z.optional(z.url()),
  jiraProject: z.optional(nonEmpty),
  ticketWebhookUrl: z.optional(z.url()),
});

const networkSchema = z.strictObject({
  vpcId,
  availabilityZones: z.array(nonEmpty).check(z.minLength(1)),
  privateSubnetIds: z.array(matching(/^subnet-[0-9a-f]+$/)).check(z.minLength(1)),
  securityGroupIds: z.array(matching(/^sg-[0-9a-f]+$/)).check(z.minLength(1)),
});

const knowledgeSchema = z.strictObject({
  /** Qdrant's https URL, without credentials (the functions reach it over the internet or the VPC). */
  qdrantUrl: z
    .url({ protocol: /^https?$/ })
    // Not a URL at all: z.url's own issue says so (the check runs anyway, and `new URL` would throw).
    .check(z.refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), 'a URL without user or password (the API key is a Secrets Manager secret)')),
  /** Secrets Manager secret name holding Qdrant's API key (create it with `aws secretsmanager create-secret`). @default - no API key */
  qdrantApiKeySecret: z.optional(matching(/^[A-Za-z0-9/_+=.@-]{1,512}$/)),
  /** Bedrock foundation model that embeds entries and queries, in the stack's region; InvokeModel is allowed on it alone. */
  bedrockModelId: matching(bedrockModelId, 'a Bedrock foundation model id such as amazon.titan-embed-text-v2:0'),
});

const investigationSchema = z.strictObject({
  /** A Bedrock text model of the stack's region that supports Converse, by id (e.g. `anthropic.claude-3-haiku-20240307-v1:0`); enable it in the Bedrock console. */
  summaryModelId: matching(bedrockModelId, 'a Bedrock foundation model id such as anthropic.claude-3-haiku-20240307-v1:0 (not an ARN, not an inference profile)').check(
    z.refine((id) => !/(^|\.)(titan-embed|embed-|cohere\.embed|rerank)/.test(id), 'a text model: an embedding or rerank model cannot write a summary'),
  ),
});

const detectionSchema = z.strictObject({
  /** Values of the metric catalogue's dimensions other than `service`: `{ "DBInstanceIdentifier": "orders-db", "ReplicationGroupId": "redis-prod", "Cluster Name": "exchange", "Consumer Group": "order-events", "Topic": "orders" }`. */
  dimensions: z._default(z.record(nonEmpty, z.string().check(z.minLength(1), z.maxLength(1024))), {}),
  /** Application log group the `log_pattern` rules filter (e.g. `/aws/containerinsights/<cluster>/application`). */
  logGroup: z.optional(matching(/^[.\-_/#A-Za-z0-9]{1,512}$/)),
  /** Services to alarm for, per playbook (default: the playbook's `service`). */
  services: z._default(z.record(matching(/^[a-z0-9][a-z0-9_-]*$/), z.array(k8sNamespace).check(z.minLength(1))), {}),
});

const agentConfigSchema = z.strictObject({
  /**
   * Per-deployment additions to the metric catalogue (playbooks/metrics.yaml): playbook metric
   * name → CloudWatch namespace/metric/stat/period/dimensions.
   */
  metrics: z._default(z.record(matching(/^[a-z][a-z0-9_]*$/), metricOverride), {}),
  /** Service → owning team (and, later, on-call rotation). */
  services: z._default(z.record(nonEmpty, z.strictObject({ owner: nonEmpty })), {}),
  notifications: z._default(
    z.strictObject({
      /** Subscribed to the approvals/alerts topic when set (the address confirms by mail). */
      approvalEmail: z.optional(z.email()),
    }),
    {},
  ),
  /** EKS cluster the Kubernetes actions work on; scopes eks:DescribeCluster to its ARN. */
  eksClusterName: z.optional(matching(/^[0-9A-Za-z][A-Za-z0-9\-_]*$/)),
  /**
   * Circuit-breaker thresholds (seed §3.2), e.g. `{ "coolDownSeconds": 900 }`; what is left out
   * keeps its default (lib/breaker DEFAULT_BREAKER_CONFIG). Every Lambda gets them.
   */
  breakers: z._default(breakerConfigSchema, {}),
  /** VPC of the data-plane targets (Redis, MySQL). Recorded only: no lookup at synth. */
  vpcId: z.optional(vpcId),
  /**
   * Where the actions' systems are: each action's function gets the variables of the targets its
   * definition `uses` (lib/runtime/environment.ts TARGET_ENVIRONMENT). No credentials here: the
   * database user is the Secrets Manager secret `rdsSecretId`.
   */
  targets: z._default(targetsSchema, { configParameterPrefix: '/sre-agent' }),
  /**
   * The VPC of the functions that reach RDS, ElastiCache, MSK and the EKS endpoint, by ids (no
   * lookup: synth stays offline). Without it those functions run outside any VPC.
   */
  network: z.optional(
    networkSchema.check(
      z.refine((n) => n.privateSubnetIds.length === n.availabilityZones.length, { message: 'one private subnet per availability zone, in the same order', path: ['privateSubnetIds'] }),
    ),
  ),
  /** PagerDuty on-call lookup: role → schedule / escalation-policy ids (the API key is the secret sre-agent/pagerduty-api-key). */
  pagerdutyOncallRoles: z.optional(z.record(z.string(), z.unknown())),
  /**
   * Where approved public notices go (seed §4.1 level 4): an Atlassian Statuspage page (its API key
   * is the secret sre-agent/statuspage-api-key) or an https webhook. @default - none: approved notices are posted by hand
   */
  statusPage: z.optional(z.union([z.strictObject({ statuspagePageId: matching(/^[a-z0-9]{6,32}$/) }), z.strictObject({ webhookUrl: z.url({ protocol: /^https$/ }) })])),
  /**
   * The knowledge base on Qdrant (seed §5.2, collection `sre_knowledge`) with Bedrock embeddings,
   * instead of the embedded store kept in the reports bucket (`knowledge/entries.json`).
   * @default - the embedded store in the reports bucket
   */
  knowledge: z.optional(
    knowledgeSchema.check(
      // The API key travels in a header on every request: never over plain http.
      z.refine((k) => !k.qdrantApiKeySecret || k.qdrantUrl.startsWith('https://'), { message: 'an https URL when an API key is sent (it travels in every request)', path: ['qdrantUrl'] }),
    ),
  ),
  /**
   * The investigation's optional LLM summary (issue 13): a Bedrock text model that summarises each
   * concluded investigation (Converse), stored beside it and labelled advisory; it decides nothing.
   * Only the investigate function gets the model's id and `bedrock:InvokeModel` on it.
   * @default - no LLM summary
   */
  investigation: z.optional(investigationSchema),
  /** Concurrent executions reserved for the trigger Lambda (a new account's limit may be as low as 10: lower this, or raise the limit). */
  triggerConcurrency: z._default(z.int().check(z.gte(1), z.lte(1000)), 20),
  /** Namespaces the Kubernetes actions may change (EKS access entry scope). @default the service map's namespaces */
  eksNamespaces: z.optional(z.array(k8sNamespace)),
  /**
   * What the detection alarms (one per playbook rule and service, lib/metrics/detection.ts) need
   * from this deployment. A rule whose metric has a dimension without a value here gets no alarm,
   * and the synth warns naming it.
   */
  detection: z._default(detectionSchema, { dimensions: {}, services: {} }),
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
    throw new StackConfigError(`cdk.json context "${CONFIG_CONTEXT_KEY}" is invalid, so the stack cannot be synthesized; fix:\n  ${problems.join('\n  ')}`, CONFIG_CONTEXT_KEY);
  }
  return result.data;
}
