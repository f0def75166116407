/**
 * The environment every sre-agent Lambda gets, as one zod schema: the CDK constructs build a
 * value of this type (a missing variable fails `tsc`), handlers parse `process.env` with it at
 * cold start. No CDK import here, so handlers can import it without pulling aws-cdk-lib in.
 */
import { z } from 'zod';
import { baselineTargetSchema } from '../metrics/baseline-target';

/** Secrets the actions may read (ticketing and chat credentials) live under this name prefix. */
export const SECRET_NAME_PREFIX = 'sre-agent/';

const jsonRecord = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.unknown()));

/** Variables shared by core and action functions. */
export const functionEnvironmentSchema = z.object({
  INCIDENTS_TABLE: z.string().min(1),
  BREAKERS_TABLE: z.string().min(1),
  APPROVALS_TABLE: z.string().min(1),
  DEDUPE_TABLE: z.string().min(1),
  /** SNS topic for approval requests, escalations and alerts. */
  TOPIC_ARN: z.string().min(1),
  SECRETS_PREFIX: z.string().min(1),
  /** Set when cdk.json names the EKS cluster. */
  EKS_CLUSTER_NAME: z.string().min(1).optional(),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
  /** JSON: breaker thresholds from cdk.json (`sre-agent:config` → `breakers`); unset: the defaults. */
  BREAKER_CONFIG: jsonRecord.optional(),
});

/** Core functions also get the service → owner map; the trigger also gets playbook → state machine ARN. */
export const coreFunctionEnvironmentSchema = functionEnvironmentSchema.extend({
  /** JSON: `{ "<service>": { "owner": "<team>" } }`. */
  SERVICES: jsonRecord,
  /** JSON: `{ "<playbook>": "<state machine ARN>" }`; set on the trigger function only. */
  STATE_MACHINES: jsonRecord.optional(),
});

/** The approval callback also reads the key that signs approval links. */
export const approvalCallbackEnvironmentSchema = coreFunctionEnvironmentSchema.extend({
  /** ARN of the Secrets Manager secret holding the HMAC key of approval links. */
  SIGNING_SECRET_ID: z.string().min(1),
});

/** The approval request signs the links it sends, and needs where they point. */
export const approvalRequestEnvironmentSchema = coreFunctionEnvironmentSchema.extend({
  SIGNING_SECRET_ID: z.string().min(1),
  /** Base URL of the approval pages (the HTTP API's URL); links are `<base>/approvals/<id>?...`. */
  APPROVAL_BASE_URL: z.url(),
});

/** The baseline function (lib/infra/detection-alarms.ts): which baselines to publish. */
export const baselineEnvironmentSchema = z.object({
  /** JSON: the BaselineTarget list (lib/metrics/baseline.ts). */
  BASELINES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not JSON' });
        return z.NEVER;
      }
    })
    .pipe(z.array(baselineTargetSchema)),
  POWERTOOLS_SERVICE_NAME: z.string().min(1),
});
export type BaselineFunctionEnvironment = z.input<typeof baselineEnvironmentSchema>;

/** What the constructs write (raw strings, before parsing). */
export type FunctionEnvironment = z.input<typeof functionEnvironmentSchema>;
export type CoreFunctionEnvironment = z.input<typeof coreFunctionEnvironmentSchema>;
/** The variables the approval pages add to the approval-callback and approval-request functions. */
export type ApprovalLinkEnvironment = Pick<z.input<typeof approvalRequestEnvironmentSchema>, 'SIGNING_SECRET_ID' | 'APPROVAL_BASE_URL'>;
