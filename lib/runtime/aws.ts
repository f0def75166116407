/**
 * Wiring for the Lambdas in AWS: clients and table names from the function's environment
 * (validated once per cold start with the schema the CDK constructs write), the same
 * CoreDeps / DispatchDeps the local engine builds.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionTargets } from '../actions/define';
import type { DispatchDeps } from '../actions/dispatch';
import { isStepApproved } from '../approval/store';
import { gate, recordRemediationAttempt, recordRemediationResult } from '../breaker';
import { appendEvent } from '../incident';
import { functionEnvironmentSchema } from '../infra/function-environment';
import { CloudWatchMetricSource } from '../metrics';
import { defaultCatalogue } from '../playbook/catalogue';
import { defaultPolicy } from '../policy/policy';
import type { CoreDeps, CoreTables } from './core';

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

export function awsCoreDeps(env: NodeJS.ProcessEnv = process.env): CoreDeps {
  const { doc, tables } = awsData(env);
  const catalogue = defaultCatalogue();
  return {
    doc,
    tables,
    breakerConfig: {},
    metrics: new CloudWatchMetricSource({ client: new CloudWatchClient({}), catalogue }),
    catalogue,
    now: () => new Date(),
  };
}

/**
 * Real targets reachable from the function. Only those configured by environment exist; the
 * others make their actions fail with TargetNotConfiguredError (never a silent success).
 * TODO(README status): Kubernetes (EKS), ElastiCache/RDS control plane, notifier and ticket adapters.
 */
async function awsTargets(env: NodeJS.ProcessEnv): Promise<ActionTargets> {
  const targets: Record<string, unknown> = {};
  if (env.REDIS_URL) {
    const { default: Redis } = await import('ioredis');
    targets.redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, tls: env.REDIS_URL.startsWith('rediss:') ? {} : undefined });
  }
  if (env.MYSQL_URL) {
    const mysql = await import('mysql2/promise');
    targets.mysql = mysql.createPool({ uri: env.MYSQL_URL, connectionLimit: 2 });
  }
  return targets;
}

let targetsPromise: Promise<ActionTargets> | undefined;

export async function awsDispatchDeps(env: NodeJS.ProcessEnv = process.env): Promise<DispatchDeps> {
  const { doc, tables } = awsData(env);
  targetsPromise ??= awsTargets(env);
  const now = () => new Date();
  return {
    targets: await targetsPromise,
    policy: defaultPolicy(),
    now,
    gate: (service) => gate(doc, tables, {}, now(), { service }),
    approved: (incidentId, step) => isStepApproved(doc, tables, incidentId, step),
    attempt: async (service) => {
      const r = await recordRemediationAttempt(doc, tables, {}, now(), service);
      return { allowed: r.allowed, reason: r.reason };
    },
    succeeded: async (service) => void (await recordRemediationResult(doc, tables, {}, now(), { service, ok: true })),
    record: async (incidentId, e) => void (await appendEvent(doc, tables, incidentId, { at: now(), actor: 'agent', ...e, data: e.data as Record<string, unknown> | undefined })),
  };
}

/** Closes the cached target connections (tests; a Lambda keeps them for the next invocation). */
export async function closeAwsTargets(): Promise<void> {
  const targets = (await targetsPromise) as { redis?: { quit(): Promise<unknown> }; mysql?: { end(): Promise<void> } } | undefined;
  targetsPromise = undefined;
  await targets?.redis?.quit();
  await targets?.mysql?.end();
}
