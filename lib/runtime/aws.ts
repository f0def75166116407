/**
 * Wiring for the Lambdas in AWS: clients and table names from the function's environment
 * (validated once per cold start with the schema the CDK constructs write), the same
 * CoreDeps / DispatchDeps the local engine builds.
 *
 * Only DynamoDB is loaded at cold start (every invocation reads the incident). SNS, Secrets
 * Manager, CloudWatch and Step Functions are loaded on their first call, behind the same ports:
 * each SDK package costs tens of milliseconds of CPU to load, and most invocations use none of them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildApprovalLinks, secretsManagerKey, type SigningKey } from '../approval/links';
import { createNotifier, type Notifier } from '../notify';
import { lazyOnCall, PagerDutyOnCall, parsePagerDutyRoles, type OnCallLookup } from '../approval/oncall';
import { readSecret, secretsManagerReader, type SecretReader } from '../notify/secrets';
import { parseBreakerConfig, type BreakerConfig } from '../breaker';
import { functionEnvironmentSchema } from './environment';
import type { AwsReporting } from './aws-reporting';
import { CloudWatchMetricSource } from '../metrics';
import { loadCompiledPlaybooks } from '../compiled/manifest';
import type { CoreDeps, CoreTables, TaskReleaser } from './core';
import { statusPublisherFromEnv } from './status-page-config';
import { EnvironmentError } from './errors';
import { bundledConfig } from './bundled-config';
import { lazyClient } from './lazy-sdk';

let cached: { doc: DynamoDBDocumentClient; tables: CoreTables } | undefined;

let secretsManager: Pick<SecretsManagerClient, 'send'> | undefined;
/** The Secrets Manager client of this warm function, loaded at its first call (one per function, whoever reads a secret). */
export function awsSecretsManager(): Pick<SecretsManagerClient, 'send'> {
  return (secretsManager ??= lazyClient(async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({})));
}

