/**
 * Wiring for the Lambdas in AWS: clients and table names from the function's environment
 * (validated once per cold start with the schema the CDK constructs write), the same
 * CoreDeps / DispatchDeps the local engine builds.
 */
import * as path from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildApprovalLinks, secretsManagerKey, type SigningKey } from '../approval/links';
import { createNotifier, type Notifier } from '../approval/notify';
import { DEFAULT_ONCALL_FILE, lazyOnCall, PagerDutyOnCall, parsePagerDutyRoles, RotationFile, type OnCallLookup } from '../approval/oncall';
import { readSecret, secretsManagerReader, type SecretReader } from '../approval/secrets';
import { parseBreakerConfig, type BreakerConfig } from '../breaker';
import { functionEnvironmentSchema } from './environment';
import { CloudWatchMetricSource } from '../metrics';
import { defaultCatalogue } from '../playbook/catalogue';
import { loadCompiledPlaybooks } from '../compiled/manifest';
import { defaultPolicy } from '../policy/policy';
import type { CoreDeps, CoreTables, TaskReleaser } from './core';

let cached: { doc: DynamoDBDocumentClient; tables: CoreTables } | undefined;

/** DynamoDB document client and table names from the environment. @throws naming every missing variable */
export function awsData(env: NodeJS.ProcessEnv = process.env): { doc: DynamoDBDocumentClient; tables: CoreTables } {
  if (cached) return cached;
  const parsed = functionEnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new Error(`Lambda environment is incomplete: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  cached = {
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } }),
    tables: { incidents: e.INCIDENTS_TABLE, breakers: e.BREAKERS_TABLE, approvals: e.APPROVALS_TABLE },
  };
  return cached;
}

/**
 * Secret names under SECRETS_PREFIX (`sre-agent/`). A missing secret leaves its channel
 * "not configured", which every notification then records.
 */
export const NOTIFIER_SECRETS = {
  /** Events API v2 integration key of the PagerDuty service (pages and phone calls). */
  pagerdutyRoutingKey: 'pagerduty-routing-key',
  /** Slack incoming webhook URL. */
  slackWebhookUrl: 'slack-webhook-url',
  /** PagerDuty REST API key (read-only is enough) for the on-call lookup. */
  pagerdutyApiKey: 'pagerduty-api-key',
} as const;

let notifying: { notifier: Notifier; oncall: OnCallLookup } | undefined;

/**
 * Notifier and on-call lookup of a warm Lambda: SNS topic TOPIC_ARN for e-mail and send_alert's
 * sns channel, PagerDuty and Slack credentials from Secrets Manager, the rotation file bundled
 * under SRE_AGENT_CONFIG_DIR, and PagerDuty's on-call API in front of it when
 * PAGERDUTY_ONCALL_ROLES (JSON role → schedule/escalation-policy ids) is set.
 */
export function awsNotifying(env: NodeJS.ProcessEnv = process.env): { notifier: Notifier; oncall: OnCallLookup } {
  if (notifying) return notifying;
  const prefix = env.SECRETS_PREFIX ?? 'sre-agent/';
  const secrets: SecretReader = secretsManagerReader(new SecretsManagerClient({}));
  const notifier = createNotifier(
    {
      pagerduty: { routingKey: { secretId: `${prefix}${NOTIFIER_SECRETS.pagerdutyRoutingKey}` } },
      slack: { webhookUrl: { secretId: `${prefix}${NOTIFIER_SECRETS.slackWebhookUrl}` } },
      ...(env.TOPIC_ARN ? { sns: { topicArn: env.TOPIC_ARN } } : {}),
      // Inside the shortest core function timeout (15 s) with room for the timeline writes.
      timeoutMs: 3000,
      retryDelayMs: 300,
    },
    { secrets, sns: new SNSClient({}) },
  );
  const rotation = lazyOnCall(() => RotationFile.load(path.join(env.SRE_AGENT_CONFIG_DIR ?? path.dirname(DEFAULT_ONCALL_FILE), 'oncall.yaml')));
  let oncall: OnCallLookup = rotation;
  if (env.PAGERDUTY_ONCALL_ROLES) {
    try {
      oncall = new PagerDutyOnCall({
        roles: parsePagerDutyRoles(env.PAGERDUTY_ONCALL_ROLES, 'PAGERDUTY_ONCALL_ROLES'),
        apiKey: () => readSecret({ secretId: `${prefix}${NOTIFIER_SECRETS.pagerdutyApiKey}` }, secrets),
        fallback: rotation,
      });
    } catch (err) {
      // A bad mapping must not stop the function: every lookup reports it, and the timeline shows it.
      oncall = { whoIs: () => Promise.reject(err as Error) };
    }
  }
  notifying = { notifier, oncall };
  return notifying;
}

let signingKey: SigningKey | undefined;

/**
 * Per-person signed links when the function knows where the approval pages are
 * (APPROVAL_BASE_URL) and the key that signs them (SIGNING_SECRET_ID): the approval-request function.
 */
function awsApprovalLinks(env: NodeJS.ProcessEnv): CoreDeps['approvalLinks'] {
  const base = env.APPROVAL_BASE_URL;
  const secretId = env.SIGNING_SECRET_ID;
  if (!base || !secretId) return undefined;
  signingKey ??= secretsManagerKey(new SecretsManagerClient({}), secretId);
  const key = signingKey;
  return (record, person, role) => buildApprovalLinks(base, record, person.name, role, key);
}

/**
 * The breaker thresholds of this deployment (BREAKER_CONFIG, from cdk.json). A bad value fails
 * the cold start with the field at fault, rather than running on thresholds nobody chose.
 */
export function awsBreakerConfig(env: NodeJS.ProcessEnv = process.env): Required<BreakerConfig> {
  try {
    return parseBreakerConfig(env.BREAKER_CONFIG ? JSON.parse(env.BREAKER_CONFIG) : {});
  } catch (err) {
    throw new Error(`environment variable BREAKER_CONFIG: ${(err as Error).message}`, { cause: err });
  }
}

let sfn: SFNClient | undefined;

/** SendTaskSuccess / SendTaskFailure, for an approval found decided when its next level asks. */
function awsTasks(): TaskReleaser {
  const client = () => (sfn ??= new SFNClient({}));
  return {
    succeed: (taskToken, output) => client().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    fail: (taskToken, error, cause) => client().send(new SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32768) })),
  };
}

/** The config undo on resolve, over the Parameter Store prefix the config actions write under (loaded on first use). */
function awsConfigUndo(prefix: string): CoreDeps['undoConfig'] {
  return async (incidentId, actor) => {
    const [{ SSMClient }, { SsmConfig }, { undoConfigChanges }] = await Promise.all([import('@aws-sdk/client-ssm'), import('../actions/config/ssm-config'), import('./config-undo')]);
    const { doc, tables } = awsData();
    return undoConfigChanges(incidentId, { doc, tables, config: new SsmConfig({ client: new SSMClient({}), prefix }), now: () => new Date() }, actor);
  };
}

export function awsCoreDeps(env: NodeJS.ProcessEnv = process.env): CoreDeps {
  const { doc, tables } = awsData(env);
  const catalogue = defaultCatalogue();
  const { notifier, oncall } = awsNotifying(env);
  return {
    doc,
    tables,
    playbooks: loadCompiledPlaybooks(),
    policy: defaultPolicy(),
    tasks: awsTasks(),
    undoConfig: env.CONFIG_PARAMETER_PREFIX ? awsConfigUndo(env.CONFIG_PARAMETER_PREFIX) : undefined,
    breakerConfig: awsBreakerConfig(env),
    metrics: new CloudWatchMetricSource({ client: new CloudWatchClient({}), catalogue }),
    catalogue,
    now: () => new Date(),
    notifier,
    oncall,
    approvalLinks: awsApprovalLinks(env),
  };
}
