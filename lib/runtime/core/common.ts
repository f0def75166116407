/**
 * What several core function groups share: the incident as stored (never as a payload says),
 * breaker changes on the timeline, closing approvals, error summaries, the undo on resolve.
 */
import { closeApprovals, type ApprovalRecord } from '../../approval/store';
import type { BreakerChange } from '../../breaker';
import { appendEvent, getIncident, isFinalStatus, listIncidents, raiseSeverity, SEVERITIES, type Incident, type NewTimelineEvent, type Severity } from '../../incident';
import { notifyBreakerChange } from '../notifications';
import type { IncidentRef } from '../payload';
import type { CoreDeps } from './deps';

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

export function refOf(i: Incident): IncidentRef {
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

/** Undoes an incident's configuration changes when it resolves; a failure is recorded, never fatal. */
export async function undoConfigOnResolve(deps: CoreDeps, incidentId: string, actor: string): Promise<void> {
  if (!deps.undoConfig) return;
  try {
    await deps.undoConfig(incidentId, actor);
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, { at: deps.now(), type: 'config_undo_failed', summary: `configuration changes not undone (${(err as Error).name}: ${(err as Error).message}); run sre-agent config undo ${incidentId}`, data: { error: (err as Error).message } });
  }
}
