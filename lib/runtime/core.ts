/**
 * The core operations the compiled machines call (`${Fn_incident}`, `${Fn_breaker}`,
 * `${Fn_evaluate}`, `${Fn_escalate}`, `${Fn_report}`, `${Fn_approval_request}`): one function per
 * `op`, shared by the Lambda handlers and the local engine. I/O comes in through `CoreDeps`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { ApprovalLinks, Notifier } from '../approval/notify';
import type { OnCallLookup, Person } from '../approval/oncall';
import { closeApprovals, findApprovalForStep, requestApproval, type ApprovalRecord, type ApprovalTables } from '../approval/store';
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
import { IncidentNotFoundError } from '../incident/errors';
import { appendEvent, attachExecution, getIncident, getTimeline, incidentOfExecution, isFinalStatus, linkExecution, listIncidents, openOrJoinIncident, pinPlaybookHash, raiseSeverity, readIncidentWithSteps, recordRecoveryCheck, SEVERITIES, transitionIfStatus, transitionIncident, type Incident, type IncidentTables, type NewTimelineEvent, type Severity } from '../incident';
import { evaluateStepCondition, verifyRecovery, type MetricSource } from '../metrics';
import type { MetricCatalogue } from '../playbook/catalogue';
import type { CompiledPlaybooks, CompiledStep } from '../compiled/manifest';
import { approvalBinding, type ApprovalBinding } from '../policy/guard';
import type { Policy } from '../policy/policy';
import { renderText, resolveParams, resolveTargets, storedVariables } from '../actions/resolve';
import { isTemplate, parseCondition, parseTemplate, variablesOf, type Condition, type Value } from '../compiled/expression';
import { renderIncidentReport } from '../report/timeline';
import { APPROVAL_REJECTED_ERROR } from '../approval/callback';
import { notifyApprovalEscalated, notifyApprovalRequest, notifyBreakerChange, notifyExecutionEnded, notifyIncidentEscalated, notifyIncidentResolved } from './notifications';
import { PlaybookVersionError, RecoveryNotVerifiedError, UnknownOperationError } from './errors';
import { executionRefsSchema, executionVariables, incidentRefSchema, type ExecutionRefs, type IncidentRef } from './payload';

export type CoreTables = IncidentTables & BreakerTables & ApprovalTables & { readonly reports?: string };

/** Releases a waiting task (SendTaskSuccess / SendTaskFailure in AWS, the engine's tokens locally). */
export interface TaskReleaser {
  succeed(taskToken: string, output: unknown): unknown;
  fail(taskToken: string, error: string, cause: string): unknown;
}

export interface CoreDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: CoreTables;
  /** The compiled playbooks the function was deployed with: steps, approvers, hashes. */
  readonly playbooks: CompiledPlaybooks;
  /** The policy (service map for deployments and identities, binding of approvals). */
  readonly policy: Policy;
  /**
   * Releases an approval Task at once when its approval was decided while it escalated.
   * @default - the Task waits until its window ends
   */
  readonly tasks?: TaskReleaser;
  /**
   * Puts back the configuration and feature-flag changes of an incident (seed scenario 1: rate
   * limits and degraded features are temporary), when it resolves.
   * @default - changes stay; `sre-agent config undo` puts them back
   */
  readonly undoConfig?: (incidentId: string, actor: string) => Promise<{ readonly ran: boolean; readonly summary: string }>;
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

/**
 * The incident a payload names, as stored: its service, playbook and severity come from
 * DynamoDB, never from the payload (a forged invocation cannot point a breaker at another service).
 * @throws IncidentNotFoundError
 */
export async function storedRef(deps: CoreDeps, incident: { readonly id: string }): Promise<IncidentRef> {
  const i = await getIncident(deps.doc, deps.tables, incident.id);
  return refOf(i);
}

