/**
 * The incident store over DynamoDB: incident ids, open-or-join, status transitions, the timeline.
 *
 * Conditional writes, idempotent retries, and two transactions on a new incident's critical path
 * (TransactWriteItems; the local dynalite thread serves them too): opening (the incident item,
 * its `incident_opened` event, the open-incident key, and whatever the caller counts with it,
 * such as the global breaker's active anomalies) and its execution's first start (playbook hash
 * pinned, OPEN → MITIGATING, its `status_changed` event). Everything else stays single-item.
 * Items of the Incidents table (string keys `pk`/`sk`):
 * - incident         `pk=INC-YYYYMMDD-NNN`        `sk=INCIDENT`  (+ `eventSeq` counter, `alarms` fired)
 * - timeline event   `pk=INC-YYYYMMDD-NNN`        `sk=EVENT#<iso time>#<6-digit seq>`
 * - open-incident    `pk=OPEN#<playbook>#<service>` `sk=OPEN`    (id + full incident body)
 * - daily counter    `pk=COUNTER#YYYYMMDD`        `sk=COUNTER`   (atomic ADD)
 * - execution link   `pk=EXECUTION#<name>`        `sk=EXECUTION` (a scheduled run → its incident)
 *
 * Opening is one transaction: the key (conditional on its absence), the incident item and its
 * opened event are written together or not at all. The key still carries the pre-allocated id
 * and the whole incident body: a key written by an earlier version without its incident item
 * (written first, then the item) is completed from that body by whoever finds it, idempotently.
 *
 * Sequence numbers: 0 is the opened event's, 1 is kept for the status change of the execution's
 * first start (`beginExecution`, which cannot read the counter inside its transaction; the
 * incident item marks it unused with `startSeq`); the counter hands out 2 onwards.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { IncidentContentionError, IncidentError, IncidentNotFoundError, InvalidTransitionError } from './errors';
import {
  FINAL_STATUSES,
  STORE_EVENT_TYPES,
  canTransition,
  incidentDay,
  isFinalStatus,
  severityAtLeast,
  toIso,
  type Incident,
  type AlarmFirings,
  type AnomalyStart,
  type IncidentAlarm,
  type IncidentStatus,
  type IncidentTables,
  type NewTimelineEvent,
  type Severity,
  type TimelineEvent,
} from './model';

const INCIDENT_SK = 'INCIDENT';
const OPEN_SK = 'OPEN';
const COUNTER_SK = 'COUNTER';
const EVENT_PREFIX = 'EVENT#';
/** Sequence number of the `incident_opened` event, written before any counter exists. */
const OPENED_EVENT_SEQ = 0;
/** Sequence number kept for the `status_changed` event of the execution's first start (`beginExecution`). */
const START_EVENT_SEQ = 1;
/** Retry budget of the optimistic loops; each lap means another writer got there first. */
const MAX_ATTEMPTS = 10;

const incidentKey = (id: string) => ({ pk: id, sk: INCIDENT_SK });
const openKey = (playbook: string, service: string) => ({ pk: `OPEN#${playbook}#${service}`, sk: OPEN_SK });
const counterKey = (day: string) => ({ pk: `COUNTER#${day}`, sk: COUNTER_SK });
const eventSk = (at: string, seq: number) => `${EVENT_PREFIX}${at}#${String(seq).padStart(6, '0')}`;

/** The open-incident item: the reservation of (playbook, service), and the body to complete it from. */
interface OpenItem {
  readonly pk: string;
  readonly sk: string;
  readonly incidentId: string;
  /** Identity of the alarm that opened the incident (`<alarm name>@<detectedAt>`). */
  readonly openedBy: string;
  readonly incident: Incident;
}

/** The incident item: the public incident plus bookkeeping. */
interface IncidentItem extends Incident {
  readonly pk: string;
  readonly sk: string;
  readonly eventSeq: number;
  readonly openKey: string;
  /** START_EVENT_SEQ while it is unused (`beginExecution` has not run); absent on items of earlier versions. */
  readonly startSeq?: number;
}

/** One member of a TransactWriteItems request. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A transaction DynamoDB cancelled: the reason of each member, in order (`ConditionalCheckFailed`, `TransactionConflict`, `None`...). */
function cancellationReasons(err: unknown): string[] | undefined {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return undefined;
  return ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException');
}

