/**
 * The core operations the compiled machines call (`${Fn_incident}`, `${Fn_breaker}`,
 * `${Fn_evaluate}`, `${Fn_escalate}`, `${Fn_report}`, `${Fn_approval_request}`): one function per
 * `op`, shared by the Lambda handlers and the local engine. I/O comes in through `CoreDeps`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ApprovalLinks, Notifier } from '../approval/notify';
import type { OnCallLookup, Person } from '../approval/oncall';
import { findApprovalForStep, requestApproval, type ApprovalRecord, type ApprovalTables } from '../approval/store';
import {
  clearActiveAnomaly,
  gate,
  recordActiveAnomaly,
  recordDataCollection,
  recordRecovery,
  recordRemediationResult,
  type BreakerChange,
  type BreakerConfig,
  type BreakerTables,
} from '../breaker';
import { appendEvent, attachExecution, getIncident, getTimeline, incidentOfExecution, isFinalStatus, linkExecution, listIncidents, openOrJoinIncident, raiseSeverity, SEVERITIES, transitionIfStatus, transitionIncident, type IncidentTables, type NewTimelineEvent, type Severity } from '../incident';
import { evaluateStepCondition, verifyRecovery, type MetricSource } from '../metrics';
import type { MetricCatalogue } from '../playbook/catalogue';
import { isTemplate, parseCondition, parseTemplate, renderTemplate, variablesOf, type Condition, type Value } from '../playbook/expression';
import { renderIncidentReport } from '../report/timeline';
import { notifyApprovalEscalated, notifyApprovalRequest, notifyBreakerChange, notifyExecutionEnded, notifyIncidentEscalated, notifyIncidentResolved } from './notifications';
import { executionRefsSchema, executionVariables, incidentRefSchema, type ExecutionRefs, type IncidentRef } from './payload';

export type CoreTables = IncidentTables & BreakerTables & ApprovalTables & { readonly reports?: string };

export interface CoreDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: CoreTables;
  readonly breakerConfig: BreakerConfig;
  readonly metrics: MetricSource;
  readonly catalogue: MetricCatalogue;
  now(): Date;
  /** Where reports go (a file folder locally, S3 or the table in AWS). */
  saveReport?(incidentId: string, markdown: string, knowledge: Record<string, unknown>): Promise<void>;
  /**
   * Sends approval requests, escalations, hand-overs, resolutions and breaker changes; every
   * outcome lands on the timeline (`notification_sent` / `notification_failed`).
   * @default - nothing is sent
   */
  readonly notifier?: Notifier;
  /**
   * Who holds a role now (rotation file, PagerDuty).
   * @default - nobody is resolved: notifications reach only the channels' own audiences, and the timeline says so
   */
  readonly oncall?: OnCallLookup;
  /**
   * One person's signed approve/reject links for one approver role of a record (lib/approval/links).
   * @default - requests carry no links
   */
  readonly approvalLinks?: (record: ApprovalRecord, person: Person, role: string) => ApprovalLinks | undefined | Promise<ApprovalLinks | undefined>;
}

/** `LOW-MEDIUM` → MEDIUM: an incident is as severe as the worst its playbook may do. */
export function severityFromRisk(risk: string): Severity {
  const upper = risk.split('-').at(-1) as Severity;
  return ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(upper) ? upper : 'MEDIUM';
}

/** The timeline event of one breaker change. */
export function breakerChangeEvent(c: BreakerChange): NewTimelineEvent {
  return {
    at: c.at,
    type: 'breaker_changed',
    summary: `${c.scope === 'global' ? 'global breaker' : `breaker of ${c.service}`} ${c.from} → ${c.to}: ${c.reason} (notify ${c.notify.join(' + ')})`,
    data: { ...c },
  };
}

/**
 * Writes breaker changes to the incident's timeline and tells the people of `change.notify`
 * (seed §3.2: on-call SRE + team lead for the global breaker, the service owner for a service).
 * A service breaker that opens also raises the priority of the service's ticket, which is its
 * incident: one severity level up (`severity_raised`), before the owner is told.
 */