function refOf(i: Incident): IncidentRef {
  return { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity, ...(i.alarm?.name ? { alarmName: i.alarm.name } : {}), ...(i.alarm?.reason ? { alarmReason: i.alarm.reason } : {}) };
}

/** Names of the steps of a playbook that wait for approval (whose records may need closing). */
function approvalSteps(deps: CoreDeps, playbook: string): string[] | undefined {
  const m = deps.playbooks.get(playbook);
  return m ? m.steps.filter((s) => s.mode === 'approval').map((s) => s.name) : undefined;
}

/**
 * Closes an incident's open approvals (PENDING, or APPROVED and never used) because its
 * execution is gone; each closed one goes on the timeline.
 */
export async function closeIncidentApprovals(deps: CoreDeps, incident: Pick<Incident, 'id' | 'playbook'>, status: 'CANCELLED' | 'EXPIRED', reason: string): Promise<ApprovalRecord[]> {
  const now = deps.now();
  const closed = await closeApprovals(deps.doc, deps.tables, incident.id, status, reason, now, approvalSteps(deps, incident.playbook));
  for (const rec of closed) {
    await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'approval_closed', step: rec.step, summary: `approval ${rec.approvalId} for ${rec.step} ${status}: ${reason}`, data: { approvalId: rec.approvalId, status } });
  }
  return closed;
}

/** `Error: cause` of a Step Functions error output, said once. @internal exported for tests */
export function errorSummary(error: unknown): string {
  const e = error as { Error?: string; Cause?: string } | null | undefined;
  if (!e) return 'no error details';
  let cause = e.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    cause = parsed.errorMessage ?? cause;
  } catch {
    /* Cause is plain text */
  }
  const name = e.Error ?? 'Error';
  // The local engine repeats the error name as its cause; AWS often leaves the cause empty.
  if (!cause || cause === name) return name === 'States.Timeout' ? 'States.Timeout: no answer within the time allowed' : name;
  return `${name}: ${cause}`;
}

// ---- Fn_incident ----------------------------------------------------------------------------

const startSchema = z.object({
  op: z.literal('start'),
  playbook: z.string(),
  /** The content hash the machine was compiled from; it must be the one this function bundles. */
  playbook_hash: z.string().regex(/^[0-9a-f]{64}$/),
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
  const compiled = deps.playbooks.get(p.playbook);
  if (!compiled) throw new PlaybookVersionError(`playbook ${p.playbook} is not among the compiled playbooks this function was deployed with`);
  if (compiled.hash !== p.playbook_hash) {
    throw new PlaybookVersionError(`the machine of playbook ${p.playbook} was compiled from version ${p.playbook_hash.slice(0, 12)}…, this function bundles ${compiled.hash.slice(0, 12)}…: deploy the machines and the functions together`);
  }
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
    if (p.execution && p.executionArn) await linkExecution(deps.doc, deps.tables, p.execution, incident.id);
  }
  // The incident runs this playbook version, under this execution: the guard compares both.
  const pinned = await pinPlaybookHash(deps.doc, deps.tables, ref.id, p.playbook_hash);
  if (p.executionArn && pinned.executionArn !== p.executionArn) await attachExecution(deps.doc, deps.tables, ref.id, p.executionArn, now);
  // Only from OPEN: a redelivered start (or a restarted execution) leaves a later status alone.
  await transitionIfStatus(deps.doc, deps.tables, ref.id, 'OPEN', 'MITIGATING', now, { actor: 'agent', reason: `playbook ${p.playbook} started` });
  return { incident: refOf(pinned), context: { ...(p.input.context ?? {}) } };
}

const recordSchema = executionRefsSchema.extend({ op: z.literal('record'), event: z.string(), step: z.string(), error: z.unknown().optional() });