/** A conditional update of an incident item: the item as written, or undefined when the condition did not hold. */
async function updateIncidentIf(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  update: { expression: string; condition: string; names?: Record<string, string>; values: Record<string, unknown> },
): Promise<IncidentItem | undefined> {
  try {
    const out = await doc.send(
      new UpdateCommand({
        TableName: tables.incidents,
        Key: incidentKey(id),
        UpdateExpression: update.expression,
        ConditionExpression: update.condition,
        ExpressionAttributeNames: update.names,
        ExpressionAttributeValues: update.values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes as IncidentItem;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    throw err;
  }
}

/** Drops `undefined` members (plain objects and arrays, deeply): the document client refuses them by default. */
function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(withoutUndefined) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

function toIncident(i: Incident): Incident {
  return withoutUndefined({
    id: i.id,
    playbook: i.playbook,
    service: i.service,
    severity: i.severity,
    status: i.status,
    alarm: i.alarm,
    alarms: i.alarms,
    executionArn: i.executionArn,
    playbookHash: i.playbookHash,
    recovery: i.recovery,
    report: i.report,
    timestamps: i.timestamps,
    anomalyStart: i.anomalyStart,
  });
}

function toEvent(item: Record<string, unknown>): TimelineEvent {
  const e = item as unknown as TimelineEvent;
  return withoutUndefined({
    incidentId: e.incidentId,
    at: e.at,
    seq: e.seq,
    type: e.type,
    step: e.step,
    actor: e.actor,
    summary: e.summary,
    before: e.before,
    after: e.after,
    data: e.data,
  });
}

/**
 * The next incident id of a UTC day, `INC-YYYYMMDD-NNN`, from an atomic daily counter
 * (zero-padded to three digits, more past 999).
 *
 * @example
 * await nextIncidentId(doc, tables, new Date('2026-02-09T14:15:00Z')) // 'INC-20260209-001'
 */
export async function nextIncidentId(doc: DynamoDBDocumentClient, tables: IncidentTables, date: Date | string): Promise<string> {
  const day = incidentDay(date);
  const out = await doc.send(
    new UpdateCommand({
      TableName: tables.incidents,
      Key: counterKey(day),
      UpdateExpression: 'ADD #n :one',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  const n = Number(out.Attributes?.n);
  return `INC-${day}-${String(n).padStart(3, '0')}`;
}

const executionKey = (name: string) => ({ pk: `EXECUTION#${name}`, sk: 'EXECUTION' });

/**
 * Ties an execution not named after its incident (a scheduled run) to the incident it works
 * on, so that its end can be recorded there (see `incidentOfExecution`). Idempotent.
 */
export async function linkExecution(doc: DynamoDBDocumentClient, tables: IncidentTables, executionName: string, incidentId: string): Promise<void> {
  await doc.send(new PutCommand({ TableName: tables.incidents, Item: { ...executionKey(executionName), incidentId } }));
}

/** The incident an execution was tied to by `linkExecution`, if any. */
export async function incidentOfExecution(doc: DynamoDBDocumentClient, tables: IncidentTables, executionName: string): Promise<string | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tables.incidents, Key: executionKey(executionName), ConsistentRead: true }));
  return out.Item?.incidentId as string | undefined;
}

/** Reads an incident; undefined when there is none. */
async function readIncidentItem(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string): Promise<IncidentItem | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tables.incidents, Key: incidentKey(id), ConsistentRead: true }));
  return out.Item as IncidentItem | undefined;
}

/** Reads an incident. @throws IncidentNotFoundError */
export async function getIncident(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string): Promise<Incident> {
  const item = await readIncidentItem(doc, tables, id);
  if (!item) throw new IncidentNotFoundError(id);
  return toIncident(item);
}

/** The open (not yet resolved or failed) incident of a (playbook, service), if any. */
export async function findOpenIncident(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  playbook: string,
  service: string,
): Promise<Incident | undefined> {
  const open = await readOpenItem(doc, tables, playbook, service);
  if (!open) return undefined;
  const item = await readIncidentItem(doc, tables, open.incidentId);
  const incident = item ? toIncident(item) : open.incident;
  return isFinalStatus(incident.status) ? undefined : incident;
}

async function readOpenItem(doc: DynamoDBDocumentClient, tables: IncidentTables, playbook: string, service: string): Promise<OpenItem | undefined> {
  const out = await doc.send(new GetCommand({ TableName: tables.incidents, Key: openKey(playbook, service), ConsistentRead: true }));
  return out.Item as OpenItem | undefined;
}

export interface OpenIncidentInput {
  readonly playbook: string;
  readonly service: string;
  readonly severity: Severity;
  readonly alarm?: IncidentAlarm;
  /** When the agent received the alarm; also picks the day of the id. */
  readonly detectedAt: Date | string;
  /** When the anomaly began. */
  readonly anomalyStartedAt: Date | string;
  /** Where `anomalyStartedAt` came from (the intake: the alarm's first breaching datapoint, or a named fallback). */
  readonly anomalyStart?: AnomalyStart;
  /**
   * Writes that belong with opening the incident (the global breaker's count of active
   * anomalies): made in the same transaction, so they happen exactly when the incident opens,
   * never for an alarm that joins. Given the new incident's id.
   */
  readonly withOpening?: (incidentId: string) => readonly TransactItem[];
}

export interface OpenOrJoinResult {
  readonly incident: Incident;
  /**
   * True when the alarm joined an incident another alarm had opened (an `alarm_joined` event
   * the first time this alarm joins it; a count in `incident.alarms` when it fires again). False
   * for the alarm that opened it, including a retry or redelivery of that same state change
   * (same alarm name and detectedAt): that caller should (re)start the execution.
   */
  readonly joined: boolean;
  /** True when this call completed an incident whose opener stopped before writing it. */
  readonly recovered: boolean;
  /** True when this call opened the incident, in the transaction that made the `withOpening` writes. */
  readonly openedNow: boolean;
}

/**
 * Opens the incident of a (playbook, service), or joins the one already open.
 *
 * Safe under concurrency: of N simultaneous alarms for one key, one opens and N−1 join. Safe
 * under crashes: see the module header. Ids pre-allocated by callers that lose the race for the
 * open-incident key are burned: the day's numbers are unique and increasing, not gap-free.
 *
 * An open-incident key left behind by an incident that has since been resolved or failed (a
 * crash inside `transitionIncident`) is cleared here, and a new incident is opened.
 *
 * @throws IncidentContentionError when the retry budget runs out (safe to call again)
 */
