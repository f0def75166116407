/**
 * Approval records (DynamoDB, the Approvals table, partition key `pk`): one per (incident, step),
 * with one id through every escalation level. A record holds what it approves (action, a hash of
 * the resolved parameters, the target: its binding), the task token the execution waits on now,
 * the roles that must approve, their decisions and the expiry. The runtime guard reads it: a step
 * that needs approval runs only with an APPROVED record bound to exactly what is invoked.
 *
 * Escalation adds people, never a new id: L3 and L4 store their new task token in the same
 * record. A decision and an escalation cannot lose each other: a decision is written only if the
 * token it read is still current (else it reads again), and a level that finds the record already
 * decided releases its own task at once.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApprovalBinding } from '../policy/binding';
import { decisionRefusal, isClosable, requestOutcome, statusAfter } from './decision';

export interface ApprovalTables {
  readonly approvals: string;
}

/**
 * `EXPIRED`: nobody decided before the last level's window closed. `CANCELLED`: the execution
 * went away (stopped, crashed, resolved by hand) before the step ran; neither is ever usable.
 */
export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';

export interface ApprovalDecision {
  readonly role: string;
  readonly person: string;
  readonly decision: 'approve' | 'reject';
  readonly reason?: string;
  readonly at: string;
}

export interface ApprovalRecord {
  readonly approvalId: string;
  readonly incidentId: string;
  readonly step: string;
  readonly action: string;
  readonly level: number;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly status: ApprovalStatus;
  readonly decisions: readonly ApprovalDecision[];
  readonly createdAt: string;
  /** ISO time after which nobody can decide any more: the end of the last escalation level's window. */
  readonly expiresAt: string;
  /** ISO time the current level's window opened (its state was entered); absent on records written before it was stored. */
  readonly levelOpenedAt?: string;
  /** ISO time the current level's window ends (the next level is paged then). */
  readonly levelExpiresAt?: string;
  /** The task token of the level waiting now (never shown, never mailed). */
  readonly taskToken: string;
  readonly message?: string;
  /** The step's risk (LOW..CRITICAL), shown on the approval page; absent on records written before it was stored. */
  readonly risk?: string;
  /** What is approved: the guard runs the step only on an approval of exactly this. */
  readonly binding?: ApprovalBinding;
  /** The resolved parameters, shown to approvers. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The step's `note` (e.g. "ElastiCache 扩容会有短暂的 failover"). */
  readonly note?: string;
  /**
   * What the investigation found, as approvers read it: the top hypotheses with confidence and
   * evidence, the trend, this step's risk assessment, similar past incidents (lib/analysis).
   */
  readonly analysis?: readonly string[];
  /** The execution waiting on it. */
  readonly executionArn?: string;
  /** When the approved step ran: an approval works once. */
  readonly usedAt?: string;
  /** Why it was cancelled or expired, when it was. */
  readonly closedReason?: string;
}

/** A decision or request the approval records refuse; the message names the approval or step at fault. */
export class ApprovalError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalError';
  }
}

const stepKey = (incidentId: string, step: string) => ({ pk: `STEP#${incidentId}#${step}` });
/** Retry budget of the read-then-write loops; each lap means a concurrent writer got there first. */
const MAX_ATTEMPTS = 5;
const idKey = (approvalId: string) => ({ pk: `APPROVAL#${approvalId}` });

export interface NewApproval {
  readonly incidentId: string;
  readonly step: string;
  readonly action: string;
  readonly level: number;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly taskToken: string;
  /** How long this level waits. */
  readonly timeoutSeconds: number;
  /** When this level's window opened (its state was entered). @default the request's `now` */
  readonly windowOpenedAt?: Date;
  /** How long the approval can last in all (this level's window and every later one's). */
  readonly totalSeconds: number;
  readonly message?: string;
  /** @default - not stored (the approval page then says "not recorded") */
  readonly risk?: string;
  readonly binding: ApprovalBinding;
  readonly params: Readonly<Record<string, unknown>>;
  readonly note?: string;
  /** The investigation's lines for approvers (see ApprovalRecord.analysis). */
  readonly analysis?: readonly string[];
  readonly executionArn?: string;
}

/**
 * Asks for approval of (incident, step) at a level. The first level creates the record (PENDING,
 * a new id); a later level keeps its id, binding and decisions and stores the new level and task
 * token. Returns the record: when it is no longer PENDING (decided while the approval escalated),
 * the caller releases the new task at once (APPROVED → success, REJECTED → failure).
 *
 * @throws ApprovalError when the record binds something else, or was cancelled or expired
 */