/** Records why a step did not run (not_run, refused, approval_rejected, approval_expired). */
export async function recordStepEvent(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = recordSchema.parse(payload);
  const now = deps.now();
  await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: p.event, step: p.step, summary: `${p.step}: ${p.event.replace(/_/g, ' ')} (${errorSummary(p.error)})`, data: { error: (p.error as object) ?? null } });
  // The last level's window closed unanswered: the record can never be decided now.
  if (p.event === 'approval_expired') await closeApprovals(deps.doc, deps.tables, p.incident.id, 'EXPIRED', 'nobody decided before the last escalation level\'s window closed', now, [p.step]);
}

const finishSchema = executionRefsSchema.extend({ op: z.enum(['resolve', 'close']) });

/** How recent a `true` recovery check must be for the agent to resolve on it. */
export const RECOVERY_CHECK_MAX_AGE_SECONDS = 15 * 60;

/**
 * `Resolve incident` / `Close check`: RESOLVED, and the breakers told the service recovered. An
 * alarm incident resolves only on the recovery check its playbook stored (a recent `true`): a
 * forged invocation cannot resolve an incident, nor reset its service's breaker, by saying so.
 * @throws RecoveryNotVerifiedError
 */
export async function resolveIncident(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = finishSchema.parse(payload);
  const now = deps.now();
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  // Someone resolved it while it was escalated (`sre-agent resolve`): all done then, by that path.
  if (incident.status === 'RESOLVED') return;
  if (p.op === 'resolve') {
    const check = incident.recovery;
    const age = check ? (now.getTime() - Date.parse(check.at)) / 1000 : Number.POSITIVE_INFINITY;
    if (check?.result !== 'true' || age > RECOVERY_CHECK_MAX_AGE_SECONDS) {
      throw new RecoveryNotVerifiedError(`${incident.id}: no recovery verified in the last ${RECOVERY_CHECK_MAX_AGE_SECONDS / 60} min (latest check: ${check ? `${check.result} at ${check.at}` : 'none'}); not resolving`);
    }
  }
  const reason = p.op === 'resolve' ? 'recovery verified' : 'check complete';
  const ref = refOf(incident);
  await transitionIncident(deps.doc, deps.tables, incident.id, 'RESOLVED', now, { actor: 'agent', reason });
  await notifyIncidentResolved(deps, { ...p, incident: ref }, reason);
  await recordBreakerChanges(deps, ref, await recordRecovery(deps.doc, deps.tables, deps.breakerConfig, now, incident.service));
  await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id });
  await undoConfigOnResolve(deps, incident.id, 'agent');
}

/** Undoes an incident's configuration changes when it resolves; a failure is recorded, never fatal. */
async function undoConfigOnResolve(deps: CoreDeps, incidentId: string, actor: string): Promise<void> {
  if (!deps.undoConfig) return;
  try {
    await deps.undoConfig(incidentId, actor);
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, { at: deps.now(), type: 'config_undo_failed', summary: `configuration changes not undone (${(err as Error).name}: ${(err as Error).message}); run sre-agent config undo ${incidentId}`, data: { error: (err as Error).message } });
  }
}

/**
 * A person resolves an incident (`sre-agent resolve`, the dashboard): RESOLVED with their name
 * and reason, its execution stopped (nothing acts on it any more), its open approvals cancelled.
 * A hand resolve is not a recovery: the service's breaker and attempt count are left as they are.
 * @throws InvalidTransitionError when the incident is already RESOLVED or FAILED
 */