export async function openOrJoinIncident(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  input: OpenIncidentInput,
): Promise<OpenOrJoinResult> {
  const detectedAt = toIso(input.detectedAt);
  const anomalyStartedAt = toIso(input.anomalyStartedAt);
  const alarmKey = `${input.alarm?.name ?? ''}@${detectedAt}`;
  const key = openKey(input.playbook, input.service);
  const hints = openHints(doc, tables);
  const join: AlarmJoin = {
    name: input.alarm?.name ?? UNNAMED_ALARM,
    at: detectedAt,
    event: {
      at: detectedAt,
      type: STORE_EVENT_TYPES.alarmJoined,
      actor: 'agent',
      summary: `alarm ${input.alarm?.name ?? UNNAMED_ALARM} joined the open incident (severity ${input.severity})`,
      data: withoutUndefined({ alarm: input.alarm, severity: input.severity, anomalyStartedAt }),
    },
  };

  // Fast path (an alarm storm): the incident this host last saw open for the key. Every join
  // write is conditional on that incident still being active, and an active incident always
  // holds its key (keys are released only once final, and final is terminal), so joining it is
  // exactly what the full path below would do, without reading the key.
  const hint = hints.get(key.pk);
  const remember = (incidentId: string, openedBy: string, seen: readonly string[]) =>
    hints.set(key.pk, { incidentId, openedBy, alarms: new Set([...(hint?.incidentId === incidentId ? hint.alarms : []), ...seen]) });
  if (hint && hint.openedBy !== alarmKey) {
    const joined = await joinIfActive(doc, tables, hint.incidentId, join, hint.alarms.has(join.name));
    if (joined !== 'inactive') {
      remember(hint.incidentId, hint.openedBy, [join.name]);
      return { incident: toIncident(joined), joined: true, recovered: false, openedNow: false };
    }
    hints.delete(key.pk);
  }

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    let open = await readOpenItem(doc, tables, input.playbook, input.service);
    if (!open) {
      const id = await nextIncidentId(doc, tables, detectedAt);
      const incident: Incident = withoutUndefined({
        id,
        playbook: input.playbook,
        service: input.service,
        severity: input.severity,
        status: 'OPEN' as const,
        alarm: input.alarm,
        timestamps: { anomalyStartedAt, detectedAt },
        anomalyStart: input.anomalyStart,
      });
      const reservation: OpenItem = { ...key, incidentId: id, openedBy: alarmKey, incident };
      const item = incidentItemOf(reservation);
      try {
        // One round trip: the key, the incident, its opened event and the caller's counts, or nothing.
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: tables.incidents, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
              { Put: { TableName: tables.incidents, Item: openedEventItem(incident) } },
              ...(input.withOpening?.(id) ?? []),
              { Put: { TableName: tables.incidents, Item: reservation, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
      } catch (err) {
        if (!cancellationReasons(err)) throw err;
        // Another alarm reserved the key first (or a concurrent transaction touched the same
        // items): `id` is burned; read the key again and join theirs.
        continue;
      }
      remember(id, alarmKey, [join.name]);
      return { incident: toIncident(item), joined: false, recovered: false, openedNow: true };
    }

    // Usually the incident is there and active: join it by conditional writes alone.
    if (open.openedBy !== alarmKey) {
      const joined = await joinIfActive(doc, tables, open.incidentId, join, open.incident.alarm?.name === join.name);
      if (joined !== 'inactive') {
        remember(open.incidentId, open.openedBy, Object.keys(joined.alarms ?? {}));
        return { incident: toIncident(joined), joined: true, recovered: false, openedNow: false };
      }
    }

    // The opener's own retry, an incident its opener did not finish writing, or a final one.
    let item = await readIncidentItem(doc, tables, open.incidentId);
    let recovered = false;
    if (!item) {
      const completed = await completeIncident(doc, tables, open);
      item = completed.item;
      recovered = completed.wrote;
    }
    if (isFinalStatus(item.status)) {
      await releaseOpenKey(doc, tables, key, item.id);
      continue;
    }
    remember(open.incidentId, open.openedBy, Object.keys(item.alarms ?? {}));
    if (open.openedBy === alarmKey) return { incident: toIncident(item), joined: false, recovered, openedNow: false };

    const joined = await joinIfActive(doc, tables, item.id, join, Object.hasOwn(item.alarms ?? {}, join.name));
    if (joined === 'inactive') continue; // Resolved between our read and our event: open a new one.
    return { incident: toIncident(joined), joined: true, recovered, openedNow: false };
  }
  throw new IncidentContentionError(
    `could not open or join an incident for ${key.pk} after ${MAX_ATTEMPTS} attempts: concurrent writers kept winning; retry the call`,
  );
}

/**
 * Whether this host has seen `alarmName` on the incident it last saw open for (playbook,
 * service): its next firing is then most likely a repeat, which `openOrJoinIncident` counts with
 * one conditional write. No I/O, and only a hint (the incident may have been resolved since):
 * callers use it to schedule work, never to decide what is written.
 */
export function isLikelyRepeat(doc: DynamoDBDocumentClient, tables: IncidentTables, playbook: string, service: string, alarmName: string): boolean {
  return openHints(doc, tables).get(openKey(playbook, service).pk)?.alarms.has(alarmName) ?? false;
}

/** What a host remembers of an open-incident key: the incident and the alarm that opened it. */
interface OpenHint {
  readonly incidentId: string;
  readonly openedBy: string;
  /** Alarm names this host has seen join it (a repeat is then tried first). */
  readonly alarms: ReadonlySet<string>;
}

/** Bound on remembered keys per client (a key is a (playbook, service) pair). */
const MAX_OPEN_HINTS = 10_000;
const openHintsByClient = new WeakMap<DynamoDBDocumentClient, Map<string, Map<string, OpenHint>>>();

/**
 * The open-incident keys this host has seen, per client and table (so two local stores in one
 * process never share hints). Only a hint: every use is a conditional write that fails once the
 * incident is final, and the caller then reads the key again.
 */
function openHints(doc: DynamoDBDocumentClient, tables: IncidentTables): { get(k: string): OpenHint | undefined; set(k: string, h: OpenHint): void; delete(k: string): void } {
  let byTable = openHintsByClient.get(doc);
  if (!byTable) openHintsByClient.set(doc, (byTable = new Map()));
  let hints = byTable.get(tables.incidents);
  if (!hints) byTable.set(tables.incidents, (hints = new Map()));
  const map = hints;
  return {
    get: (k) => map.get(k),
    set: (k, h) => {
      map.delete(k);
      map.set(k, h);
      if (map.size > MAX_OPEN_HINTS) map.delete(map.keys().next().value as string);
    },
    delete: (k) => void map.delete(k),
  };
}

/** The `incident_opened` event of an incident (fixed key: writing it again changes nothing). */
function openedEventItem(incident: Incident): Record<string, unknown> {
  const opened: TimelineEvent = withoutUndefined({
    incidentId: incident.id,
    at: incident.timestamps.detectedAt,
    seq: OPENED_EVENT_SEQ,
    type: STORE_EVENT_TYPES.opened,
    actor: 'agent',
    summary: `incident opened by alarm ${incident.alarm?.name ?? '(unnamed)'}: playbook ${incident.playbook}, service ${incident.service}, severity ${incident.severity}`,
    after: { status: incident.status },
    data: withoutUndefined({ alarm: incident.alarm, anomalyStartedAt: incident.timestamps.anomalyStartedAt, anomalyStart: incident.anomalyStart }),
  });
  return { pk: incident.id, sk: eventSk(opened.at, opened.seq), ...opened };
}

/** The incident item of an open-incident reservation, as opened: its alarm fired once, sequence numbers 0 and 1 taken. */
function incidentItemOf(open: OpenItem): IncidentItem {
  const incident = open.incident;
  const at = incident.timestamps.detectedAt;
  return {
    ...incident,
    alarms: { [incident.alarm?.name ?? UNNAMED_ALARM]: { firstAt: at, lastAt: at, fired: 1 } },
    ...incidentKey(incident.id),
    eventSeq: START_EVENT_SEQ,
    startSeq: START_EVENT_SEQ,
    openKey: open.pk,
  };
}

/**
 * Writes the incident item (and its `incident_opened` event) from an open-incident reservation.
 * Idempotent: the event goes first with a fixed key, then the incident by a conditional put, so
 * an existing incident item implies its opened event exists.
 */
async function completeIncident(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  open: OpenItem,
): Promise<{ item: IncidentItem; wrote: boolean }> {
  const incident = open.incident;
  await doc.send(new PutCommand({ TableName: tables.incidents, Item: openedEventItem(incident) }));
  const item = incidentItemOf(open);
  try {
    await doc.send(new PutCommand({ TableName: tables.incidents, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return { item, wrote: true };
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
  const existing = await readIncidentItem(doc, tables, incident.id);
  if (!existing) throw new IncidentError(`incident ${incident.id} vanished while being completed`, { incidentId: incident.id });
  return { item: existing, wrote: false };
}

/** Deletes the open-incident key if it still points at `incidentId` (a newer incident keeps its key). */
async function releaseOpenKey(doc: DynamoDBDocumentClient, tables: IncidentTables, key: { pk: string; sk: string }, incidentId: string): Promise<void> {
  try {
    await doc.send(
      new DeleteCommand({
        TableName: tables.incidents,
        Key: key,
        ConditionExpression: 'incidentId = :id',
        ExpressionAttributeValues: { ':id': incidentId },
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/**
 * Frees the (playbook, service) key of an incident that is not final (handed to people after its
 * execution was lost): the next alarm opens a new incident instead of joining one nothing works
 * on. The incident itself stays as it is. Idempotent; a key another incident holds is left alone.
 */
export async function releaseIncidentKey(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string): Promise<void> {
  const item = await readIncidentItem(doc, tables, incidentId);
  if (!item) throw new IncidentNotFoundError(incidentId);
  const key = item.openKey ? { pk: item.openKey, sk: OPEN_SK } : openKey(item.playbook, item.service);
  await releaseOpenKey(doc, tables, key, incidentId);
}

function eventItem(incidentId: string, seq: number, event: NewTimelineEvent): Record<string, unknown> {
  const at = toIso(event.at);
  const e: TimelineEvent = withoutUndefined({
    incidentId,
    at,
    seq,
    type: event.type,
    step: event.step,
    actor: event.actor,
    summary: event.summary,
    before: event.before,
    after: event.after,
    data: event.data,
  });
  return { pk: incidentId, sk: eventSk(at, seq), ...e };
}

async function putEvent(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, seq: number, event: NewTimelineEvent): Promise<TimelineEvent> {
  const item = eventItem(incidentId, seq, event);
  await doc.send(new PutCommand({ TableName: tables.incidents, Item: item }));
  return toEvent(item);
}

/** Takes the next sequence number of an incident's timeline (atomic ADD on the incident item). */
async function takeEventSeq(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, count = 1): Promise<number> {
  let out;
  try {
    out = await doc.send(
      new UpdateCommand({
        TableName: tables.incidents,
        Key: incidentKey(incidentId),
        UpdateExpression: 'ADD eventSeq :n',
        // Without the condition, ADD on a missing incident would create a headless item.
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new IncidentNotFoundError(incidentId, { cause: err });
    throw err;
  }
  return Number(out.Attributes?.eventSeq);
}

/**
 * Appends an event to an incident's timeline. Events are ordered by time, then by their sequence
 * number (unique per incident, from an atomic counter on the incident item).
 *
 * @throws IncidentNotFoundError
 * @example
 * await appendEvent(doc, tables, 'INC-20260209-001', {
 *   at: new Date(), type: 'action_succeeded', step: 'rollback', actor: 'agent',
 *   summary: 'rolled back trading-api v2.3.1 → v2.3.0', before: { image: 'v2.3.1' }, after: { image: 'v2.3.0' },
 * });
 */
export async function appendEvent(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  incidentId: string,
  event: NewTimelineEvent,
): Promise<TimelineEvent> {
  return putEvent(doc, tables, incidentId, await takeEventSeq(doc, tables, incidentId), event);
}

/** BatchWriteItem's limit of items per request. */
const BATCH_WRITE_MAX = 25;

/**
 * Appends several events at once, in the order given (consecutive sequence numbers): one
 * counter write and one BatchWriteItem per 25 events instead of two calls per event (a
 * notification's outcome per channel, for one). Items DynamoDB leaves unprocessed are retried.
 *
 * @throws IncidentNotFoundError
 */
export async function appendEvents(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  incidentId: string,
  events: readonly NewTimelineEvent[],
): Promise<TimelineEvent[]> {
  if (events.length === 0) return [];
  if (events.length === 1) return [await appendEvent(doc, tables, incidentId, events[0]!)];
  const last = await takeEventSeq(doc, tables, incidentId, events.length);
  const items = events.map((e, i) => eventItem(incidentId, last - events.length + 1 + i, e));
  for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) {
    let requests = items.slice(i, i + BATCH_WRITE_MAX).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt === MAX_ATTEMPTS) throw new IncidentError(`incident ${incidentId}: ${requests.length} timeline events still unprocessed after ${MAX_ATTEMPTS} attempts (throttled?); retry`, { incidentId });
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tables.incidents]: requests } }));
      requests = (out.UnprocessedItems?.[tables.incidents] ?? []) as typeof requests;
    }
  }
  return items.map(toEvent);
}

const UNNAMED_ALARM = '(unnamed)';

/** One alarm firing that joins an open incident. */
interface AlarmJoin {
  readonly name: string;
  /** ISO time of its state change. */
  readonly at: string;
  /** The `alarm_joined` event, written the first time this alarm joins. */
  readonly event: NewTimelineEvent;
}

const NOT_FINAL = 'NOT (#status IN (:final0, :final1))';
const ACTIVE = `attribute_exists(pk) AND ${NOT_FINAL}`;
const ACTIVE_VALUES = { ':final0': FINAL_STATUSES[0], ':final1': FINAL_STATUSES[1] };

/**
 * Joins an alarm firing to an incident while it exists and is neither resolved nor failed
 * ('inactive' otherwise); returns the incident item as written.
 * - An alarm already on the incident firing again (the storm case): one conditional write
 *   counts it, only if its state change is newer than the last one counted (a redelivery or an
 *   out-of-order event counts nothing).
 * - An alarm new to the incident: one conditional write adds it and takes a sequence number,
 *   then its `alarm_joined` event.
 */
async function joinIfActive(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, join: AlarmJoin, likelyKnown: boolean): Promise<IncidentItem | 'inactive'> {
  const names = { '#status': 'status', '#alarms': 'alarms', '#a': join.name };
  const update = (expression: string, condition: string, values: Record<string, unknown>) =>
    updateIncidentIf(doc, tables, incidentId, { expression, condition, names, values: { ...ACTIVE_VALUES, ...values } });
  const again = () =>
    // `lastAt < :at` holds only for an item that has this alarm: no attribute_exists needed.
    update('SET #alarms.#a.lastAt = :at, #alarms.#a.fired = #alarms.#a.fired + :one', `#alarms.#a.lastAt < :at AND ${NOT_FINAL}`, {
      ':at': join.at,
      ':one': 1,
    });
  const addAlarm = () =>
    update('SET #alarms.#a = :firing ADD eventSeq :one', `${ACTIVE} AND attribute_not_exists(#alarms.#a)`, {
      ':firing': { firstAt: join.at, lastAt: join.at, fired: 1 } satisfies AlarmFirings,
      ':one': 1,
    });
  const first = async () => {
    let item: IncidentItem | undefined;
    try {
      item = await addAlarm();
    } catch (err) {
      // An incident written before alarms were counted has no map to add to: give it one, once.
      if (!(err instanceof Error && err.name === 'ValidationException')) throw err;
      const mapped = await updateIncidentIf(doc, tables, incidentId, { expression: 'SET #alarms = :none', condition: 'attribute_exists(pk) AND attribute_not_exists(#alarms)', names: { '#alarms': 'alarms' }, values: { ':none': {} } });
      if (!mapped) throw err; // It has a map: the error is about something else.
      item = await addAlarm();
    }
    if (item) await putEvent(doc, tables, incidentId, Number(item.eventSeq), join.event);
    return item;
  };
  let known = likelyKnown;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    // Try the likely case first; the other is one more conditional write.
    const joined = known ? ((await again()) ?? (await first())) : ((await first()) ?? (await again()));
    if (joined) return joined;
    // Neither applied: the incident is missing or final, or this state change was counted
    // already, or the item changed between the two writes (its opener just wrote it).
    const item = await readIncidentItem(doc, tables, incidentId);
    if (!item || isFinalStatus(item.status)) return 'inactive';
    const seen = item.alarms?.[join.name];
    if (seen && seen.lastAt >= join.at) return item;
    known = seen !== undefined;
  }
  throw new IncidentContentionError(`incident ${incidentId}: could not join alarm ${join.name} after ${MAX_ATTEMPTS} attempts: concurrent writers kept winning; retry the call`, { incidentId });
}

/**
 * Records an alarm's state change back to OK on the incident it fired on, once per firing: only
 * an alarm that fired on this incident counts, only an OK newer than its latest firing, and only
 * the first such OK (a redelivery or a forged repeat changes nothing). Returns the incident when
 * it counted, undefined when it did not.
 */
export async function recordAlarmOk(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string, alarmName: string, at: Date | string): Promise<Incident | undefined> {
  const when = toIso(at);
  const updated = await updateIncidentIf(doc, tables, incidentId, {
    expression: 'SET #alarms.#a.okAt = :at',
    condition: `attribute_exists(#alarms.#a) AND #alarms.#a.lastAt < :at AND (attribute_not_exists(#alarms.#a.okAt) OR #alarms.#a.okAt < #alarms.#a.lastAt) AND ${NOT_FINAL}`,
    names: { '#alarms': 'alarms', '#a': alarmName, '#status': 'status' },
    values: { ':at': when, ...ACTIVE_VALUES },
  });
  return updated ? toIncident(updated) : undefined;
}

/** Optional context of a status change, copied to its timeline event. */
export interface TransitionOptions {
  /** Who moved it (`agent`, an approver, `cli:<user>`). @default 'agent' */
  readonly actor?: string;
  /** Why, for the timeline. */
  readonly reason?: string;
  /** The playbook step that moved it. */
  readonly step?: string;
}

/**
 * Moves an incident to another status, if the transition table allows it from the current one
 * (the write is conditional on that status, so two concurrent moves cannot both apply), sets
 * the matching timestamp and records a `status_changed` event:
 * - RESOLVED sets `resolvedAt` (and `mitigatedAt` if still unset);
 * - RESOLVED and FAILED release the open-incident key: the next alarm opens a new incident.
 *
 * @throws InvalidTransitionError naming the incident, its current status and `to`
 * @throws IncidentNotFoundError
 * @example
 * await transitionIncident(doc, tables, 'INC-20260209-001', 'RESOLVED', new Date(), { reason: 'latency back to baseline' });
 */
export async function transitionIncident(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  to: IncidentStatus,
  at: Date | string,
  options: TransitionOptions = {},
): Promise<Incident> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const current = await readIncidentItem(doc, tables, id);
    if (!current) throw new IncidentNotFoundError(id);
    if (!canTransition(current.status, to)) throw new InvalidTransitionError(id, current.status, to);
    const moved = await writeTransition(doc, tables, id, current.status, to, at, options);
    if (moved) return moved;
    // Someone else moved it meanwhile: judge again from the new status.
  }
  throw new IncidentContentionError(`incident ${id}: status kept changing under us after ${MAX_ATTEMPTS} attempts; retry the call`, { incidentId: id });
}

/**
 * Moves an incident from `from` to `to` only if it is in `from` now: one conditional write,
 * no read (the playbook's first state moves OPEN → MITIGATING this way). Undefined when the
 * incident is in another status.
 *
 * @throws InvalidTransitionError when the table does not allow `from` → `to`
 * @throws IncidentNotFoundError
 */
export async function transitionIfStatus(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  from: IncidentStatus,
  to: IncidentStatus,
  at: Date | string,
  options: TransitionOptions = {},
): Promise<Incident | undefined> {
  if (!canTransition(from, to)) throw new InvalidTransitionError(id, from, to);
  const moved = await writeTransition(doc, tables, id, from, to, at, options);
  if (moved) return moved;
  if (!(await readIncidentItem(doc, tables, id))) throw new IncidentNotFoundError(id);
  return undefined;
}

/** The conditional status write and its event; undefined when the incident is not in `from` (or missing). */
async function writeTransition(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  from: IncidentStatus,
  to: IncidentStatus,
  at: Date | string,
  options: TransitionOptions,
): Promise<Incident | undefined> {
  const when = toIso(at);
  const sets = ['#status = :to'];
  const names: Record<string, string> = { '#status': 'status' };
  if (to === 'RESOLVED') {
    names['#ts'] = 'timestamps';
    sets.push('#ts.resolvedAt = :at', '#ts.mitigatedAt = if_not_exists(#ts.mitigatedAt, :at)');
  }
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: `SET ${sets.join(', ')} ADD eventSeq :one`,
    condition: '#status = :from',
    names,
    values: { ':to': to, ':from': from, ':one': 1, ...(names['#ts'] ? { ':at': when } : {}) },
  });
  if (!updated) return undefined;
  await putEvent(doc, tables, id, Number(updated.eventSeq), {
    at: when,
    type: STORE_EVENT_TYPES.statusChanged,
    step: options.step,
    actor: options.actor ?? 'agent',
    summary: `${from} → ${to}${options.reason ? `: ${options.reason}` : ''}`,
    before: { status: from },
    after: { status: to },
  });
  if (isFinalStatus(to)) await releaseOpenKey(doc, tables, { pk: updated.openKey, sk: OPEN_SK }, id);
  return toIncident(updated);
}