export async function recordBreakerChanges(deps: CoreDeps, incident: IncidentRef, changes: readonly BreakerChange[]): Promise<void> {
  let current = incident;
  for (const c of changes) {
    await appendEvent(deps.doc, deps.tables, incident.id, breakerChangeEvent(c));
    if (c.scope === 'service' && c.to === 'OPEN' && c.service === incident.service) {
      const { severity } = await getIncident(deps.doc, deps.tables, incident.id);
      const up = SEVERITIES[Math.min(SEVERITIES.indexOf(severity) + 1, SEVERITIES.length - 1)] as Severity;
      const raised = await raiseSeverity(deps.doc, deps.tables, incident.id, up, c.at, { from: severity, reason: `the breaker of ${c.service} opened: remediation stopped, ticket priority raised (seed §3.2)` });
      if (raised) current = { ...current, severity: raised.severity };
    }
    await notifyBreakerChange(deps, current, c);
  }
}

/**
 * A breaker reset by a person (`sre-agent breaker reset`): each change goes on the timeline of
 * every open incident it concerns (the service's; all of them for the global breaker). Nobody
 * is notified: the person who reset it knows. Returns the incidents written to. With no open
 * incident the breaker item itself keeps the change (cause, reason, actor, time).
 */
export async function recordBreakerReset(deps: CoreDeps, changes: readonly BreakerChange[]): Promise<string[]> {
  if (changes.length === 0) return [];
  const open = (await listIncidents(deps.doc, deps.tables, { limit: 10_000 })).filter((i) => !isFinalStatus(i.status));
  const written: string[] = [];
  for (const c of changes) {
    for (const incident of open.filter((i) => c.scope === 'global' || i.service === c.service)) {
      await appendEvent(deps.doc, deps.tables, incident.id, breakerChangeEvent(c));
      written.push(incident.id);
    }
  }
  return written;
}

/**
 * `recordBreakerChanges` for callers that know only the incident id (the action dispatcher's
 * attempt budget), or no incident at all: a trip by failing data collection (INSUFFICIENT_DATA
 * alarms) belongs to none, so the people of `change.notify` are told and the breaker item keeps
 * the change (the gate's `step_skipped` events then show it on every incident it holds back).
 */
export async function recordBreakerChangesOf(deps: CoreDeps, incidentId: string | undefined, changes: readonly BreakerChange[]): Promise<void> {
  if (changes.length === 0) return;
  if (incidentId === undefined) {
    // No timeline to record the page on: the notifier's own log and the breaker item keep it.
    for (const c of changes) await notifyBreakerChange(deps, undefined, c);
    return;
  }
  const i = await getIncident(deps.doc, deps.tables, incidentId);
  await recordBreakerChanges(deps, { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity }, changes);
}

function errorSummary(error: unknown): string {
  const e = error as { Error?: string; Cause?: string } | null | undefined;
  if (!e) return 'no error details';
  let cause = e.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    cause = parsed.errorMessage ?? cause;
  } catch {
    /* Cause is plain text */
  }
  return `${e.Error ?? 'Error'}${cause ? `: ${cause}` : ''}`;
}

// ---- Fn_incident ----------------------------------------------------------------------------

const startSchema = z.object({
  op: z.literal('start'),
  playbook: z.string(),
  kind: z.enum(['alarm', 'schedule']),
  service: z.string().nullish(),
  risk: z.string(),
  input: z.looseObject({ incident: incidentRefSchema.optional(), context: z.record(z.string(), z.unknown()).optional() }),
  /** The execution's name and ARN (`$$.Execution`); absent in payloads built by hand. */
  execution: z.string().min(1).optional(),
  executionArn: z.string().min(1).optional(),
});

