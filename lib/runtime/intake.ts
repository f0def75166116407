/**
 * Alarm intake (the trigger Lambda's logic): an EventBridge "CloudWatch Alarm State Change" event
 * → playbook and service → open or join the incident → StartExecution named after the incident,
 * so a redelivered event starts nothing twice. OK records recovery; INSUFFICIENT_DATA counts
 * toward the data-collection failure rate. Bad events go to the dead-letter records, never into
 * a crash loop and never into a half-written incident.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../yaml/zod';
import { activeAnomalyWrite, clearActiveAnomaly, recordActiveAnomaly, recordDataCollection, type BreakerChange, type BreakerConfig, type BreakerTables } from '../breaker';
import { allAlarmsOk, appendEvent, recordAlarmOk, attachExecution, findOpenIncident, isLikelyRepeat, openOrJoinIncident, raiseSeverity, SEVERITIES, severityAtLeast, type IncidentTables, type Severity } from '../incident';
import type { MachineManifest } from '../compiled/manifest';
import { anomalyStartOf } from './anomaly-start';
import { breakerChangeEvent, severityFromRisk } from './core/common';
import { executionName, type ExecutionStarter } from './executions';
import type { IncidentRef } from './payload';

/** CloudWatch's time format (`2019-10-02T17:04:40.989+0000`) or ISO. */
const cwTime = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'a timestamp'));

const alarmState = z.looseObject({
  value: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA']),
  reason: z.optional(z.string()),
  reasonData: z.optional(z.string()),
  timestamp: cwTime,
});

export const alarmEventSchema = z.looseObject({
  version: z.optional(z.string()),
  id: z.string().check(z.minLength(1)),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  account: z.optional(z.string()),
  time: cwTime,
  region: z.optional(z.string()),
  resources: z.optional(z.array(z.string())),
  detail: z.looseObject({
    // CloudWatch's own limit on alarm names.
    alarmName: z.string().check(z.minLength(1), z.maxLength(255)),
    state: alarmState,
    previousState: z.optional(z.partial(alarmState)),
    configuration: z.optional(z.looseObject({ description: z.optional(z.string()), metrics: z.optional(z.array(z.unknown())) })),
  }),
});
export type AlarmEvent = z.infer<typeof alarmEventSchema>;

export type IntakeOutcome = 'started' | 'already_started' | 'joined' | 'recovery_recorded' | 'ok_not_counted' | 'no_open_incident' | 'insufficient_data' | 'dead_letter';

export interface IntakeResult {
  readonly outcome: IntakeOutcome;
  readonly incidentId?: string;
  readonly executionArn?: string;
  readonly reason?: string;
  /** Something wrong with the event that did not stop it (a severity the description declares that does not exist). */
  readonly warning?: string;
}

/**
 * In-process idempotency for one host: the same state change (alarm name, state, timestamp)
 * handled once; concurrent duplicates wait for the first and share its result. Powertools
 * idempotency does this in the trigger Lambda (DynamoDB-backed); the local engine uses this.
 */
export class RecentAlarmEvents {
  private readonly results = new Map<string, { at: number; result: Promise<IntakeResult> }>();
  /**
   * @param windowMs how long a handled state change is remembered. @default 3600000 (1 h, as the Lambda's)
   * @param maxEntries bound on memory. @default 10000
   */
  public constructor(
    private readonly windowMs = 3_600_000,
    private readonly maxEntries = 10_000,
  ) {}

  public run(key: string, now: number, handle: () => Promise<IntakeResult>): Promise<IntakeResult> {
    const hit = this.results.get(key);
    if (hit && now - hit.at < this.windowMs) return hit.result;
    const result = handle();
    this.results.set(key, { at: now, result });
    // A failure (infrastructure error) is not remembered: the redelivery must try again.
    result.catch(() => this.results.delete(key));
    if (this.results.size > this.maxEntries) this.results.delete(this.results.keys().next().value as string);
    return result;
  }
}