/** Short name of `transitionIncident`, as the brief and the state machines call it. */
export const transition = transitionIncident;

/** Context of a severity raise, copied to its timeline event. */
export interface RaiseSeverityOptions {
  /** Why (the alarm that declared it), for the timeline. */
  readonly reason: string;
  /** @default 'agent' */
  readonly actor?: string;
  /** The severity the caller last saw (saves a read when still true). @default read from the incident */
  readonly from?: Severity;
}

/**
 * Raises an open incident's severity to `to`, never lowers it: one conditional write on the
 * severity seen (re-read and retried if another writer moved it), and a `severity_raised` event.
 * Undefined when the incident is already at `to` or worse, or resolved or failed.
 *
 * @throws IncidentNotFoundError
 * @example
 * await raiseSeverity(doc, tables, 'INC-20260209-001', 'CRITICAL', new Date(), { reason: 'alarm trading-api-5xx declares severity=CRITICAL' });
 */
export async function raiseSeverity(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  to: Severity,
  at: Date | string,
  options: RaiseSeverityOptions,
): Promise<Incident | undefined> {
  let from = options.from;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    if (from === undefined || attempt > 0) {
      const current = await readIncidentItem(doc, tables, id);
      if (!current) throw new IncidentNotFoundError(id);
      if (isFinalStatus(current.status)) return undefined;
      from = current.severity;
    }
    if (severityAtLeast(from, to)) return undefined;
    const updated = await updateIncidentIf(doc, tables, id, {
      expression: 'SET #sev = :to ADD eventSeq :one',
      condition: `${ACTIVE} AND #sev = :from`,
      names: { '#status': 'status', '#sev': 'severity' },
      values: { ...ACTIVE_VALUES, ':to': to, ':from': from, ':one': 1 },
    });
    if (!updated) continue; // Moved (or final, or missing) meanwhile: judge again from what is there.
    await putEvent(doc, tables, id, Number(updated.eventSeq), {
      at: toIso(at),
      type: STORE_EVENT_TYPES.severityRaised,
      actor: options.actor ?? 'agent',
      summary: `severity ${from} → ${to}: ${options.reason}`,
      before: { severity: from },
      after: { severity: to },
    });
    return toIncident(updated);
  }
  throw new IncidentContentionError(`incident ${id}: severity kept changing under us after ${MAX_ATTEMPTS} attempts; retry the call`, { incidentId: id });
}