/** `Start incident`: takes the incident the trigger opened, or opens a check record for a schedule. */
export async function startIncident(payload: unknown, deps: CoreDeps): Promise<{ incident: IncidentRef; context: Record<string, unknown> }> {
  const p = startSchema.parse(payload);
  const now = deps.now();
  let ref = p.input.incident;
  if (!ref) {
    const service = p.service ?? 'platform';
    const { incident } = await openOrJoinIncident(deps.doc, deps.tables, {
      playbook: p.playbook,
      service,
      severity: severityFromRisk(p.risk),
      alarm: { name: p.kind === 'schedule' ? `schedule/${p.playbook}` : `manual/${p.playbook}` },
      detectedAt: now,
      anomalyStartedAt: now,
    });
    ref = { id: incident.id, playbook: incident.playbook, service: incident.service, severity: incident.severity };
    // Not named after the incident (a scheduled run): remember which incident it works on.
    if (p.execution && p.executionArn) {
      await linkExecution(deps.doc, deps.tables, p.execution, incident.id);
      if (!incident.executionArn) await attachExecution(deps.doc, deps.tables, incident.id, p.executionArn, now);
    }
  }
  // Only from OPEN: a redelivered start (or a restarted execution) leaves a later status alone.
  await transitionIfStatus(deps.doc, deps.tables, ref.id, 'OPEN', 'MITIGATING', now, { actor: 'agent', reason: `playbook ${p.playbook} started` });
  return { incident: ref, context: { ...(p.input.context ?? {}) } };
}

const recordSchema = executionRefsSchema.extend({ op: z.literal('record'), event: z.string(), step: z.string(), error: z.unknown().optional() });

/** Records why a step did not run (not_run, refused, approval_rejected, approval_expired). */
export async function recordStepEvent(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = recordSchema.parse(payload);
  await appendEvent(deps.doc, deps.tables, p.incident.id, { at: deps.now(), type: p.event, step: p.step, summary: `${p.step}: ${p.event.replace(/_/g, ' ')} (${errorSummary(p.error)})`, data: { error: (p.error as object) ?? null } });
}

const finishSchema = executionRefsSchema.extend({ op: z.enum(['resolve', 'close']), actor: z.string().optional(), reason: z.string().optional() });

/** `Resolve incident` / `Close check`: RESOLVED, breakers told the service recovered. */
export async function resolveIncident(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = finishSchema.parse(payload);
  const now = deps.now();
  // Someone resolved it while it was escalated (`sre-agent resolve`): all done then, by that path.
  if ((await getIncident(deps.doc, deps.tables, p.incident.id)).status === 'RESOLVED') return;
  const reason = p.reason ?? (p.op === 'resolve' ? 'recovery verified' : 'check complete');
  await transitionIncident(deps.doc, deps.tables, p.incident.id, 'RESOLVED', now, { actor: p.actor ?? 'agent', reason });
  await notifyIncidentResolved(deps, p, reason);
  await recordBreakerChanges(deps, p.incident, await recordRecovery(deps.doc, deps.tables, deps.breakerConfig, now, p.incident.service));
  await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: p.incident.id });
}

const INCIDENT_EXECUTION = /^INC-\d{8}-\d{3,}$/;
const endedSchema = z.object({
  executionName: z.string().min(1),
  status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
  error: z.string().nullish(),
  cause: z.string().nullish(),
});
export type ExecutionEnd = z.input<typeof endedSchema>;

/** What `recordExecutionEnded` did to the incident. */
export type ExecutionEndedOutcome = 'failed' | 'escalated' | 'recorded' | 'already_final' | 'not_an_incident';

/**
 * An execution that ended before its playbook did: nothing works on its incident any more (in
 * AWS the execution-ended Lambda gets Step Functions' status change from EventBridge; the local
 * engine calls this when a run ends). The incident must not stay open for ever, holding its
 * (playbook, service) so that later alarms join a dead incident:
 * - FAILED or TIMED_OUT: the incident becomes FAILED (the next alarm opens a new one, within the
 *   breakers' limits) and leaves the global breaker's count of active anomalies;
 * - ABORTED (someone stopped it, in the console or by StopExecution): ESCALATED, people own it,
 *   later alarms join it and start nothing until it is resolved by hand;
 * - already ESCALATED: people own it; the end is only recorded. RESOLVED or FAILED: left alone.
 * The on-call SRE is paged whenever the status changes.
 *
 * A run not named after an incident (a scheduled one) is found through the link its Start
 * incident state wrote; one without (it failed before) is `not_an_incident`.
 * @throws IncidentNotFoundError for an incident-named execution without its incident
 */
