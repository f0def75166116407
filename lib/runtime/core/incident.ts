/**
 * `${Fn_incident}`: incident start, step records, resolve/close, and the escalated incident's
 * recovery check.
 */
import { closeApprovals } from '../../approval/store';
import { clearActiveAnomaly, recordRecovery } from '../../breaker';
import { appendEvent, attachExecution, beginExecution, getIncident, linkExecution, openOrJoinIncident, pinPlaybookHash, transitionIfStatus, transitionIncident } from '../../incident';
import { notifyIncidentResolved } from '../notifications';
import { PlaybookVersionError, RecoveryNotVerifiedError } from '../errors';
import type { IncidentRef } from '../payload';
import type { CoreDeps, CoreOps } from './deps';
import { errorSummary, recordBreakerChanges, refOf, severityFromRisk, undoConfigOnResolve } from './common';
import { followNotice } from './notice';
import { verifyIncidentRecovery } from './evaluate';
import { finishPayloadSchema, recordPayloadSchema, recoveredCheckPayloadSchema, startPayloadSchema } from '../../compiled/payload';

/** `Start incident`: takes the incident the trigger opened, or opens a check record for a schedule. */
export async function startIncident(payload: unknown, deps: CoreDeps): Promise<{ incident: IncidentRef; context: Record<string, unknown> }> {
  const p = startPayloadSchema.parse(payload);
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
  const reason = `playbook ${p.playbook} started`;
  // The usual case, an incident as its intake left it: one transaction pins the version and
  // moves it to MITIGATING, and the ref is what is stored (the transaction checked it).
  if (p.input.incident && p.executionArn && p.input.incident.playbook === p.playbook) {
    const r = p.input.incident;
    const begun = await beginExecution(deps.doc, deps.tables, { id: r.id, playbook: r.playbook, service: r.service, severity: r.severity, alarmName: r.alarmName, alarmReason: r.alarmReason, playbookHash: p.playbook_hash, executionArn: p.executionArn, at: now, options: { actor: 'agent', reason } });
    if (begun) return { incident: { id: r.id, playbook: r.playbook, service: r.service, severity: r.severity, ...(r.alarmName ? { alarmName: r.alarmName } : {}), ...(r.alarmReason ? { alarmReason: r.alarmReason } : {}) }, context: { ...(p.input.context ?? {}) } };
  }
  // The incident runs this playbook version, under this execution: the guard compares both.
  const pinned = await pinPlaybookHash(deps.doc, deps.tables, ref.id, p.playbook_hash);
  if (p.executionArn && pinned.executionArn !== p.executionArn) await attachExecution(deps.doc, deps.tables, ref.id, p.executionArn, now);
  // Only from OPEN: a redelivered start (or a restarted execution) leaves a later status alone.
  await transitionIfStatus(deps.doc, deps.tables, ref.id, 'OPEN', 'MITIGATING', now, { actor: 'agent', reason });
  return { incident: refOf(pinned), context: { ...(p.input.context ?? {}) } };
}

/** Records why a step did not run (not_run, refused, approval_rejected, approval_expired). */
export async function recordStepEvent(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = recordPayloadSchema.parse(payload);
  const now = deps.now();
  await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: p.event, step: p.step, summary: `${p.step}: ${p.event.replace(/_/g, ' ')} (${errorSummary(p.error)})`, data: { error: (p.error as object) ?? null } });
  // The last level's window closed unanswered: the record can never be decided now.
  if (p.event === 'approval_expired') await closeApprovals(deps.doc, deps.tables, p.incident.id, 'EXPIRED', 'nobody decided before the last escalation level\'s window closed', now, [p.step]);
}

/** How recent a `true` recovery check must be for the agent to resolve on it. */
export const RECOVERY_CHECK_MAX_AGE_SECONDS = 15 * 60;

/**
 * `Resolve incident` / `Close check`: RESOLVED, and the breakers told the service recovered. An
 * alarm incident resolves only on the recovery check its playbook stored (a recent `true`): a
 * forged invocation cannot resolve an incident, nor reset its service's breaker, by saying so.
 * @throws RecoveryNotVerifiedError
 */
export async function resolveIncident(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = finishPayloadSchema.parse(payload);
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
  await notifyIncidentResolved(deps, ref, reason);
  await recordBreakerChanges(deps, ref, await recordRecovery(deps.doc, deps.tables, deps.breakerConfig, now, incident.service));
  await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id });
  await undoConfigOnResolve(deps, incident.id, 'agent');
  await followNotice(deps, incident.id);
}

/** While escalated: has a person resolved the incident, or do the detection rules no longer hold? */
export async function checkIncidentRecovered(payload: unknown, deps: CoreDeps): Promise<{ result: string }> {
  const p = recoveredCheckPayloadSchema.parse(payload);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  if (incident.status === 'RESOLVED') return { result: 'true' };
  if (incident.status === 'FAILED') return { result: 'stop' };
  // No detection rule to check: a recovery can never be seen, so the checks at level 4 stop.
  if (p.rules.length === 0) return { result: 'stop' };
  return verifyIncidentRecovery({ ...p, op: 'verify' }, deps);
}

/** `${Fn_incident}`'s operations by `op`. */
export const INCIDENT_OPS: CoreOps = { start: startIncident, record: recordStepEvent, check: checkIncidentRecovered, resolve: resolveIncident, close: resolveIncident };