/**
 * Links the incident to its latest report (`report.location`, `report.writtenAt`).
 * @throws IncidentNotFoundError
 */
export async function linkReport(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string, location: string, at: Date | string): Promise<void> {
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET #report = :report',
    condition: 'attribute_exists(pk)',
    names: { '#report': 'report' },
    values: { ':report': { location, writtenAt: toIso(at) } },
  });
  if (!updated) throw new IncidentNotFoundError(id);
}

/**
 * Records when the investigation completed (`investigatedAt`, once: MTTI = it − detection). The
 * investigation writes its own `investigation_completed` event; this only stamps the incident.
 * @throws IncidentNotFoundError
 */
export async function markInvestigated(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string, at: Date | string): Promise<Incident> {
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET #ts.investigatedAt = if_not_exists(#ts.investigatedAt, :at)',
    condition: 'attribute_exists(pk)',
    names: { '#ts': 'timestamps' },
    values: { ':at': toIso(at) },
  });
  if (!updated) throw new IncidentNotFoundError(id);
  return toIncident(updated);
}

/**
 * Records that the mitigation is in place (sets `mitigatedAt` once) with a `mitigated` event.
 * @throws IncidentNotFoundError
 */
export async function markMitigated(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  at: Date | string,
  options: TransitionOptions = {},
): Promise<Incident> {
  const when = toIso(at);
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET #ts.mitigatedAt = if_not_exists(#ts.mitigatedAt, :at) ADD eventSeq :one',
    condition: 'attribute_exists(pk)',
    names: { '#ts': 'timestamps' },
    values: { ':at': when, ':one': 1 },
  });
  if (!updated) throw new IncidentNotFoundError(id);
  await putEvent(doc, tables, id, Number(updated.eventSeq), {
    at: when,
    type: STORE_EVENT_TYPES.mitigated,
    step: options.step,
    actor: options.actor ?? 'agent',
    summary: `mitigation in place${options.reason ? `: ${options.reason}` : ''}`,
  });
  return toIncident(updated);
}