export async function recordExecutionEnded(input: unknown, deps: CoreDeps): Promise<{ outcome: ExecutionEndedOutcome; incidentId?: string }> {
  const p = endedSchema.parse(input);
  const id = INCIDENT_EXECUTION.test(p.executionName) ? p.executionName : await incidentOfExecution(deps.doc, deps.tables, p.executionName);
  if (id === undefined) return { outcome: 'not_an_incident' };
  const incident = await getIncident(deps.doc, deps.tables, id);
  if (isFinalStatus(incident.status)) return { outcome: 'already_final', incidentId: id };
  const now = deps.now();
  const cause = p.cause && p.cause.length > 300 ? `${p.cause.slice(0, 300)}…` : p.cause;
  const why = `execution ${p.status}${p.error ? `: ${p.error}` : ''}${cause ? ` (${cause})` : ''}`;
  if (incident.status === 'ESCALATED') {
    await appendEvent(deps.doc, deps.tables, id, { at: now, type: 'execution_ended', summary: `playbook ${why}; the incident stays with the people it was escalated to`, data: { ...p } });
    return { outcome: 'recorded', incidentId: id };
  }
  const to = p.status === 'ABORTED' ? 'ESCALATED' : 'FAILED';
  const moved = await transitionIncident(deps.doc, deps.tables, id, to, now, { actor: 'agent', reason: `playbook ${why}` });
  if (to === 'FAILED') await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: id });
  const refs = { incident: { id, playbook: moved.playbook, service: moved.service, severity: moved.severity }, context: {}, steps: {} };
  await notifyExecutionEnded(deps, refs, to, why);
  return { outcome: to === 'FAILED' ? 'failed' : 'escalated', incidentId: id };
}

// ---- Fn_breaker -----------------------------------------------------------------------------

const gateSchema = executionRefsSchema.extend({ op: z.literal('gate'), step: z.string(), action: z.string() });

/** `<step>: breaker gate`: mode `auto` lets a mutating step go on; otherwise it is skipped and recorded. */
export async function breakerGate(payload: unknown, deps: CoreDeps): Promise<{ mode: string; reason: string }> {
  const p = gateSchema.parse(payload);
  const now = deps.now();
  const decision = await gate(deps.doc, deps.tables, deps.breakerConfig, now, { service: p.incident.service });
  await recordBreakerChanges(deps, p.incident, decision.changes);
  if (decision.mode !== 'auto') {
    await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: 'step_skipped', step: p.step, summary: `${p.step} skipped: ${decision.mode} (${decision.reason})` });
  }
  return { mode: decision.mode, reason: decision.reason };
}

const failureSchema = executionRefsSchema.extend({ op: z.literal('failure'), step: z.string(), action: z.string(), on_fail: z.enum(['skip', 'abort']), error: z.unknown().optional() });

/** `<step>: failed`: counts toward the consecutive-failure breaker, records the failure. */
export async function recordStepFailure(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = failureSchema.parse(payload);
  const now = deps.now();
  const { changes, consecutiveFailures } = await recordRemediationResult(deps.doc, deps.tables, deps.breakerConfig, now, { service: p.incident.service, ok: false });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'step_failed',
    step: p.step,
    summary: `${p.step} failed (${errorSummary(p.error)}); ${p.on_fail === 'skip' ? 'skipping to the next step' : 'aborting and escalating'}; ${consecutiveFailures} consecutive failure(s)`,
    data: { error: (p.error as object) ?? null, on_fail: p.on_fail },
  });
  await recordBreakerChanges(deps, p.incident, changes);
}

// ---- Fn_evaluate ----------------------------------------------------------------------------

const conditionSchema = executionRefsSchema.extend({ op: z.literal('condition'), step: z.string(), condition: z.string() });
const verifySchema = executionRefsSchema.extend({ op: z.literal('verify'), playbook: z.string(), rules: z.array(z.string()).default([]) });