export async function resolveByHand(deps: CoreDeps, incidentId: string, by: { readonly person: string; readonly reason: string }, stopExecution?: (executionArn: string, cause: string) => Promise<unknown>): Promise<Incident> {
  const now = deps.now();
  const resolved = await transitionIncident(deps.doc, deps.tables, incidentId, 'RESOLVED', now, { actor: `person:${by.person}`, reason: by.reason });
  const why = `resolved by hand by ${by.person}: ${by.reason}`;
  await closeIncidentApprovals(deps, resolved, 'CANCELLED', why);
  if (resolved.executionArn && stopExecution) {
    try {
      await stopExecution(resolved.executionArn, why);
      await appendEvent(deps.doc, deps.tables, incidentId, { at: now, type: 'execution_stopped', actor: `person:${by.person}`, summary: `execution stopped: ${why}`, data: { executionArn: resolved.executionArn } });
    } catch (err) {
      // Already ended (the usual case for an escalated incident at its last level): nothing to stop.
      await appendEvent(deps.doc, deps.tables, incidentId, { at: now, type: 'execution_stop_failed', summary: `execution not stopped (${(err as Error).name}: ${(err as Error).message})`, data: { executionArn: resolved.executionArn } });
    }
  }
  await notifyIncidentResolved(deps, { incident: refOf(resolved), context: {}, steps: {} }, why);
  await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId });
  await undoConfigOnResolve(deps, incidentId, `person:${by.person}`);
  return resolved;
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
    await closeIncidentApprovals(deps, incident, 'CANCELLED', `its execution ended (${p.status})`);
    return { outcome: 'recorded', incidentId: id };
  }
  const to = p.status === 'ABORTED' ? 'ESCALATED' : 'FAILED';
  const moved = await transitionIncident(deps.doc, deps.tables, id, to, now, { actor: 'agent', reason: `playbook ${why}` });
  await closeIncidentApprovals(deps, moved, 'CANCELLED', `its execution ended (${p.status})`);
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
  const incident = await storedRef(deps, p.incident);
  const decision = await gate(deps.doc, deps.tables, deps.breakerConfig, now, { service: incident.service });
  await recordBreakerChanges(deps, incident, decision.changes);
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
  const incident = await storedRef(deps, p.incident);
  // Seed §3.2: a read-only diagnostic that fails is data collection failing (the agent may be
  // judging blind), not a remediation that failed; only mutating steps count toward the
  // consecutive-failure breaker. Which one it is comes from the compiled step, not the payload.
  const compiled = deps.playbooks.step(incident.playbook, p.step);
  const mutating = compiled?.mutates ?? true;
  let changes: BreakerChange[];
  let counted: string;
  if (mutating) {
    const r = await recordRemediationResult(deps.doc, deps.tables, deps.breakerConfig, now, { service: incident.service, ok: false });
    changes = r.changes;
    counted = `${r.consecutiveFailures} consecutive remediation failure(s)`;
  } else {
    const r = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: false });
    changes = r.changes;
    counted = 'counted as a data-collection failure (read-only step)';
  }
  await appendEvent(deps.doc, deps.tables, incident.id, {
    at: now,
    type: 'step_failed',
    step: p.step,
    summary: `${p.step} failed (${errorSummary(p.error)}); ${p.on_fail === 'skip' ? 'skipping to the next step' : 'aborting and escalating'}; ${counted}`,
    data: { error: (p.error as object) ?? null, on_fail: p.on_fail, mutating },
  });
  await recordBreakerChanges(deps, incident, changes);
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
  const incident = await storedRef(deps, p.incident);
  const e = await evaluateStepCondition({ condition, variables: conditionVariables(condition, executionVariables({ ...p, incident }), deps.catalogue), metrics: deps.metrics, catalogue: deps.catalogue, service: incident.service, now });
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: e.missing.length === 0 });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'condition_evaluated',
    step: p.step,
    summary: `${p.step}: "${p.condition}" is ${e.result}${e.missing.length ? ` (no data: ${e.missing.join(', ')})` : ''}`,
    data: { values: e.values, missing: e.missing },
  });
  await recordBreakerChanges(deps, incident, changes);
  return { result: e.result, values: e.values };
}