/**
 * Records the investigation's completion (issue 13): `timestamps.investigatedAt` becomes `at`
 * (MTTI = at − detectedAt), replacing the first-MITIGATING fallback the playbook's start wrote, and
 * the `investigation_completed` event carries the result. Once per incident: a second completion
 * (a redelivered or restarted execution) writes nothing and returns undefined.
 *
 * @throws IncidentNotFoundError
 */
export async function recordInvestigation(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  at: Date | string,
  event: { readonly summary: string; readonly data: Readonly<Record<string, unknown>> },
): Promise<{ incident: Incident; event: TimelineEvent } | undefined> {
  const when = toIso(at);
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET #ts.investigatedAt = :at, #inv = :at ADD eventSeq :one',
    condition: 'attribute_exists(pk) AND attribute_not_exists(#inv)',
    names: { '#ts': 'timestamps', '#inv': 'investigationCompletedAt' },
    values: { ':at': when, ':one': 1 },
  });
  if (!updated) {
    if (!(await readIncidentItem(doc, tables, id))) throw new IncidentNotFoundError(id);
    return undefined;
  }
  const written = await putEvent(doc, tables, id, Number(updated.eventSeq), { at: when, type: 'investigation_completed', actor: 'agent', summary: event.summary, data: event.data });
  return { incident: toIncident(updated), event: written };
}