/**
 * Variables for a condition. Outputs of earlier steps win over metrics, except in a re-check
 * (`still`, `after`, `for`): `redis_memory_usage still > 85% after cleanup` must read the metric
 * now, not the value the analysis step saw before the cleanup.
 */
export function conditionVariables(condition: Condition, vars: Record<string, unknown>, catalogue: MetricCatalogue): Record<string, unknown> {
  if (!condition.still && !condition.timing) return vars;
  return Object.fromEntries(Object.entries(vars).filter(([name]) => !(name in catalogue.metrics) && !(name in catalogue.aliases)));
}

/** `<step>: check condition`: true / false / unknown / pending, with the values used. */
export async function evaluateCondition(payload: unknown, deps: CoreDeps): Promise<{ result: string; values: Record<string, unknown> }> {
  const p = conditionSchema.parse(payload);
  const now = deps.now();
  const condition = parseCondition(p.condition);
  const e = await evaluateStepCondition({ condition, variables: conditionVariables(condition, executionVariables(p), deps.catalogue), metrics: deps.metrics, catalogue: deps.catalogue, service: p.incident.service, now });
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: e.missing.length === 0 });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'condition_evaluated',
    step: p.step,
    summary: `${p.step}: "${p.condition}" is ${e.result}${e.missing.length ? ` (no data: ${e.missing.join(', ')})` : ''}`,
    data: { values: e.values, missing: e.missing },
  });
  await recordBreakerChanges(deps, p.incident, changes);
  return { result: e.result, values: e.values };
}

/** `Verify recovery`: the playbook's primary detection rules no longer hold. */
export async function verifyIncidentRecovery(payload: unknown, deps: CoreDeps): Promise<{ result: string }> {
  const p = verifySchema.parse(payload);
  const now = deps.now();
  // Recovery is judged on fresh metrics, never on what earlier steps read.
  const variables = Object.fromEntries(Object.entries(executionVariables(p)).filter(([n]) => !(n in deps.catalogue.metrics) && !(n in deps.catalogue.aliases)));
  const v = await verifyRecovery(p.rules, { variables, metrics: deps.metrics, catalogue: deps.catalogue, service: p.incident.service, now });
  // Missing data is unknown, never recovered, and counts toward the data-collection failure rate.
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: v.missing.length === 0 });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'recovery_checked',
    summary: v.result === 'true' ? 'recovery verified: detection rules no longer hold' : v.result === 'false' ? `not recovered: ${v.violated.join('; ')}` : `recovery unknown: ${v.unknown.join('; ') || 'no checkable rule'}`,
    data: { ...v },
  });
  await recordBreakerChanges(deps, p.incident, changes);
  return { result: v.result };
}

// ---- Fn_escalate ----------------------------------------------------------------------------

const escalateSchema = executionRefsSchema.extend({ op: z.enum(['approval', 'incident']), step: z.string().optional(), level: z.number().int().optional(), playbook: z.string().optional() });

const LEVEL_NAMES: Record<number, string> = { 2: 'on-call SRE', 3: 'team lead / senior SRE', 4: 'engineering director + CTO' };

/**
 * An unanswered approval climbs one level (and pages it), or the incident is handed to humans
 * (ESCALATED, PagerDuty for the on-call SRE).
 */