export interface IntakeDeps {
  /** Drops redelivered state changes before they reach DynamoDB (optional). */
  readonly recent?: RecentAlarmEvents;
  readonly doc: DynamoDBDocumentClient;
  readonly tables: IncidentTables & BreakerTables;
  readonly breakerConfig: BreakerConfig;
  readonly starter: ExecutionStarter;
  readonly machines: readonly MachineManifest[];
  now(): Date;
  /**
   * Records (and notifies: on-call SRE + team lead) breaker changes caused by an alarm: on the
   * incident it opened or raised, or on none (`undefined`) for a trip by INSUFFICIENT_DATA. The
   * engine and the trigger Lambda pass core's `recordBreakerChangesOf`. Without it changes on an
   * incident are only written to its timeline, and a trip on none only to the breaker item.
   */
  readonly recordBreakerChanges?: (incidentId: string | undefined, changes: readonly BreakerChange[]) => Promise<void>;
  /**
   * Runs a likely repeat firing (an alarm this host has already seen on the open incident: one
   * counter write) in a lane of bounded concurrency, so that a storm's repeats never queue ahead
   * of a new incident's first steps. The local engine sets one: one process serves the storm and
   * every execution. The trigger Lambda needs none (one event per invocation).
   * @default repeats run at once, like any event
   */
  readonly repeatLane?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** `sre-agent/<playbook>/<service>[/<metric>...]` → the machine and the service. */
export function routeAlarm(alarmName: string, machines: readonly MachineManifest[]): { machine: MachineManifest; service: string } | { error: string } {
  for (const machine of machines) {
    if (machine.trigger.type !== 'alarm' || !alarmName.startsWith(machine.trigger.alarmNamePrefix)) continue;
    const service = alarmName.slice(machine.trigger.alarmNamePrefix.length).split('/')[0] || machine.trigger.defaultService;
    if (!service) return { error: `alarm "${alarmName}" names no service and playbook ${machine.playbook} has no default service` };
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(service)) return { error: `alarm "${alarmName.slice(0, 300)}": "${service.slice(0, 80)}${service.length > 80 ? '…' : ''}" is not a service name (lower case, digits and "-", at most 63 characters)` };
    return { machine, service };
  }
  return { error: `no playbook for alarm "${alarmName}" (names must start sre-agent/<playbook>/<service>/)` };
}

/** `severity=CRITICAL` or `severity: high` anywhere in the alarm's description (its AlarmDescription). */
const DECLARED_SEVERITY = /\bseverity\s*[=:]\s*([\w-]+)/i;

/**
 * The severity an alarm declares in its description, if any. An unknown word is a problem to
 * report, not a reason to drop the alarm: the incident opens at the playbook's severity.
 *
 * @example
 * declaredSeverity('p99 above 100 ms for 5 min. severity=CRITICAL') // { severity: 'CRITICAL' }
 * declaredSeverity('severity: urgent') // { problem: 'alarm description declares severity "urgent"; expected one of LOW, MEDIUM, HIGH, CRITICAL' }
 */
export function declaredSeverity(description: string | undefined): { severity?: Severity; problem?: string } {
  const word = DECLARED_SEVERITY.exec(description ?? '')?.[1];
  if (word === undefined) return {};
  const severity = word.toUpperCase() as Severity;
  if (SEVERITIES.includes(severity)) return { severity };
  return { problem: `alarm description declares severity "${word}"; expected one of ${SEVERITIES.join(', ')}` };
}

/**
 * The incident severity of an alarm: its playbook's risk (the upper end of a range), raised by
 * a severity the alarm declares, never lowered by it (under-rating an incident would keep it out
 * of the global breaker's count of HIGH anomalies).
 */
export function alarmIncidentSeverity(risk: string, declared: Severity | undefined): Severity {
  const fromRisk = severityFromRisk(risk);
  return declared !== undefined && !severityAtLeast(fromRisk, declared) ? declared : fromRisk;
}

const DEAD_LETTER_PK = 'DEADLETTER';

/** DynamoDB's limit on nested attributes, and well beyond any real alarm event (about 6 levels). */
export const MAX_EVENT_DEPTH = 32;
/** Characters of a bad event kept with its dead letter. */
const DEAD_LETTER_CHARS = 100_000;

/** How deep a JSON value nests, counted without recursion (a 100,000-deep array cannot overflow the stack). */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth]);
  }
  return max;
}

/** JSON text of any value, cut to `limit` characters; parts nested deeper than MAX_EVENT_DEPTH are written as "…". */
function boundedJson(value: unknown, limit: number): string {
  const write = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_EVENT_DEPTH) return '…';
    return Array.isArray(v) ? v.slice(0, 1000).map((x) => write(x, depth + 1)) : Object.fromEntries(Object.entries(v).slice(0, 1000).map(([k, x]) => [k, write(x, depth + 1)]));
  };
  const text = JSON.stringify(write(value ?? null, 0)) ?? 'null';
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** Keeps a bad event with its reason, for `GET /dead-letters` and the DLQ alarm. */
export async function recordDeadLetter(doc: DynamoDBDocumentClient, tables: IncidentTables, event: unknown, reason: string, at: Date): Promise<void> {
  await doc.send(new PutCommand({ TableName: tables.incidents, Item: { pk: DEAD_LETTER_PK, sk: `${at.toISOString()}#${randomUUID()}`, reason: reason.slice(0, 2000), event: boundedJson(event, DEAD_LETTER_CHARS) } }));
}