/**
 * Records the playbook execution working on an incident, and its `execution_started` event once.
 * Idempotent for the same ARN (a redelivered alarm restarting the same-named execution, or the
 * intake after the execution's first start set the ARN); refuses a different one.
 *
 * @throws IncidentNotFoundError
 * @throws IncidentError when the incident already has another execution
 */
export async function attachExecution(
  doc: DynamoDBDocumentClient,
  tables: IncidentTables,
  id: string,
  executionArn: string,
  at: Date | string,
): Promise<Incident> {
  // `executionRecorded`: its event is written (the execution's first start may have set the ARN
  // before this, in its transaction, without the event: see beginExecution).
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET executionArn = :arn, executionRecorded = :yes ADD eventSeq :one',
    condition: 'attribute_exists(pk) AND attribute_not_exists(executionRecorded) AND (attribute_not_exists(executionArn) OR executionArn = :arn)',
    values: { ':arn': executionArn, ':yes': true, ':one': 1 },
  });
  if (!updated) {
    const existing = await readIncidentItem(doc, tables, id);
    if (!existing) throw new IncidentNotFoundError(id);
    if (existing.executionArn === executionArn) return toIncident(existing);
    throw new IncidentError(`incident ${id} already has execution ${existing.executionArn ?? '?'}, refusing ${executionArn}`, { incidentId: id });
  }
  await putEvent(doc, tables, id, Number(updated.eventSeq), {
    at,
    type: STORE_EVENT_TYPES.executionStarted,
    actor: 'agent',
    summary: `playbook ${updated.playbook} execution started`,
    data: { executionArn },
  });
  return toIncident(updated);
}

/** What the execution's first start expects of the stored incident (the ref its input carries). */
export interface BeginExecutionInput {
  readonly id: string;
  readonly playbook: string;
  readonly service: string;
  readonly severity: Severity;
  /** The alarm that opened it, as stored (`incident.alarm.name` / `.reason`). */
  readonly alarmName?: string;
  readonly alarmReason?: string;
  /** The content hash of the compiled playbook (pinned, see `pinPlaybookHash`). */
  readonly playbookHash: string;
  /** The execution (attached here if the intake has not attached it yet; its event stays the intake's). */
  readonly executionArn: string;
  readonly at: Date | string;
  /** For the `status_changed` event. */
  readonly options?: TransitionOptions;
}