/** `Verify recovery`: the playbook's primary detection rules no longer hold. */
export async function verifyIncidentRecovery(payload: unknown, deps: CoreDeps): Promise<{ result: string }> {
  const p = verifySchema.parse(payload);
  const now = deps.now();
  // Recovery is judged on fresh metrics, never on what earlier steps read.
  const variables = Object.fromEntries(Object.entries(executionVariables(p)).filter(([n]) => !(n in deps.catalogue.metrics) && !(n in deps.catalogue.aliases)));
  const incident = await storedRef(deps, p.incident);
  const v = await verifyRecovery(p.rules, { variables, metrics: deps.metrics, catalogue: deps.catalogue, service: incident.service, now });
  await recordRecoveryCheck(deps.doc, deps.tables, incident.id, v.result as 'true' | 'false' | 'unknown', now);
  // Missing data is unknown, never recovered, and counts toward the data-collection failure rate.
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: v.missing.length === 0 });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'recovery_checked',
    summary: v.result === 'true' ? 'recovery verified: detection rules no longer hold' : v.result === 'false' ? `not recovered: ${v.violated.join('; ')}` : `recovery unknown: ${v.unknown.join('; ') || 'no checkable rule'}`,
    data: { ...v },
  });
  await recordBreakerChanges(deps, incident, changes);
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
    await notifyIncidentEscalated(deps, { ...p, incident: refOf(incident) }, p.playbook);
  }
  // Severity as stored: a payload cannot count itself into (or out of) the global breaker.
  await recordActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id, severity: incident.severity }).then((r) => recordBreakerChanges(deps, refOf(incident), r.changes));
}

// ---- Fn_approval_request ------------------------------------------------------------------

const approvalSchema = executionRefsSchema.extend({
  op: z.literal('request'),
  taskToken: z.string().min(1).max(2048),
  step: z.string(),
  level: z.number().int().min(2).max(4),
  /** This level's window (sped up locally); never longer than the compiled one. */
  timeout_seconds: z.number().positive(),
  /** The execution waiting (`$$.Execution.Id`). */
  execution: z.string().min(1).optional(),
});

/**
 * A compiled step's parameters resolved from stored state (the incident and the outputs its
 * earlier steps recorded) and the binding an approval of it names: the same resolution the
 * action dispatcher does, so the guard finds the same binding.
 */
export async function resolvedStep(deps: CoreDeps, incidentId: string, compiled: CompiledStep): Promise<{ params: Record<string, unknown>; binding: ApprovalBinding; vars: Record<string, unknown> }> {
  const stored = await readIncidentWithSteps(deps.doc, deps.tables, incidentId);
  if (!stored) throw new IncidentNotFoundError(incidentId);
  const vars = storedVariables(stored.incident, stored.steps, (s) => deps.policy.services.entry(s).deployment);
  const params = resolveParams(compiled, compiled.params, vars, compiled.name);
  return { params, binding: approvalBinding(compiled.action, params, resolveTargets(compiled.targets, vars), deps.policy), vars };
}

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
 * metrics, and sends it to the level's recipients with the evidence so far and each approver's
 * links. What is approved, by whom, comes from the compiled step the function bundles and from
 * stored state; the payload only says which incident, step and level, and the task token. An
 * approval decided while it escalated releases this level's task at once.
 */