/** DynamoDB document client and table names from the environment. @throws naming every missing variable */
export function awsData(env: NodeJS.ProcessEnv = process.env): { doc: DynamoDBDocumentClient; tables: CoreTables } {
  if (cached) return cached;
  const parsed = functionEnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new EnvironmentError(`Lambda environment is incomplete: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, [...new Set(parsed.error.issues.map((i) => i.path.join('.')))]);
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
let onCallLookup: OnCallLookup | undefined;

/**
 * The on-call lookup of a warm Lambda: the rotation bundled under SRE_AGENT_CONFIG_DIR
 * (config.json), with PagerDuty's on-call API in front of it when PAGERDUTY_ONCALL_ROLES (JSON
 * role → schedule/escalation-policy ids) is set. Who an approval request reaches, and who a
 * signed link may still decide for (the approval-callback function).
 */
export function awsOnCall(env: NodeJS.ProcessEnv = process.env): OnCallLookup {
  if (onCallLookup) return onCallLookup;
  const prefix = env.SECRETS_PREFIX ?? 'sre-agent/';
  const rotation = lazyOnCall(() => bundledConfig(env).rotation());
  let oncall: OnCallLookup = rotation;
  if (env.PAGERDUTY_ONCALL_ROLES) {
    try {
      oncall = new PagerDutyOnCall({
        roles: parsePagerDutyRoles(env.PAGERDUTY_ONCALL_ROLES, 'PAGERDUTY_ONCALL_ROLES'),
        apiKey: () => readSecret({ secretId: `${prefix}${NOTIFIER_SECRETS.pagerdutyApiKey}` }, secretsManagerReader(awsSecretsManager())),
        fallback: rotation,
      });
    } catch (err) {
      // A bad mapping must not stop the function: every lookup reports it, and the timeline shows it.
      oncall = { whoIs: () => Promise.reject(err as Error) };
    }
  }
  onCallLookup = oncall;
  return oncall;
}

/**
 * Notifier and on-call lookup ({@link awsOnCall}) of a warm Lambda: SNS topic TOPIC_ARN for
 * e-mail and send_alert's sns channel, PagerDuty and Slack credentials from Secrets Manager.
 */
export function awsNotifying(env: NodeJS.ProcessEnv = process.env): { notifier: Notifier; oncall: OnCallLookup } {
  if (notifying) return notifying;
  const prefix = env.SECRETS_PREFIX ?? 'sre-agent/';
  const secrets: SecretReader = secretsManagerReader(awsSecretsManager());
  const notifier = createNotifier(
    {
      pagerduty: { routingKey: { secretId: `${prefix}${NOTIFIER_SECRETS.pagerdutyRoutingKey}` } },
      slack: { webhookUrl: { secretId: `${prefix}${NOTIFIER_SECRETS.slackWebhookUrl}` } },
      ...(env.TOPIC_ARN ? { sns: { topicArn: env.TOPIC_ARN } } : {}),
      // Inside the shortest core function timeout (15 s) with room for the timeline writes.
      timeoutMs: 3000,
      retryDelayMs: 300,
    },
    { secrets, sns: lazyClient<SNSClient>(async () => new (await import('@aws-sdk/client-sns')).SNSClient({})) },
  );
  const oncall = awsOnCall(env);
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
  signingKey ??= secretsManagerKey(awsSecretsManager(), secretId);
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
    throw new EnvironmentError(`environment variable BREAKER_CONFIG: ${(err as Error).message}`, ['BREAKER_CONFIG'], { cause: err });
  }
}

let sfn: import('@aws-sdk/client-sfn').SFNClient | undefined;

/** SendTaskSuccess / SendTaskFailure, for an approval found decided when its next level asks (the SDK package loaded then). */
function awsTasks(): TaskReleaser {
  const sdk = () => import('@aws-sdk/client-sfn');
  const client = (m: Awaited<ReturnType<typeof sdk>>) => (sfn ??= new m.SFNClient({}));
  return {
    succeed: async (taskToken, output) => {
      const m = await sdk();
      return client(m).send(new m.SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    },
    fail: async (taskToken, error, cause) => {
      const m = await sdk();
      return client(m).send(new m.SendTaskFailureCommand({ taskToken, error, cause: cause.slice(0, 32768) }));
    },
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

/** What a Lambda entry wires beyond the deps every core function shares (so other bundles do not carry it). */
export interface AwsWiring {
  /**
   * Reports and the knowledge base (lib/runtime/aws-reporting.ts `reportingFromEnvironment`): the
   * entries of the functions the stack gives REPORTS_BUCKET (report, execution-ended, reconcile,
   * resolve, investigate). Passed in, not imported here: the stores' code (Orama, the Qdrant client)
   * would otherwise be in every core function's bundle.
   * @default - none; a function with REPORTS_BUCKET then fails its cold start, naming the variable
   */
  readonly reporting?: (env: NodeJS.ProcessEnv) => AwsReporting | undefined;
}

let reporting: { value: AwsReporting | undefined } | undefined;

/** The reports and knowledge base of this warm function, built once; undefined without REPORTS_BUCKET. @throws EnvironmentError */
function awsReporting(env: NodeJS.ProcessEnv, wiring: AwsWiring): AwsReporting | undefined {
  if (env.REPORTS_BUCKET === undefined) return undefined;
  if (!wiring.reporting) throw new EnvironmentError('REPORTS_BUCKET is set but this function\'s entry does not wire reports: pass { reporting: reportingFromEnvironment } (lib/runtime/aws-reporting) to its handler', ['REPORTS_BUCKET']);
  reporting ??= { value: wiring.reporting(env) };
  return reporting.value;
}

export function awsCoreDeps(env: NodeJS.ProcessEnv = process.env, wiring: AwsWiring = {}): CoreDeps {
  const { doc, tables } = awsData(env);
  const config = bundledConfig(env);
  const catalogue = config.catalogue();
  const { notifier, oncall } = awsNotifying(env);
  const stored = awsReporting(env, wiring);
  return {
    doc,
    tables,
    // The report and its s3:// location on the incident; the §5.2 entry of a closed incident.
    ...(stored ? { reports: stored.reports, knowledge: stored.knowledge } : {}),
    playbooks: loadCompiledPlaybooks(),
    policy: config.policy(),
    tasks: awsTasks(),
    undoConfig: env.CONFIG_PARAMETER_PREFIX ? awsConfigUndo(env.CONFIG_PARAMETER_PREFIX) : undefined,
    breakerConfig: awsBreakerConfig(env),
    // Creates its CloudWatch client, loading the SDK package, at the first read.
    metrics: new CloudWatchMetricSource({ catalogue }),
    catalogue,
    now: () => new Date(),
    notifier,
    oncall,
    approvalLinks: awsApprovalLinks(env),
    statusPage: awsStatusPage(env),
  };
}

let statusPage: CoreDeps['statusPage'];

/**
 * The status page of this deployment: the component map bundled with the function (config.json), and
 * Statuspage when SRE_AGENT_STATUSPAGE_PAGE_ID is set (its API key in the secret
 * `<prefix>statuspage-api-key`) or a webhook (SRE_AGENT_STATUS_WEBHOOK_URL).
 */
export function awsStatusPage(env: NodeJS.ProcessEnv = process.env): CoreDeps['statusPage'] {
  if (statusPage) return statusPage;
  const prefix = env.SECRETS_PREFIX ?? 'sre-agent/';
  const components = bundledConfig(env).statusComponents();
  const withSecret = env.SRE_AGENT_STATUSPAGE_PAGE_ID && !env.SRE_AGENT_STATUSPAGE_API_KEY ? { ...env, SRE_AGENT_STATUSPAGE_API_KEY_SECRET: env.SRE_AGENT_STATUSPAGE_API_KEY_SECRET ?? `${prefix}statuspage-api-key` } : env;
  const publisher = statusPublisherFromEnv(withSecret, secretsManagerReader(awsSecretsManager()));
  statusPage = { components, ...(publisher ? { publisher } : {}) };
  return statusPage;
}
