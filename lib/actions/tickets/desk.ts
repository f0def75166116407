/**
 * TicketOps with duplicates prevented: every ticket the agent opens is recorded in the incidents
 * table (`TICKET#<dedupe key>`, claimed with a conditional write before the ticket system is
 * called), so one incident and subject, or one expiring certificate across daily runs, gets one
 * open ticket. The ticket itself goes to Jira Cloud or a webhook when one is configured; without
 * one, the record is the ticket, kept with the incident and listed by `sre-agent tickets`.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ActionError, TargetNotFoundError, TransientTargetError } from '../errors';
import type { TicketOps, TicketRequest } from '../ports';

/** A ticket system the desk hands tickets to. */
export interface TicketBackend {
  readonly name: string;
  open(ticket: TicketRequest): Promise<{ id: string; url?: string }>;
  /** False when the ticket was closed in the ticket system (a new one may then be opened). */
  isOpen?(id: string): Promise<boolean>;
}

/** A ticket as the desk records it. */
export interface TicketRecord {
  readonly id: string;
  readonly url?: string;
  readonly status: 'PENDING' | 'OPEN' | 'CLOSED';
  readonly dedupeKey: string;
  readonly incidentId: string;
  readonly title: string;
  readonly priority: string;
  readonly description?: string;
  readonly assignee?: string;
  readonly backend: string;
  readonly createdAt: string;
}

export interface TicketDeskOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The incidents table. */
  readonly table: string;
  /** @default - none: the record is the ticket */
  readonly backend?: TicketBackend;
  now?(): Date;
}

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

/** `TKT-` and 10 hex digits of the dedupe key and opening time (a retry finds the claimed record, so it never makes a second id). */
export function localTicketId(dedupeKey: string, openedAt: string): string {
  return `TKT-${createHash('sha256').update(`${dedupeKey}\n${openedAt}`).digest('hex').slice(0, 10).toUpperCase()}`;
}

export class TicketDesk implements TicketOps {
  public readonly name: string;

  public constructor(private readonly options: TicketDeskOptions) {
    this.name = options.backend?.name ?? 'tickets kept with the incident';
  }

  private key(dedupeKey: string) {
    return { pk: `TICKET#${dedupeKey}`, sk: 'TICKET' };
  }

  public async create(ticket: TicketRequest): Promise<{ id: string; url?: string; created: boolean }> {
    const { doc, table, backend } = this.options;
    const now = (this.options.now?.() ?? new Date()).toISOString();
    const pending: TicketRecord = {
      id: backend ? 'pending' : localTicketId(ticket.dedupeKey, now),
      status: backend ? 'PENDING' : 'OPEN',
      dedupeKey: ticket.dedupeKey,
      incidentId: ticket.incidentId,
      title: ticket.title,
      priority: ticket.priority,
      ...(ticket.description !== undefined ? { description: ticket.description } : {}),
      ...(ticket.assignee !== undefined ? { assignee: ticket.assignee } : {}),
      backend: this.name,
      createdAt: now,
    };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await doc.send(new PutCommand({ TableName: table, Item: { ...this.key(ticket.dedupeKey), ...pending }, ConditionExpression: 'attribute_not_exists(pk) OR #s = :closed', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':closed': 'CLOSED' } }));
        break;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const existing = (await doc.send(new GetCommand({ TableName: table, Key: this.key(ticket.dedupeKey), ConsistentRead: true }))).Item as TicketRecord | undefined;
      if (existing?.status === 'PENDING') throw new TransientTargetError(`ticket "${ticket.dedupeKey}" is being opened by another invocation`, { target: ticket.dedupeKey });
      if (existing && (attempt > 0 || !backend?.isOpen || (await backend.isOpen(existing.id)))) return { id: existing.id, ...(existing.url ? { url: existing.url } : {}), created: false };
      // Closed in the ticket system since: mark it so, then claim again.
      if (existing) await doc.send(new UpdateCommand({ TableName: table, Key: this.key(ticket.dedupeKey), UpdateExpression: 'SET #s = :closed', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':closed': 'CLOSED' } }));
    }
    let opened: { id: string; url?: string } = { id: pending.id };
    if (backend) {
      try {
        opened = await backend.open(ticket);
      } catch (err) {
        // Release the claim: the retry (or the next run) opens it.
        await doc.send(new DeleteCommand({ TableName: table, Key: this.key(ticket.dedupeKey), ConditionExpression: '#s = :pending', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':pending': 'PENDING' } })).catch(() => undefined);
        throw err instanceof ActionError ? err : new ActionError(`${backend.name}: opening "${ticket.title}" failed: ${(err as Error).message}`, { target: backend.name, cause: err });
      }
    }
    const record: TicketRecord = { ...pending, id: opened.id, ...(opened.url ? { url: opened.url } : {}), status: 'OPEN' };
    await doc.send(new PutCommand({ TableName: table, Item: { ...this.key(ticket.dedupeKey), ...record } }));
    // With the incident too, so its tickets list with it.
    await doc.send(new PutCommand({ TableName: table, Item: { pk: ticket.incidentId, sk: `TICKET#${record.id}`, ...record } }));
    return { id: record.id, ...(record.url ? { url: record.url } : {}), created: true };
  }

  /** Every ticket the agent opened, newest first; only one incident's when `incidentId` is given. */
  public async list(incidentId?: string): Promise<TicketRecord[]> {
    const out: TicketRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.doc.send(new ScanCommand({
        TableName: this.options.table,
        FilterExpression: 'begins_with(pk, :t) AND sk = :sk',
        ExpressionAttributeValues: { ':t': 'TICKET#', ':sk': 'TICKET' },
        ExclusiveStartKey: start,
      }));
      out.push(...((page.Items ?? []) as TicketRecord[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.filter((t) => !incidentId || t.incidentId === incidentId).map(({ pk: _p, sk: _s, ...t }: TicketRecord & { pk?: string; sk?: string }) => t).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Marks a ticket kept with the incident closed (`sre-agent tickets close`); a later run may open a new one. */
  public async close(id: string): Promise<TicketRecord> {
    const ticket = (await this.list()).find((t) => t.id === id);
    if (!ticket) throw new TargetNotFoundError(`no ticket ${id} (sre-agent tickets lists them)`, { target: id });
    await this.options.doc.send(new UpdateCommand({ TableName: this.options.table, Key: this.key(ticket.dedupeKey), UpdateExpression: 'SET #s = :closed', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':closed': 'CLOSED' } }));
    return { ...ticket, status: 'CLOSED' };
  }
}