export async function requestStepApproval(payload: unknown, deps: CoreDeps): Promise<{ approvalId: string; message: string }> {
  const p = approvalSchema.parse(payload);
  const now = deps.now();
  const incident = await storedRef(deps, p.incident);
  const compiled = deps.playbooks.step(incident.playbook, p.step);
  const machine = deps.playbooks.get(incident.playbook);
  if (!compiled || !machine || compiled.mode !== 'approval') throw new PlaybookVersionError(`playbook ${incident.playbook} has no approval step "${p.step}" in the compiled playbooks of this function`);
  const { params, binding, vars } = await resolvedStep(deps, incident.id, compiled);
  const windows = [machine.escalationSeconds.oncall_sre, machine.escalationSeconds.team_lead, machine.escalationSeconds.director];
  const window = windows[p.level - 2] ?? windows[0]!;
  // Locally the engine speeds windows up; a payload can shorten a window, never lengthen it.
  const timeout = Math.min(p.timeout_seconds, window);
  const total = (timeout / window) * windows.slice(p.level - 2).reduce((a, b) => a + b, 0);
  Object.assign(vars, executionVariables({ ...p, incident }), vars);
  let message = compiled.approvalMessage ?? `Approve ${compiled.action} for step ${p.step} (risk ${compiled.risk})?`;
  if (isTemplate(message)) {
    const t = parseTemplate(message);
    const wanted = variablesOf(t).filter((n) => !(n in vars));
    const shown = await displayMetrics(wanted, deps, incident.service);
    Object.assign(vars, shown.values);
    // An output of a step that did not run shows as (unavailable): the request still goes out.
    message = renderText(message, vars);
    // Metrics read for the message count toward the data-collection failure rate, as conditions do.
    if (Object.keys(shown.values).length > 0) {
      const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: shown.missing.length === 0 });
      await recordBreakerChanges(deps, incident, changes);
    }
  }
  const rec = await requestApproval(deps.doc, deps.tables, {
    incidentId: incident.id,
    step: p.step,
    action: compiled.action,
    level: p.level,
    approvers: compiled.approvers,
    minApprovals: compiled.minApprovals,
    taskToken: p.taskToken,
    timeoutSeconds: timeout,
    totalSeconds: total,
    message,
    risk: compiled.risk,
    binding,
    params,
    ...(compiled.note ? { note: compiled.note } : {}),
    ...(p.execution ? { executionArn: p.execution } : {}),
  }, now);
  if (rec.status !== 'PENDING') {
    // Decided at a window's edge, while the approval escalated: this level's task goes on at once.
    await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'approval_already_decided', step: p.step, summary: `approval ${rec.approvalId} for ${p.step} was ${rec.status} while it escalated to level ${p.level}; the playbook goes on with that decision`, data: { approvalId: rec.approvalId, level: p.level, status: rec.status } });
    if (rec.status === 'APPROVED') await deps.tasks?.succeed(p.taskToken, { approvalId: rec.approvalId, decisions: rec.decisions });
    else {
      const by = rec.decisions.find((d) => d.decision === 'reject');
      await deps.tasks?.fail(p.taskToken, APPROVAL_REJECTED_ERROR, `${by ? `${by.person} (${by.role})` : 'an approver'} rejected ${p.step}${by?.reason ? `: ${by.reason}` : ''}`);
    }
    return { approvalId: rec.approvalId, message };
  }
  const current = await getIncident(deps.doc, deps.tables, incident.id);
  if (current.status === 'MITIGATING' || current.status === 'OPEN') {
    if (current.status === 'OPEN') await transitionIncident(deps.doc, deps.tables, incident.id, 'MITIGATING', now, { actor: 'agent' });
    await transitionIncident(deps.doc, deps.tables, incident.id, 'AWAITING_APPROVAL', now, { actor: 'agent', step: p.step });
  }
  await appendEvent(deps.doc, deps.tables, incident.id, {
    at: now,
    type: 'approval_requested',
    step: p.step,
    summary: `approval requested from ${compiled.approvers.join(' + ')} (level ${p.level}) for ${p.step}: ${message.trim()}`,
    data: { approvalId: rec.approvalId, level: p.level, expiresAt: rec.expiresAt, levelExpiresAt: rec.levelExpiresAt ?? null, params, binding },
  });
  await notifyApprovalRequest(deps, { refs: { ...p, incident }, step: p.step, action: compiled.action, level: p.level, risk: compiled.risk, note: compiled.note, message, record: rec });
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
  if (incident.status === 'FAILED') return { result: 'stop' };
  // No detection rule to check: a recovery can never be seen, so the checks at level 4 stop.
  if (p.rules.length === 0) return { result: 'stop' };
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
      throw new UnknownOperationError(fn, op);
  }
}