export async function requestApproval(doc: DynamoDBDocumentClient, tables: ApprovalTables, input: NewApproval, now: Date): Promise<ApprovalRecord> {
  const opened = input.windowOpenedAt ?? now;
  const levelOpenedAt = opened.toISOString();
  const levelExpiresAt = new Date(opened.getTime() + input.timeoutSeconds * 1000).toISOString();
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const existing = await findApprovalForStep(doc, tables, input.incidentId, input.step);
    if (!existing) {
      const record: ApprovalRecord = {
        approvalId: randomUUID(),
        incidentId: input.incidentId,
        step: input.step,
        action: input.action,
        level: input.level,
        approvers: input.approvers,
        minApprovals: input.minApprovals,
        status: 'PENDING',
        decisions: [],
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + Math.max(input.totalSeconds, input.timeoutSeconds) * 1000).toISOString(),
        levelOpenedAt,
        levelExpiresAt,
        taskToken: input.taskToken,
        binding: input.binding,
        params: input.params,
        ...(input.message ? { message: input.message } : {}),
        ...(input.risk ? { risk: input.risk } : {}),
        ...(input.note ? { note: input.note } : {}),
        ...(input.analysis && input.analysis.length > 0 ? { analysis: [...input.analysis] } : {}),
        ...(input.executionArn ? { executionArn: input.executionArn } : {}),
      };
      const ttl = Math.floor(Date.parse(record.expiresAt) / 1000) + 30 * 86400;
      // The id pointer first: whoever sees the step record (dashboard, findApprovalForStep) can decide
      // it by id at once. A pointer left by a refused put leads nowhere (getApproval checks the id).
      await doc.send(new PutCommand({ TableName: tables.approvals, Item: { ...idKey(record.approvalId), incidentId: input.incidentId, step: input.step, ttl } }));
      try {
        // `ttl` (epoch seconds) lets DynamoDB drop the record 30 days after its window, never sooner.
        await doc.send(new PutCommand({ TableName: tables.approvals, Item: { ...stepKey(input.incidentId, input.step), ...record, ttl }, ConditionExpression: 'attribute_not_exists(pk)' }));
        return record;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) continue; // another level's request got there first: read it
        throw err;
      }
    }
    const outcome = requestOutcome(existing, input);
    if (outcome.kind === 'refuse') throw new ApprovalError(outcome.reason);
    if (outcome.kind === 'return') return existing;
    try {
      const out = await doc.send(new UpdateCommand({
        TableName: tables.approvals,
        Key: stepKey(input.incidentId, input.step),
        UpdateExpression: 'SET #level = :level, taskToken = :token, levelOpenedAt = :levelStart, levelExpiresAt = :levelEnd',
        ConditionExpression: '#s = :pending AND approvalId = :id',
        ExpressionAttributeNames: { '#s': 'status', '#level': 'level' },
        ExpressionAttributeValues: { ':level': input.level, ':token': input.taskToken, ':levelStart': levelOpenedAt, ':levelEnd': levelExpiresAt, ':pending': 'PENDING', ':id': existing.approvalId },
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes as ApprovalRecord;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Decided meanwhile: read it again and hand it back (the caller releases the task).
    }
  }
  throw new ApprovalError(`approval for step "${input.step}" of ${input.incidentId} kept changing while it was requested; retry`);
}

export async function findApprovalForStep(doc: DynamoDBDocumentClient, tables: ApprovalTables, incidentId: string, step: string): Promise<ApprovalRecord | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tables.approvals, Key: stepKey(incidentId, step), ConsistentRead: true }));
  return out.Item as ApprovalRecord | undefined;
}

export async function getApproval(doc: DynamoDBDocumentClient, tables: ApprovalTables, approvalId: string): Promise<ApprovalRecord> {
  const ptr = await doc.send(new GetCommand({ TableName: tables.approvals, Key: idKey(approvalId), ConsistentRead: true }));
  if (!ptr.Item) throw new ApprovalError(`no approval with id ${approvalId}`);
  const rec = await findApprovalForStep(doc, tables, ptr.Item.incidentId as string, ptr.Item.step as string);
  if (!rec || rec.approvalId !== approvalId) throw new ApprovalError(`approval ${approvalId} is not the approval of step "${ptr.Item.step}" of ${ptr.Item.incidentId}`);
  return rec;
}

/**
 * Where an approval id points, without throwing: its incident and step, and the record that is
 * current for that step (which is a different one when the id was superseded). Undefined for an
 * id that never existed. The approval page uses it to tell "unknown" from "superseded" and to
 * record refusals on the right incident.
 */
export async function locateApproval(
  doc: DynamoDBDocumentClient,
  tables: ApprovalTables,
  approvalId: string,
): Promise<{ readonly incidentId: string; readonly step: string; readonly current?: ApprovalRecord } | undefined> {
  const ptr = await doc.send(new GetCommand({ TableName: tables.approvals, Key: idKey(approvalId), ConsistentRead: true }));
  if (!ptr.Item) return undefined;
  const incidentId = String(ptr.Item.incidentId);
  const step = String(ptr.Item.step);
  const current = await findApprovalForStep(doc, tables, incidentId, step);
  return { incidentId, step, ...(current ? { current } : {}) };
}