export async function escalate(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = escalateSchema.parse(payload);
  const now = deps.now();
  if (p.op === 'approval') {
    await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: 'approval_escalated', step: p.step, summary: `approval for ${p.step} unanswered: escalated to level ${p.level} (${LEVEL_NAMES[p.level ?? 0] ?? '?'})`, data: { level: p.level } });
    if (deps.notifier && p.step && p.level !== undefined && LEVEL_NAMES[p.level]) {
      const pending = await findApprovalForStep(deps.doc, deps.tables, p.incident.id, p.step).catch(() => undefined);
      await notifyApprovalEscalated(deps, p, p.step, p.level, pending);
    }
    return;
  }
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  if (p.level !== undefined && p.level > 2) {
    if (incident.status === 'RESOLVED' || incident.status === 'FAILED') return;
    await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: 'incident_escalated', summary: `still not recovered: escalated to level ${p.level} (${LEVEL_NAMES[p.level] ?? '?'})`, data: { level: p.level } });
    await notifyIncidentEscalated(deps, p, p.playbook, p.level);
    return;
  }
  if (incident.status !== 'ESCALATED' && incident.status !== 'RESOLVED' && incident.status !== 'FAILED') {
    await transitionIncident(deps.doc, deps.tables, p.incident.id, 'ESCALATED', now, { actor: 'agent', reason: 'not recovered by the playbook; handed to the on-call SRE' });
    await notifyIncidentEscalated(deps, p, p.playbook);
  }
  await recordActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: p.incident.id, severity: p.incident.severity }).then((r) => recordBreakerChanges(deps, p.incident, r.changes));
}

// ---- Fn_approval_request ------------------------------------------------------------------

const approvalSchema = executionRefsSchema.extend({
  op: z.literal('request'),
  taskToken: z.string().min(1).max(2048),
  step: z.string(),
  action: z.string(),
  level: z.number().int().min(2).max(4),
  approvers: z.array(z.string()).min(1),
  min_approvals: z.number().int().positive(),
  approval_message: z.string().nullish(),
  note: z.string().nullish(),
  timeout_seconds: z.number().positive(),
  risk: z.string(),
});

/**
 * Latest value of each metric (or alias) named, for messages: `350ms`, `92%`, `12000/s`; a
 * metric without data shows as `unknown` (never 0) and is listed in `missing`.
 */
async function displayMetrics(names: readonly string[], deps: CoreDeps, service: string): Promise<{ values: Record<string, Value>; missing: string[] }> {
  const values: Record<string, Value> = {};
  const missing: string[] = [];
  const now = deps.now();
  for (const name of names) {
    const metric = deps.catalogue.metrics[name] ? name : deps.catalogue.aliases[name];
    const spec = metric ? deps.catalogue.metrics[metric] : undefined;
    if (!metric || !spec) continue;
    const points = await deps.metrics.series({ name: metric, service, from: new Date(now.getTime() - 2 * spec.period * 1000), to: now });
    const last = points.at(-1);
    if (last === undefined) missing.push(name);
    values[name] = last === undefined ? 'unknown' : formatMetric(last.value, spec.unit);
  }
  return { values, missing };
}

/** A base-unit value shown in the catalogue's unit. */
export function formatMetric(base: number, unit: string): string {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  switch (unit) {
    case 'Milliseconds':
      return `${round(base * 1000)}ms`;
    case 'Microseconds':
      return `${round(base * 1e6)}µs`;
    case 'Seconds':
      return `${round(base)}s`;
    case 'Percent':
      return `${round(base * 100)}%`;
    case 'Count/Second':
      return `${round(base)}/s`;
    default:
      return round(base);
  }
}

/**
 * Stores the approval record with its task token, renders the seed's approval_message from live
 * metrics, and sends it to the level's recipients with the evidence so far and each approver's links.
 */
