/**
 * Approval records (DynamoDB, the Approvals table, partition key `pk`): one per (incident, step),
 * holding the task token the execution waits on, the roles that must approve, their decisions and
 * the expiry. The runtime guard reads them: a step that needs approval runs only with an
 * APPROVED record, whatever its invocation payload claims.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ApprovalTables {
  readonly approvals: string;
}

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED';

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
  /** ISO time after which the link no longer works (the step's approval window). */
  readonly expiresAt: string;
  readonly taskToken: string;
  readonly message?: string;
  /** The step's risk (LOW..CRITICAL), shown on the approval page; absent on records written before it was stored. */
  readonly risk?: string;
}

export class ApprovalError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApprovalError';
  }
}

const stepKey = (incidentId: string, step: string) => ({ pk: `STEP#${incidentId}#${step}` });
const idKey = (approvalId: string) => ({ pk: `APPROVAL#${approvalId}` });

export interface NewApproval {
  readonly incidentId: string;
  readonly step: string;
  readonly action: string;
  readonly level: number;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly taskToken: string;
  readonly timeoutSeconds: number;
  readonly message?: string;
  /** @default - not stored (the approval page then says "not recorded") */
  readonly risk?: string;
}

/**
 * Stores a PENDING approval for (incident, step), replacing an earlier PENDING one (a new level
 * after escalation carries a new task token). An APPROVED/REJECTED record is never replaced.
 */
export async function requestApproval(doc: DynamoDBDocumentClient, tables: ApprovalTables, input: NewApproval, now: Date): Promise<ApprovalRecord> {
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
    expiresAt: new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString(),
    taskToken: input.taskToken,
    ...(input.message ? { message: input.message } : {}),
    ...(input.risk ? { risk: input.risk } : {}),
  };
  // The id pointer first: whoever sees the step record (dashboard, findApprovalForStep) can decide
  // it by id at once. A pointer left by a refused put leads nowhere (getApproval checks the id).
  await doc.send(new PutCommand({ TableName: tables.approvals, Item: { ...idKey(record.approvalId), incidentId: input.incidentId, step: input.step, ttl: Math.floor(Date.parse(record.expiresAt) / 1000) + 30 * 86400 } }));
  try {
    await doc.send(new PutCommand({
      TableName: tables.approvals,
      // `ttl` (epoch seconds) lets DynamoDB drop the record 30 days after its window, never sooner.
      Item: { ...stepKey(input.incidentId, input.step), ...record, ttl: Math.floor(Date.parse(record.expiresAt) / 1000) + 30 * 86400 },
      ConditionExpression: 'attribute_not_exists(pk) OR #s = :pending',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':pending': 'PENDING' },
    }));
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new ApprovalError(`step "${input.step}" of ${input.incidentId} was already decided; not asking again`, { cause: err });
    throw err;
  }
  return record;
}

export async function findApprovalForStep(doc: DynamoDBDocumentClient, tables: ApprovalTables, incidentId: string, step: string): Promise<ApprovalRecord | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tables.approvals, Key: stepKey(incidentId, step), ConsistentRead: true }));
  return out.Item as ApprovalRecord | undefined;
}

export async function getApproval(doc: DynamoDBDocumentClient, tables: ApprovalTables, approvalId: string): Promise<ApprovalRecord> {
  const ptr = await doc.send(new GetCommand({ TableName: tables.approvals, Key: idKey(approvalId), ConsistentRead: true }));
  if (!ptr.Item) throw new ApprovalError(`no approval with id ${approvalId}`);
  const rec = await findApprovalForStep(doc, tables, ptr.Item.incidentId as string, ptr.Item.step as string);
  if (!rec || rec.approvalId !== approvalId) throw new ApprovalError(`approval ${approvalId} was superseded by a newer request for step "${ptr.Item.step}" of ${ptr.Item.incidentId}`);
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
 * being PENDING with the same id, unexpired, and the role not yet decided: a replay or a
 * decision on a superseded link changes nothing. Any rejection rejects the step; the step is
 * approved once `minApprovals` distinct roles approved.
 */
export async function decideApproval(
  doc: DynamoDBDocumentClient,
  tables: ApprovalTables,
  approvalId: string,
  decision: Omit<ApprovalDecision, 'at'>,
  now: Date,
): Promise<ApprovalRecord> {
  const rec = await getApproval(doc, tables, approvalId);
  if (rec.status !== 'PENDING') throw new ApprovalError(`approval ${approvalId} is already ${rec.status}`);
  if (Date.parse(rec.expiresAt) <= now.getTime()) throw new ApprovalError(`approval ${approvalId} expired at ${rec.expiresAt}`);
  if (!rec.approvers.includes(decision.role)) throw new ApprovalError(`role "${decision.role}" is not an approver of step "${rec.step}" (approvers: ${rec.approvers.join(', ')})`);
  if (rec.decisions.some((d) => d.role === decision.role)) throw new ApprovalError(`role "${decision.role}" already decided approval ${approvalId}`);
  const decisions = [...rec.decisions, { ...decision, at: now.toISOString() }];
  const approvedRoles = new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.role));
  const status: ApprovalStatus = decision.decision === 'reject' ? 'REJECTED' : approvedRoles.size >= rec.minApprovals ? 'APPROVED' : 'PENDING';
  try {
    const out = await doc.send(new UpdateCommand({
      TableName: tables.approvals,
      Key: stepKey(rec.incidentId, rec.step),
      UpdateExpression: 'SET decisions = :d, #s = :s',
      ConditionExpression: '#s = :pending AND approvalId = :id AND size(decisions) = :n',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':d': decisions, ':s': status, ':pending': 'PENDING', ':id': approvalId, ':n': rec.decisions.length },
      ReturnValues: 'ALL_NEW',
    }));
    return out.Attributes as ApprovalRecord;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new ApprovalError(`approval ${approvalId} changed while deciding; look again`, { cause: err });
    throw err;
  }
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
