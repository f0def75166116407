/**
 * What each action's function gets for the systems its definition `uses`: the environment
 * variables of those targets (checked at synth with the schema the handler parses at cold start,
 * lib/runtime/environment.ts), the grants they need (scoped to the configured resources), and
 * whether the function runs in the VPC (RDS, ElastiCache, MSK and the EKS endpoint are private).
 */
import { Aws } from 'aws-cdk-lib';
import type { ActionDefinition } from '../actions';
import { actionEnvironmentSchema, type TargetEnvironmentName } from '../runtime/environment';
import type { AgentConfig } from './agent-config';
import { accountArn, type PermissionGrant } from './agent-function';

type Targets = AgentConfig['targets'];

/** A deployment value that cannot be an action's environment, naming the config key. */
export class TargetConfigError extends Error {
  public readonly action: string;
  public constructor(action: string, message: string) {
    super(`cdk.json "sre-agent:config" → targets, for action ${action}: ${message}`);
    this.name = 'TargetConfigError';
    this.action = action;
  }
}

/** Targets reached over the network inside the VPC. */
const IN_VPC: ReadonlySet<string> = new Set(['redis', 'mysql', 'kafka', 'kube']);

const onOff = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : b ? 'on' : 'off');

/** The variables of one target from the configuration (unset ones left out). */
function variablesOf(target: TargetEnvironmentName, t: Targets, eksClusterName: string | undefined): Record<string, string | undefined> {
  switch (target) {
    case 'redis':
      return { REDIS_URL: t.redisUrl, REDIS_CLUSTER: onOff(t.redisCluster) };
    case 'mysql':
      return { RDS_SECRET_ID: t.rdsSecretId, RDS_ENDPOINT: t.rdsEndpoint };
    case 'rds':
      return { RDS_INSTANCE_ID: t.rdsInstanceId };
    case 'elasticache':
      return { ELASTICACHE_REPLICATION_GROUP: t.elasticacheReplicationGroup };
    case 'kafka':
      return { KAFKA_BROKERS: t.kafkaBrokers, MSK_IAM_REGION: t.mskIamRegion, KAFKA_CONSUMER_GROUP: t.kafkaConsumerGroup, MSK_CLUSTER_NAME: t.mskClusterName, KAFKA_TOPIC: t.kafkaTopic };
    case 'kube':
      return { EKS_CLUSTER_NAME: eksClusterName };
    case 'config':
      return { CONFIG_PARAMETER_PREFIX: t.configParameterPrefix };
    case 'http':
      return { ADMIN_HTTP: onOff(t.adminHttp) };
    case 'certificates':
      return { CHECK_ACM: onOff(t.checkAcm), CHECK_IAM_KEYS: onOff(t.checkIamKeys), TLS_DOMAINS: t.tlsDomains?.join(','), EKS_CLUSTER_NAME: eksClusterName };
    case 'tickets':
      return { JIRA_BASE_URL: t.jiraBaseUrl, JIRA_PROJECT: t.jiraProject, TICKET_WEBHOOK_URL: t.ticketWebhookUrl };
    case 'notify':
      return {};
  }
}

/**
 * The environment variables of an action's targets, validated with the schema its handler parses.
 * @throws TargetConfigError naming the variable when a value would fail the cold start.
 */
export function actionTargetEnvironment(action: Pick<ActionDefinition, 'name' | 'uses'>, targets: Targets, eksClusterName?: string): Record<string, string> {
  const uses = action.uses as readonly TargetEnvironmentName[];
  const env: Record<string, string> = {};
  for (const t of uses) for (const [k, v] of Object.entries(variablesOf(t, targets, eksClusterName))) if (v !== undefined) env[k] = v;
  const shape = actionEnvironmentSchema(uses).shape as Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }>;
  for (const [k, v] of Object.entries(env)) {
    const r = shape[k]?.safeParse(v);
    if (r && !r.success) throw new TargetConfigError(action.name, `${k}=${JSON.stringify(v)}: ${r.error?.issues.map((i) => i.message).join('; ')}`);
  }
  return env;
}

/** True when the action reaches a system inside the VPC. */
export function needsVpc(action: Pick<ActionDefinition, 'uses'>): boolean {
  return action.uses.some((u) => IN_VPC.has(u));
}

/** The secret ARN pattern for a secret name (Secrets Manager appends six random characters). */
function secretArn(name: string): string {
  return name.startsWith('arn:') ? name : accountArn('secretsmanager', `secret:${name}-??????`);
}

/**
 * Grants for the configured targets of an action, scoped to the configured resources: Parameter
 * Store under the prefix and the RDS user's secret. (RDS and ElastiCache grants come from the
 * actions' `iamActions`, scoped in action-functions.ts RESOURCE_SCOPES by the same configuration.)
 */
export function actionTargetGrants(action: Pick<ActionDefinition, 'uses'>, targets: Targets): PermissionGrant[] {
  const grants: PermissionGrant[] = [];
  for (const t of action.uses) {
    if (t === 'config') {
      const prefix = targets.configParameterPrefix.replace(/\/+$/, '');
      grants.push({
        actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameterHistory'],
        resources: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${prefix}/*`],
        wildcardReason: `Config keys and feature flags are named by the playbook step at run time; limited to Parameter Store parameters under ${prefix}/ (config/<service>/<key>, flags/<scope>/<flag>).`,
      });
    }
    if (t === 'kafka' && targets.mskClusterName && !targets.kafkaBrokers) {
      // Without brokers, consumer lag comes from MSK's CloudWatch metrics (lib/actions/kafka/msk-cloudwatch.ts).
      grants.push({ actions: ['cloudwatch:GetMetricData'], resources: ['*'], wildcardReason: 'cloudwatch:GetMetricData supports no resource-level permissions (AWS Service Authorization Reference), so Resource must be "*"; it only reads the MSK lag metrics.' });
    }
    if (t === 'mysql' && targets.rdsSecretId) {
      grants.push({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn(targets.rdsSecretId)], wildcardReason: 'The trailing ?????? is the six random characters Secrets Manager appends to the secret ARN; one secret only.' });
    }
  }
  return grants;
}