export async function listDeadLetters(doc: DynamoDBDocumentClient, tables: IncidentTables, limit = 100): Promise<{ at: string; reason: string; event: string }[]> {
  const out = await doc.send(new QueryCommand({ TableName: tables.incidents, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': DEAD_LETTER_PK }, ScanIndexForward: false, Limit: limit }));
  return (out.Items ?? []).map((i) => ({ at: String(i.sk).split('#')[0], reason: i.reason as string, event: i.event as string }));
}

function describeIssues(err: z.core.$ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
}

async function recordChanges(deps: IntakeDeps, incidentId: string, changes: readonly BreakerChange[]): Promise<void> {
  if (changes.length === 0) return;
  if (deps.recordBreakerChanges) return deps.recordBreakerChanges(incidentId, changes);
  for (const c of changes) await appendEvent(deps.doc, deps.tables, incidentId, breakerChangeEvent(c));
}

/** Handles one event. Never throws for a bad event (dead letter); throws only on infrastructure errors, which EventBridge retries. */
export async function handleAlarmEvent(raw: unknown, deps: IntakeDeps): Promise<IntakeResult> {
  const depth = jsonDepth(raw, MAX_EVENT_DEPTH);
  if (depth > MAX_EVENT_DEPTH) {
    const reason = `malformed alarm event: nested more than ${MAX_EVENT_DEPTH} levels deep (a CloudWatch alarm state change nests about 6)`;
    await recordDeadLetter(deps.doc, deps.tables, raw, reason, deps.now());
    return { outcome: 'dead_letter', reason };
  }
  const detail = (raw as { detail?: { alarmName?: unknown; state?: { value?: unknown; timestamp?: unknown } } } | null)?.detail;
  if (deps.recent && typeof detail?.alarmName === 'string' && typeof detail.state?.timestamp === 'string') {
    const key = `${detail.alarmName}\u0000${String(detail.state.value)}\u0000${detail.state.timestamp}`;
    return deps.recent.run(key, deps.now().getTime(), () => handleOnce(raw, deps));
  }
  return handleOnce(raw, deps);
}

async function handleOnce(raw: unknown, deps: IntakeDeps): Promise<IntakeResult> {
  const parsed = alarmEventSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = `malformed alarm event: ${describeIssues(parsed.error)}`;
    await recordDeadLetter(deps.doc, deps.tables, raw, reason, deps.now());
    return { outcome: 'dead_letter', reason };
  }
  const event = parsed.data;
  const now = deps.now();
  if (event.detail.state.value === 'INSUFFICIENT_DATA') {
    const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: false });
    // A trip belongs to no incident: on-call SRE + team lead are told (seed §3.2).
    if (changes.length > 0) await deps.recordBreakerChanges?.(undefined, changes);
    return { outcome: 'insufficient_data', reason: `alarm ${event.detail.alarmName} has insufficient data` };
  }
  const route = routeAlarm(event.detail.alarmName, deps.machines);
  if ('error' in route) {
    await recordDeadLetter(deps.doc, deps.tables, raw, route.error, now);
    return { outcome: 'dead_letter', reason: route.error };
  }
  const { machine, service } = route;

  if (event.detail.state.value === 'OK') {
    const open = await findOpenIncident(deps.doc, deps.tables, machine.playbook, service);
    if (!open) return { outcome: 'no_open_incident' };
    // Counts only for an alarm that fired on this incident, once per firing: a flood of OK events
    // (redelivered, or forged) cannot talk the global breaker's count of active anomalies down.
    const counted = await recordAlarmOk(deps.doc, deps.tables, open.id, event.detail.alarmName, event.detail.state.timestamp);
    if (!counted) return { outcome: 'ok_not_counted', incidentId: open.id, reason: `alarm ${event.detail.alarmName} has no firing on ${open.id} that this OK follows` };
    await appendEvent(deps.doc, deps.tables, open.id, { at: new Date(event.detail.state.timestamp), type: 'alarm_ok', summary: `alarm ${event.detail.alarmName} back to OK`, data: { reason: event.detail.state.reason ?? null } });
    // The anomaly stops counting toward the global breaker once every alarm that fired on it is OK.
    if (allAlarmsOk(counted.alarms)) await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: open.id });
    return { outcome: 'recovery_recorded', incidentId: open.id };
  }

  const declared = declaredSeverity(event.detail.configuration?.description);
  const severity = alarmIncidentSeverity(machine.risk, declared.severity);
  // The alarm's first breaching datapoint, else CloudWatch's startDate, else the state change (lib/runtime/anomaly-start.ts).
  const start = anomalyStartOf(event.detail.state);
  const openOrJoin = () => openOrJoinIncident(deps.doc, deps.tables, {
    playbook: machine.playbook,
    service,
    severity,
    alarm: {
      name: event.detail.alarmName,
      reason: event.detail.state.reason,
      stateChangedAt: new Date(event.detail.state.timestamp).toISOString(),
      details: { eventId: event.id, region: event.region ?? null, ...(declared.problem ? { severityProblem: declared.problem } : {}) },
    },
    detectedAt: new Date(event.detail.state.timestamp),
    anomalyStartedAt: start.at,
    anomalyStart: { basis: start.basis, ...(start.fallback ? { fallback: start.fallback } : {}), ...(start.startDate ? { startDate: start.startDate } : {}) },
    // A HIGH or CRITICAL anomaly counts toward the global breaker (seed §3.2) in the same
    // transaction that opens its incident: counted exactly once, and before its execution starts.
    ...(severityAtLeast(severity, 'HIGH') ? { withOpening: (id: string) => [activeAnomalyWrite(deps.tables, id)] } : {}),
  });
  const opened = await (deps.repeatLane && isLikelyRepeat(deps.doc, deps.tables, machine.playbook, service, event.detail.alarmName) ? deps.repeatLane(openOrJoin) : openOrJoin());
  const { joined } = opened;
  let incident = opened.incident;
  // A joining alarm that declares a worse severity raises the incident's (never lowers it).
  const raised = joined && !severityAtLeast(incident.severity, severity) ? await raiseSeverity(deps.doc, deps.tables, incident.id, severity, now, { from: incident.severity, reason: `alarm ${event.detail.alarmName} declares severity=${severity}` }) : undefined;
  incident = raised ?? incident;
  // Only HIGH and CRITICAL anomalies count toward the global breaker (seed §3.2): the opening
  // counted it (above), or the join that raised the incident to HIGH or worse, or the firing that
  // makes an incident whose alarms had all gone back to OK active again, or the opener's retry
  // (idempotent per incident id), so other joins do not write the one GLOBAL item again.
  const firing = incident.alarms?.[event.detail.alarmName];
  const reactivated = joined && firing?.okAt !== undefined && Object.entries(incident.alarms ?? {}).every(([n, a]) => n === event.detail.alarmName || (a.okAt !== undefined && a.okAt >= a.lastAt));
  const high = severityAtLeast(incident.severity, 'HIGH');
  const countedAtOpening = opened.openedNow;
  if ((!joined || raised || reactivated) && high && !countedAtOpening) {
    const anomaly = await recordActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id, severity: incident.severity });
    await recordChanges(deps, incident.id, anomaly.changes);
  }
  /** Whether the count the opening made trips the global breaker: judged once the execution is on its way. */
  const tripCheck = async () => {
    if (!countedAtOpening || !high) return;
    const anomaly = await recordActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id, severity: incident.severity });
    await recordChanges(deps, incident.id, anomaly.changes);
  };
  const warning = declared.problem;
  if (joined && incident.executionArn) return { outcome: 'joined', incidentId: incident.id, executionArn: incident.executionArn, ...(warning ? { warning } : {}) };

  // The opener (or a redelivery of its event, or a retry after a crash before this point)
  // starts the execution; its name makes a second start a no-op.
  const ref: IncidentRef = { id: incident.id, playbook: incident.playbook, service: incident.service, severity: incident.severity, alarmName: event.detail.alarmName, ...(event.detail.state.reason ? { alarmReason: event.detail.state.reason } : {}) };
  const started = await deps.starter.startExecution({
    playbook: machine.playbook,
    name: executionName(incident.id),
    input: { incident: ref, context: { alarm_state_at: ref.alarmName ? new Date(event.detail.state.timestamp).toISOString() : null } },
  });
  // Beside the execution, not in front of it (its `Start incident` state may set the ARN first):
  // records the execution and its `execution_started` event once; a no-op once recorded.
  await attachExecution(deps.doc, deps.tables, incident.id, started.executionArn, now);
  await tripCheck();
  return { outcome: joined ? 'joined' : started.alreadyStarted ? 'already_started' : 'started', incidentId: incident.id, executionArn: started.executionArn, ...(warning ? { warning } : {}) };
}
