/**
 * Step records: what each playbook step of an incident did, stored beside the incident
 * (`pk=INC-…`, `sk=STEP#<step>`). The action dispatcher claims a step before it acts and records
 * how it ended, so that
 * - a step that succeeded never runs twice: a replayed or redelivered invocation gets the stored
 *   result back (a retried "double" doubles once);
 * - two invocations of one step cannot run at once: the second finds it claimed;
 * - only a transient failure (which the state machine retries) lets the step be claimed again;
 *   a failed or crashed attempt stays as it is;
 * - later steps resolve their `{{templates}}` from outputs stored here, not from what a payload says.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IncidentError, IncidentNotFoundError } from './errors';
import type { Incident, IncidentTables } from './model';

/** How far a step got. `retryable`: failed transiently, may be claimed again; `failed`: never again. */
export type StepState = 'running' | 'done' | 'retryable' | 'failed';

export interface StepRecord {
  readonly incidentId: string;
  readonly step: string;
  readonly state: StepState;
  /** Attempts claimed so far. */
  readonly attempt: number;
  /** Id of the current claim: only its holder may finish the step or record memory. */
  readonly claimId: string;
  readonly action: string;
  readonly executionArn?: string;
  readonly claimedAt: string;
  /** Values the first attempt read (`ActionContext.remember`), kept across attempts. */
  readonly memory: Readonly<Record<string, unknown>>;
  readonly summary?: string;
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly finishedAt?: string;
  readonly error?: { readonly name: string; readonly message: string };
}

/** An incident with the records of its steps, as one Query reads them. */
export interface IncidentWithSteps {
  readonly incident: Incident;
  readonly steps: Readonly<Record<string, StepRecord>>;
}

const STEP_PREFIX = 'STEP#';
const stepKey = (incidentId: string, step: string) => ({ pk: incidentId, sk: `${STEP_PREFIX}${step}` });

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');
}

function toRecord(item: Record<string, unknown>): StepRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return { memory: {}, ...rest } as unknown as StepRecord;
}

/**
 * The incident and all its step records in one consistent Query (`INCIDENT` sorts before
 * `STEP#`, timeline events before both). Undefined when there is no such incident.
 */
export async function readIncidentWithSteps(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string): Promise<IncidentWithSteps | undefined> {
  let incident: Incident | undefined;
  const steps: Record<string, StepRecord> = {};
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new QueryCommand({
      TableName: tables.incidents,
      KeyConditionExpression: 'pk = :id AND sk BETWEEN :incident AND :steps',
      ExpressionAttributeValues: { ':id': incidentId, ':incident': 'INCIDENT', ':steps': `${STEP_PREFIX}\uffff` },
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }));
    for (const item of out.Items ?? []) {
      if (item.sk === 'INCIDENT') {
        const { pk: _pk, sk: _sk, eventSeq: _e, openKey: _o, startSeq: _s, executionRecorded: _r, ...rest } = item;
        incident = rest as unknown as Incident;
      } else if (String(item.sk).startsWith(STEP_PREFIX)) {
        const r = toRecord(item);
        steps[r.step] = r;
      }
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return incident ? { incident, steps } : undefined;
}

/** What `claimStep` found. */
export type ClaimResult = { readonly claimed: true; readonly record: StepRecord } | { readonly claimed: false; readonly record: StepRecord };

/**
 * Claims a step for one attempt: succeeds when the step has no record yet, or its last attempt
 * failed transiently. Otherwise returns the record that holds it (running, done or failed).
 * @throws IncidentNotFoundError when the incident does not exist
 */
export async function claimStep(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  input: { readonly incidentId: string; readonly step: string; readonly action: string; readonly executionArn?: string; readonly now: Date },
): Promise<ClaimResult> {
  const claimId = randomUUID();
  try {
    const out = await doc.send(new UpdateCommand({
      TableName: tables.incidents,
      Key: stepKey(input.incidentId, input.step),
      UpdateExpression: 'SET #state = :running, claimId = :claim, incidentId = :inc, step = :step, #action = :action, claimedAt = :at, attempt = if_not_exists(attempt, :zero) + :one, memory = if_not_exists(memory, :empty)' + (input.executionArn ? ', executionArn = :exec' : '') + ' REMOVE #error',
      ConditionExpression: 'attribute_not_exists(pk) OR #state = :retryable',
      ExpressionAttributeNames: { '#state': 'state', '#action': 'action', '#error': 'error' },
      ExpressionAttributeValues: {
        ':running': 'running', ':retryable': 'retryable', ':claim': claimId, ':inc': input.incidentId, ':step': input.step, ':action': input.action,
        ':at': input.now.toISOString(), ':zero': 0, ':one': 1, ':empty': {}, ...(input.executionArn ? { ':exec': input.executionArn } : {}),
      },
      ReturnValues: 'ALL_NEW',
    }));
    return { claimed: true, record: toRecord(out.Attributes ?? {}) };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const found = await readIncidentWithSteps(doc, tables, input.incidentId);
  if (!found) throw new IncidentNotFoundError(input.incidentId);
  const record = found.steps[input.step];
  if (!record) throw new IncidentError(`step ${input.step} of ${input.incidentId}: claim refused but no record found`, { incidentId: input.incidentId });
  return { claimed: false, record };
}

/**
 * Records `value` under `key` for the step unless its first attempt already did; returns the
 * value kept (the first attempt's). Only the holder of the current claim may write.
 */
export async function rememberStepValue<T>(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, step: string, claimId: string, key: string, value: T): Promise<T> {
  const out = await doc.send(new UpdateCommand({
    TableName: tables.incidents,
    Key: stepKey(incidentId, step),
    UpdateExpression: 'SET memory.#k = if_not_exists(memory.#k, :v)',
    ConditionExpression: 'claimId = :claim',
    ExpressionAttributeNames: { '#k': key },
    ExpressionAttributeValues: { ':v': value, ':claim': claimId },
    ReturnValues: 'ALL_NEW',
  }));
  return (out.Attributes?.memory as Record<string, unknown> | undefined)?.[key] as T;
}

/** How an attempt ended. */
export type StepOutcome =
  | { readonly state: 'done'; readonly summary: string; readonly outputs: Readonly<Record<string, unknown>> }
  | { readonly state: 'retryable' | 'failed'; readonly error: { readonly name: string; readonly message: string } };

/**
 * Ends the current claim. Conditional on holding it: a claim taken over meanwhile is left alone.
 * @returns false when the claim was no longer held
 */
export async function finishStep(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, step: string, claimId: string, outcome: StepOutcome, now: Date): Promise<boolean> {
  const values: Record<string, unknown> = { ':state': outcome.state, ':claim': claimId, ':running': 'running', ':at': now.toISOString() };
  const sets = ['#state = :state', 'finishedAt = :at'];
  if (outcome.state === 'done') {
    sets.push('summary = :summary', 'outputs = :outputs');
    values[':summary'] = outcome.summary;
    values[':outputs'] = outcome.outputs;
  } else {
    sets.push('#error = :error');
    values[':error'] = { name: outcome.error.name, message: outcome.error.message.slice(0, 2000) };
  }
  try {
    await doc.send(new UpdateCommand({
      TableName: tables.incidents,
      Key: stepKey(incidentId, step),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'claimId = :claim AND #state = :running',
      ExpressionAttributeNames: { '#state': 'state', ...(outcome.state === 'done' ? {} : { '#error': 'error' }) },
      ExpressionAttributeValues: values,
    }));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
