/**
 * The environment every sre-agent Lambda gets, as one zod schema: the CDK constructs build a
 * value of this type (a missing variable fails `tsc`), handlers parse `process.env` with it at
 * cold start. No CDK import here, so handlers can import it without pulling aws-cdk-lib in.
 */
import * as z from '../yaml/zod';
import { baselineTargetSchema } from '../metrics/baseline-target';

/** Secrets the actions may read (ticketing and chat credentials) live under this name prefix. */
export const SECRET_NAME_PREFIX = 'sre-agent/';

/** A string parsed as JSON; text that is not JSON is one issue, `is not JSON`. */
const json = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'is not JSON', input: text });
      return z.NEVER;
    }
  }),
);
const jsonRecord = z.pipe(json, z.record(z.string(), z.unknown()));
const nonEmpty = z.string().check(z.minLength(1));
/** A Parameter Store path prefix (`/sre-agent/config/`). */
const parameterPrefix = z.string().check(z.regex(/^\/[A-Za-z0-9_.\-/]+$/));

/** Variables shared by core and action functions. */
export const functionEnvironmentSchema = z.object({
  INCIDENTS_TABLE: nonEmpty,
  BREAKERS_TABLE: nonEmpty,
  APPROVALS_TABLE: nonEmpty,
  DEDUPE_TABLE: nonEmpty,
  /** SNS topic for approval requests, escalations and alerts. */
  TOPIC_ARN: nonEmpty,
  SECRETS_PREFIX: nonEmpty,
  /** Set when cdk.json names the EKS cluster. */
  EKS_CLUSTER_NAME: z.optional(nonEmpty),
  POWERTOOLS_SERVICE_NAME: nonEmpty,
  /** JSON: breaker thresholds from cdk.json (`sre-agent:config` → `breakers`); unset: the defaults. */
  BREAKER_CONFIG: z.optional(jsonRecord),
});