/** True when (incident, step) has an APPROVED record: what the runtime guard asks. */
export async function isStepApproved(doc: DynamoDBDocumentClient, tables: ApprovalTables, incidentId: string, step: string): Promise<boolean> {
  return (await findApprovalForStep(doc, tables, incidentId, step))?.status === 'APPROVED';
}

/**
 * Records one person's decision for one of the listed roles. Conditional on the record still
 * being PENDING with the same id, the same decisions and the same task token, unexpired, the
 * role not yet decided and, for an approval, the person not having approved in another role: a
 * replay changes nothing, and a decision racing an escalation is written against the token that
 * is current (it reads again when a level stored a new one). Any rejection rejects the step; the
 * step is approved once `minApprovals` distinct roles, held by distinct people, approved.
 */
export async function decideApproval(
  doc: DynamoDBDocumentClient,
  tables: ApprovalTables,
  approvalId: string,
  decision: Omit<ApprovalDecision, 'at'>,
  now: Date,
): Promise<ApprovalRecord> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const rec = await getApproval(doc, tables, approvalId);
    const refusal = decisionRefusal(rec, decision, now);
    if (refusal) throw new ApprovalError(refusal);
    const decisions = [...rec.decisions, { ...decision, at: now.toISOString() }];
    const status: ApprovalStatus = statusAfter(rec, decisions);
    try {
      const out = await doc.send(new UpdateCommand({
        TableName: tables.approvals,
        Key: stepKey(rec.incidentId, rec.step),
        UpdateExpression: 'SET decisions = :d, #s = :s',
        ConditionExpression: '#s = :pending AND approvalId = :id AND size(decisions) = :n AND taskToken = :token',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':d': decisions, ':s': status, ':pending': 'PENDING', ':id': approvalId, ':n': rec.decisions.length, ':token': rec.taskToken },
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes as ApprovalRecord;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Another decision, or a new level's token, landed between our read and our write: read again.
    }
  }
  throw new ApprovalError(`approval ${approvalId} changed while deciding; look again`);
}

/** Marks an approved step's approval as used (it ran): it never serves another invocation. */
export async function markApprovalUsed(doc: DynamoDBDocumentClient, tables: ApprovalTables, incidentId: string, step: string, now: Date): Promise<void> {
  try {
    await doc.send(new UpdateCommand({
      TableName: tables.approvals,
      Key: stepKey(incidentId, step),
      UpdateExpression: 'SET usedAt = :at',
      ConditionExpression: '#s = :approved AND attribute_not_exists(usedAt)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':at': now.toISOString(), ':approved': 'APPROVED' },
    }));
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

/**
 * Closes the approvals of an incident whose execution has gone: PENDING ones, and APPROVED ones
 * whose step never ran, become `status` (CANCELLED or EXPIRED) with the reason. Decisions stay
 * on the record. Returns the records closed.
 *
 * @param steps the steps to look at (the compiled playbook's); @default every record of the incident (a Scan)
 */
export async function closeApprovals(
  doc: DynamoDBDocumentClient,
  tables: ApprovalTables,
  incidentId: string,
  status: 'CANCELLED' | 'EXPIRED',
  reason: string,
  now: Date,
  steps?: readonly string[],
): Promise<ApprovalRecord[]> {
  const records = steps
    ? (await Promise.all(steps.map((step) => findApprovalForStep(doc, tables, incidentId, step)))).filter((r): r is ApprovalRecord => r !== undefined)
    : (await listApprovals(doc, tables)).filter((r) => r.incidentId === incidentId);
  const closed: ApprovalRecord[] = [];
  for (const rec of records) {
    if (!isClosable(rec)) continue;
    try {
      const out = await doc.send(new UpdateCommand({
        TableName: tables.approvals,
        Key: stepKey(incidentId, rec.step),
        UpdateExpression: 'SET #s = :to, closedReason = :why, closedAt = :at',
        ConditionExpression: '(#s = :pending) OR (#s = :approved AND attribute_not_exists(usedAt))',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':to': status, ':why': reason, ':at': now.toISOString(), ':pending': 'PENDING', ':approved': 'APPROVED' },
        ReturnValues: 'ALL_NEW',
      }));
      closed.push(out.Attributes as ApprovalRecord);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
  return closed;
}

/** Approvals by status (a Scan: fine for the local engine's small table; AWS would use an index). */
export async function listApprovals(doc: DynamoDBDocumentClient, tables: ApprovalTables, status?: ApprovalStatus): Promise<ApprovalRecord[]> {
  const items: ApprovalRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tables.approvals, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of out.Items ?? []) if (String(item.pk).startsWith('STEP#') && (!status || item.status === status)) items.push(item as ApprovalRecord);
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