export async function requestStepApproval(payload: unknown, deps: CoreDeps): Promise<{ approvalId: string; message: string }> {
  const p = approvalSchema.parse(payload);
  const now = deps.now();
  const vars: Record<string, unknown> = { ...executionVariables(p) };
  let message = p.approval_message ?? `Approve ${p.action} for step ${p.step} (risk ${p.risk})?`;
  if (isTemplate(message)) {
    const t = parseTemplate(message);
    const wanted = variablesOf(t).filter((n) => !(n in vars));
    const shown = await displayMetrics(wanted, deps, p.incident.service);
    Object.assign(vars, shown.values);
    message = String(renderTemplate(t, (n) => (n in vars ? (vars[n] as Value) : undefined)));
    // Metrics read for the message count toward the data-collection failure rate, as conditions do.
    if (Object.keys(shown.values).length > 0) {
      const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: shown.missing.length === 0 });
      await recordBreakerChanges(deps, p.incident, changes);
    }
  }
  const rec = await requestApproval(deps.doc, deps.tables, {
    incidentId: p.incident.id,
    step: p.step,
    action: p.action,
    level: p.level,
    approvers: p.approvers,
    minApprovals: p.min_approvals,
    taskToken: p.taskToken,
    timeoutSeconds: p.timeout_seconds,
    message,
    risk: p.risk,
  }, now);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  if (incident.status === 'MITIGATING' || incident.status === 'OPEN') {
    if (incident.status === 'OPEN') await transitionIncident(deps.doc, deps.tables, p.incident.id, 'MITIGATING', now, { actor: 'agent' });
    await transitionIncident(deps.doc, deps.tables, p.incident.id, 'AWAITING_APPROVAL', now, { actor: 'agent', step: p.step });
  }
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'approval_requested',
    step: p.step,
    summary: `approval requested from ${p.approvers.join(' + ')} (level ${p.level}) for ${p.step}: ${message.trim()}`,
    data: { approvalId: rec.approvalId, level: p.level, expiresAt: rec.expiresAt },
  });
  await notifyApprovalRequest(deps, { refs: p, step: p.step, action: p.action, level: p.level, risk: p.risk, note: p.note, message, record: rec });
  return { approvalId: rec.approvalId, message };
}

// ---- Fn_report ------------------------------------------------------------------------------

const reportSchema = executionRefsSchema.extend({ op: z.literal('report'), playbook: z.string() });

/** `Write report`: the seed §5.1 timeline report and the §5.2 knowledge-base entry. */
export async function writeReport(payload: unknown, deps: CoreDeps): Promise<{ markdown: string }> {
  const p = reportSchema.parse(payload);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  const timeline = await getTimeline(deps.doc, deps.tables, p.incident.id);
  const report = renderIncidentReport(incident, timeline, p.steps as ExecutionRefs['steps']);
  await deps.saveReport?.(incident.id, report.markdown, report.knowledge);
  await appendEvent(deps.doc, deps.tables, incident.id, { at: deps.now(), type: 'report_written', summary: `report written (${report.markdown.split('\n').length} lines)` });
  return { markdown: report.markdown };
}

const checkSchema = executionRefsSchema.extend({ op: z.literal('check'), playbook: z.string(), rules: z.array(z.string()).default([]) });

/** While escalated: has a person resolved the incident, or do the detection rules no longer hold? */
export async function checkIncidentRecovered(payload: unknown, deps: CoreDeps): Promise<{ result: string }> {
  const p = checkSchema.parse(payload);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  if (incident.status === 'RESOLVED') return { result: 'true' };
  if (p.rules.length === 0) return { result: 'unknown' };
  return verifyIncidentRecovery({ ...p, op: 'verify' }, deps);
}

/** Dispatch by `FunctionName` key and `op`, as the compiled machines call them. */
export async function runCore(fn: string, payload: unknown, deps: CoreDeps): Promise<unknown> {
  const op = (payload as { op?: string } | null)?.op;
  switch (`${fn}:${op}`) {
    case 'Fn_incident:start':
      return startIncident(payload, deps);
    case 'Fn_incident:record':
      return recordStepEvent(payload, deps);
    case 'Fn_incident:check':
      return checkIncidentRecovered(payload, deps);
    case 'Fn_incident:resolve':
    case 'Fn_incident:close':
      return resolveIncident(payload, deps);
    case 'Fn_breaker:gate':
      return breakerGate(payload, deps);
    case 'Fn_breaker:failure':
      return recordStepFailure(payload, deps);
    case 'Fn_evaluate:condition':
      return evaluateCondition(payload, deps);
    case 'Fn_evaluate:verify':
      return verifyIncidentRecovery(payload, deps);
    case 'Fn_escalate:approval':
    case 'Fn_escalate:incident':
      return escalate(payload, deps);
    case 'Fn_approval_request:request':
      return requestStepApproval(payload, deps);
    case 'Fn_report:report':
      return writeReport(payload, deps);
    default:
      throw new Error(`no core operation "${op}" on ${fn}`);
  }
}