const onOff = z.enum(['on', 'off']);
/** A URL that must not carry credentials: passwords come from Secrets Manager, never the environment. */
const urlWithoutCredentials = z.string().check(
  z.refine((u) => {
    try {
      const url = new URL(u);
      return url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'a URL without user or password (credentials come from Secrets Manager)'),
);

/**
 * The variables each target of an action reads (lib/runtime/targets/<name>.ts), by target name: an
 * action's function gets those of the targets its definition `uses`, set by the stack from
 * `sre-agent:config` → `targets`. Credentials are never here: RDS_SECRET_ID names the secret.
 */
export const TARGET_ENVIRONMENT = {
  redis: z.object({
    /** `rediss://<primary endpoint>:6379` of the ElastiCache group (in-VPC; no password in the URL). */
    REDIS_URL: z.optional(urlWithoutCredentials),
    /** `on`: the URL is a cluster-mode configuration endpoint; every master is acted on. */
    REDIS_CLUSTER: z.optional(onOff),
  }),
  mysql: z.object({
    /** Only for local runs; in AWS use RDS_SECRET_ID. */
    MYSQL_URL: z.optional(urlWithoutCredentials),
    /** Secrets Manager secret (name or ARN) with the database user (both RDS secret formats). */
    RDS_SECRET_ID: z.optional(nonEmpty),
    /** `host:port` when the secret has no host. */
    RDS_ENDPOINT: z.optional(z.string().check(z.regex(/^[A-Za-z0-9.-]+:\d+$/))),
  }),
  rds: z.object({ RDS_INSTANCE_ID: z.optional(nonEmpty) }),
  elasticache: z.object({ ELASTICACHE_REPLICATION_GROUP: z.optional(nonEmpty) }),
  kafka: z.object({
    KAFKA_BROKERS: z.optional(nonEmpty),
    MSK_IAM_REGION: z.optional(nonEmpty),
    KAFKA_CONSUMER_GROUP: z.optional(nonEmpty),
    MSK_CLUSTER_NAME: z.optional(nonEmpty),
    KAFKA_TOPIC: z.optional(nonEmpty),
  }),
  kube: z.object({ EKS_CLUSTER_NAME: z.optional(nonEmpty) }),
  config: z.object({ CONFIG_PARAMETER_PREFIX: z.optional(parameterPrefix) }),
  http: z.object({ ADMIN_HTTP: z.optional(onOff) }),
  certificates: z.object({ CHECK_ACM: z.optional(onOff), CHECK_IAM_KEYS: z.optional(onOff), TLS_DOMAINS: z.optional(nonEmpty), EKS_CLUSTER_NAME: z.optional(nonEmpty) }),
  tickets: z.object({ JIRA_BASE_URL: z.optional(z.url()), JIRA_PROJECT: z.optional(nonEmpty), TICKET_WEBHOOK_URL: z.optional(z.url()) }),
  notify: z.object({}),
} as const;
export type TargetEnvironmentName = keyof typeof TARGET_ENVIRONMENT;

/** The environment of an action's function: the shared variables and those of the targets it uses. */
export function actionEnvironmentSchema(uses: readonly TargetEnvironmentName[]) {
  let schema = z.extend(functionEnvironmentSchema, { CONFIG_PARAMETER_PREFIX: TARGET_ENVIRONMENT.config.shape.CONFIG_PARAMETER_PREFIX });
  for (const t of uses) schema = z.extend(schema, TARGET_ENVIRONMENT[t].shape);
  return schema;
}
/** What the stack writes for the targets of one action (raw strings). */
export type TargetEnvironment = Partial<Record<string, string>>;

/** Core functions also get the service → owner map; the trigger also gets playbook → state machine ARN. */
export const coreFunctionEnvironmentSchema = z.extend(functionEnvironmentSchema, {
  /** JSON: `{ "<service>": { "owner": "<team>" } }`. */
  SERVICES: jsonRecord,
  /** JSON: `{ "<playbook>": "<state machine ARN>" }`; set on the trigger function only. */
  STATE_MACHINES: z.optional(jsonRecord),
  /** JSON: role → PagerDuty schedule / escalation-policy ids for the on-call lookup (the API key is the secret `<prefix>pagerduty-api-key`). */
  PAGERDUTY_ONCALL_ROLES: z.optional(z.string().check(z.minLength(2))),
  /** Parameter Store prefix of the config actions, for the undo on resolve. */
  CONFIG_PARAMETER_PREFIX: z.optional(parameterPrefix),
  /** Atlassian Statuspage page id for approved public notices (the API key is the secret `<prefix>statuspage-api-key`). */
  SRE_AGENT_STATUSPAGE_PAGE_ID: z.optional(z.string().check(z.regex(/^[a-z0-9]{6,32}$/))),
  /** A webhook that receives approved public notices as JSON (instead of Statuspage). */
  SRE_AGENT_STATUS_WEBHOOK_URL: z.optional(z.url({ protocol: /^https$/ })),
});

/** An S3 bucket name (the rules of S3's general purpose buckets). */
const bucketName = z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'));

/**
 * Where §5.1 reports and the §5.2 knowledge base live in AWS: set on the functions that write
 * reports (report, execution-ended, reconcile, resolve) and on the investigation, which searches
 * the knowledge base. Without Qdrant the knowledge base is `knowledge/entries.json` in the same
 * bucket; with Qdrant its API key is a Secrets Manager secret, never a variable.
 */
export const reportsEnvironmentSchema = z.object({
  /** The reports bucket: `reports/<id>.json` and `.md`, and `knowledge/entries.json` without Qdrant. */
  REPORTS_BUCKET: bucketName,
  /** Qdrant's URL (collection `sre_knowledge`), without credentials. @default - the embedded store in the bucket */
  KNOWLEDGE_QDRANT_URL: z.optional(urlWithoutCredentials),
  /** Secrets Manager secret (name or ARN) holding Qdrant's API key. @default - no api-key header */
  KNOWLEDGE_QDRANT_API_KEY_SECRET: z.optional(nonEmpty),
  /** Bedrock model that embeds entries and queries for Qdrant (Titan Text Embeddings V2). */
  KNOWLEDGE_BEDROCK_MODEL_ID: z.optional(z.string().check(z.regex(/^[a-z0-9-]+\.[A-Za-z0-9.:-]+$/, 'a Bedrock foundation model id such as amazon.titan-embed-text-v2:0'))),
}).check(
  z.refine((e) => (e.KNOWLEDGE_QDRANT_URL === undefined) === (e.KNOWLEDGE_BEDROCK_MODEL_ID === undefined), { message: 'Qdrant needs a Bedrock embedding model, and the model is only used with Qdrant: set both or neither', path: ['KNOWLEDGE_QDRANT_URL'] }),
  z.refine((e) => e.KNOWLEDGE_QDRANT_API_KEY_SECRET === undefined || e.KNOWLEDGE_QDRANT_URL !== undefined, { message: 'a Qdrant API key secret without KNOWLEDGE_QDRANT_URL', path: ['KNOWLEDGE_QDRANT_API_KEY_SECRET'] }),
);
export type ReportsEnvironment = z.input<typeof reportsEnvironmentSchema>;

/** A Bedrock foundation model id (`<provider>.<model>`), never an ARN: InvokeModel is granted on that one model. */
export const bedrockModelIdSchema = z.string().check(z.regex(/^[a-z0-9-]+\.[A-Za-z0-9.:-]+$/, 'a Bedrock foundation model id such as anthropic.claude-3-haiku-20240307-v1:0'));

/**
 * The investigate function's optional LLM summary (issue 13): the Bedrock text model it asks
 * (Converse), set by the stack from `investigation.summaryModelId`, on that function only.
 */
export const investigationSummaryEnvironmentSchema = z.object({
  /** @default - no LLM summary */
  INVESTIGATION_SUMMARY_MODEL_ID: z.optional(bedrockModelIdSchema),
});
export type InvestigationSummaryEnvironment = z.input<typeof investigationSummaryEnvironmentSchema>;

/** The approval callback also reads the key that signs approval links. */
export const approvalCallbackEnvironmentSchema = z.extend(coreFunctionEnvironmentSchema, {
  /** ARN of the Secrets Manager secret holding the HMAC key of approval links. */
  SIGNING_SECRET_ID: nonEmpty,
});

/** The approval request signs the links it sends, and needs where they point. */
export const approvalRequestEnvironmentSchema = z.extend(coreFunctionEnvironmentSchema, {
  SIGNING_SECRET_ID: nonEmpty,
  /** Base URL of the approval pages (the HTTP API's URL); links are `<base>/approvals/<id>?...`. */
  APPROVAL_BASE_URL: z.url(),
});

/** The baseline function (lib/infra/detection-alarms.ts): which baselines to publish. */
export const baselineEnvironmentSchema = z.object({
  /** JSON: the BaselineTarget list (lib/metrics/baseline.ts). */
  BASELINES: z.pipe(json, z.array(baselineTargetSchema)),
  POWERTOOLS_SERVICE_NAME: nonEmpty,
});
export type BaselineFunctionEnvironment = z.input<typeof baselineEnvironmentSchema>;

/** What the constructs write (raw strings, before parsing). */
export type FunctionEnvironment = z.input<typeof functionEnvironmentSchema>;
export type CoreFunctionEnvironment = z.input<typeof coreFunctionEnvironmentSchema>;
/** The variables the approval pages add to the approval-callback and approval-request functions. */
export type ApprovalLinkEnvironment = Pick<z.input<typeof approvalRequestEnvironmentSchema>, 'SIGNING_SECRET_ID' | 'APPROVAL_BASE_URL'>;