/**
 * The execution's first start in one transaction (the `Start incident` state's usual case): pins
 * the playbook hash and moves OPEN → MITIGATING with its `status_changed` event (the sequence
 * number kept for it at opening), and attaches the execution if the intake has not yet (the two
 * run side by side; the intake's `attachExecution` still writes the `execution_started` event).
 * Applies only to the incident exactly as expected: OPEN, no hash pinned yet, attached to no
 * other execution, with the playbook, service, severity and alarm
 * given (so what the caller goes on with is what is stored), and its kept sequence number
 * unused. Returns false, having written nothing, when any of that does not hold (a redelivered
 * start, a join that raised the severity, an incident of an earlier version...): the caller then
 * takes the step-by-step path (`pinPlaybookHash`, `attachExecution`, `transitionIfStatus`).
 */
export async function beginExecution(doc: DynamoDBDocumentClient, tables: IncidentTables, input: BeginExecutionInput): Promise<boolean> {
  const when = toIso(input.at);
  const optional = (path: string, placeholder: string, value: string | undefined) => (value === undefined ? `attribute_not_exists(${path})` : `${path} = ${placeholder}`);
  const condition = [
    '#status = :from',
    'startSeq = :seq',
    'attribute_not_exists(playbookHash)',
    '(attribute_not_exists(executionArn) OR executionArn = :arn)',
    'playbook = :playbook',
    'service = :service',
    'severity = :severity',
    optional('#alarm.#name', ':alarmName', input.alarmName),
    optional('#alarm.reason', ':alarmReason', input.alarmReason),
  ].join(' AND ');
  const values = withoutUndefined({
    ':from': 'OPEN',
    ':to': 'MITIGATING',
    ':seq': START_EVENT_SEQ,
    ':arn': input.executionArn,
    ':hash': input.playbookHash,
    ':playbook': input.playbook,
    ':service': input.service,
    ':severity': input.severity,
    ':alarmName': input.alarmName,
    ':alarmReason': input.alarmReason,
    ':at': when,
  });
  const options = input.options ?? {};
  try {
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: tables.incidents,
              Key: incidentKey(input.id),
              UpdateExpression: 'SET #status = :to, playbookHash = :hash, executionArn = :arn, #ts.investigatedAt = if_not_exists(#ts.investigatedAt, :at) REMOVE startSeq',
              ConditionExpression: condition,
              ExpressionAttributeNames: { '#status': 'status', '#ts': 'timestamps', '#alarm': 'alarm', '#name': 'name' },
              ExpressionAttributeValues: values,
            },
          },
          {
            Put: {
              TableName: tables.incidents,
              Item: eventItem(input.id, START_EVENT_SEQ, {
                at: when,
                type: STORE_EVENT_TYPES.statusChanged,
                step: options.step,
                actor: options.actor ?? 'agent',
                summary: `OPEN → MITIGATING${options.reason ? `: ${options.reason}` : ''}`,
                before: { status: 'OPEN' },
                after: { status: 'MITIGATING' },
              }),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (err) {
    if (cancellationReasons(err)) return false;
    throw err;
  }
}

/**
 * Pins the playbook version an incident runs under: records the content hash of the compiled
 * playbook when its execution starts. Idempotent for the same hash; the runtime guard refuses
 * actions whose bundled playbook has another hash (a deploy changed the playbook under a running
 * execution).
 *
 * @throws IncidentNotFoundError
 * @throws IncidentError when the incident is pinned to another hash
 */
export async function pinPlaybookHash(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string, hash: string): Promise<Incident> {
  const updated = await updateIncidentIf(doc, tables, id, {
    expression: 'SET playbookHash = if_not_exists(playbookHash, :h)',
    condition: 'attribute_exists(pk)',
    values: { ':h': hash },
  });
  if (!updated) throw new IncidentNotFoundError(id);
  if (updated.playbookHash !== hash) {
    throw new IncidentError(`incident ${id} runs playbook ${updated.playbook} version ${String(updated.playbookHash).slice(0, 12)}…, not ${hash.slice(0, 12)}…`, { incidentId: id });
  }
  return toIncident(updated);
}

/** Stores the result of the latest recovery check on the incident (what `Resolve incident` requires). */
export async function recordRecoveryCheck(doc: DynamoDBDocumentClient, tables: IncidentTables, id: string, result: 'true' | 'false' | 'unknown', at: Date | string): Promise<void> {
  const updated = await updateIncidentIf(doc, tables, id, { expression: 'SET recovery = :r', condition: 'attribute_exists(pk)', values: { ':r': { result, at: toIso(at) } } });
  if (!updated) throw new IncidentNotFoundError(id);
}

/** The timeline of an incident, in order (time, then sequence number). */
export async function getTimeline(doc: DynamoDBDocumentClient, tables: IncidentTables, incidentId: string): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: tables.incidents,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': incidentId, ':prefix': EVENT_PREFIX },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) events.push(toEvent(item));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return events;
}

export interface ListIncidentsOptions {
  /** Only incidents in this status. */
  readonly status?: IncidentStatus;
  /** At most this many, newest (by detectedAt) first. @default 50 */
  readonly limit?: number;
}

/**
 * Incidents, newest first. A filtered Scan of the whole table: fine for the local dashboard and
 * CLI; at production volume give the table a GSI on (status, detectedAt) and Query it instead.
 */
export async function listIncidents(doc: DynamoDBDocumentClient, tables: IncidentTables, options: ListIncidentsOptions = {}): Promise<Incident[]> {
  const incidents: Incident[] = [];
  let startKey: Record<string, unknown> | undefined;
  const filter = options.status ? 'sk = :sk AND #status = :status' : 'sk = :sk';
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: tables.incidents,
        FilterExpression: filter,
        ExpressionAttributeNames: options.status ? { '#status': 'status' } : undefined,
        ExpressionAttributeValues: options.status ? { ':sk': INCIDENT_SK, ':status': options.status } : { ':sk': INCIDENT_SK },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) incidents.push(toIncident(item as Incident));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  incidents.sort((a, b) => (a.timestamps.detectedAt < b.timestamps.detectedAt ? 1 : a.timestamps.detectedAt > b.timestamps.detectedAt ? -1 : b.id.localeCompare(a.id)));
  return incidents.slice(0, options.limit ?? 50);
}
