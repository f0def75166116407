/**
 * `${Fn_escalate}`: approval escalation levels and incident escalation.
 */
import { findApprovalForStep } from '../../approval/store';
import { recordActiveAnomaly } from '../../breaker';
import { appendEvent, getIncident, transitionIncident } from '../../incident';
import { notifyApprovalEscalated, notifyIncidentEscalated } from '../notifications';
import type { CoreDeps, CoreOps } from './deps';
import { recordBreakerChanges, refOf } from './common';
import { proposeNoticeAtLevel4 } from './notice';
import { escalatePayloadSchema } from '../../compiled/payload';

const LEVEL_NAMES: Record<number, string> = { 2: 'on-call SRE', 3: 'team lead / senior SRE', 4: 'engineering director + CTO' };

/**
 * An unanswered approval climbs one level (and pages it), or the incident is handed to humans
 * (ESCALATED, PagerDuty for the on-call SRE).
 */
export async function escalate(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = escalatePayloadSchema.parse(payload);
  const now = deps.now();
  // The incident as stored: what the pages say (service, severity, alarm, evidence) never comes from the payload.
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  if (p.op === 'approval') {
    await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'approval_escalated', step: p.step, summary: `approval for ${p.step} unanswered: escalated to level ${p.level} (${LEVEL_NAMES[p.level ?? 0] ?? '?'})`, data: { level: p.level } });
    if (deps.notifier && p.step && p.level !== undefined && LEVEL_NAMES[p.level]) {
      const pending = await findApprovalForStep(deps.doc, deps.tables, incident.id, p.step).catch(() => undefined);
      await notifyApprovalEscalated(deps, refOf(incident), p.step, p.level, pending);
    }
    if (p.level === 4) await proposeNoticeAtLevel4(deps, incident.id);
    return;
  }
  if (p.level !== undefined && p.level > 2) {
    if (incident.status === 'RESOLVED' || incident.status === 'FAILED') return;
    await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'incident_escalated', summary: `still not recovered: escalated to level ${p.level} (${LEVEL_NAMES[p.level] ?? '?'})`, data: { level: p.level } });
    await notifyIncidentEscalated(deps, refOf(incident), p.playbook, p.level);
    if (p.level === 4) await proposeNoticeAtLevel4(deps, incident.id);
    return;
  }
  if (incident.status !== 'ESCALATED' && incident.status !== 'RESOLVED' && incident.status !== 'FAILED') {
    await transitionIncident(deps.doc, deps.tables, incident.id, 'ESCALATED', now, { actor: 'agent', reason: 'not recovered by the playbook; handed to the on-call SRE' });
    await notifyIncidentEscalated(deps, refOf(incident), p.playbook);
  }
  // Severity as stored: a payload cannot count itself into (or out of) the global breaker.
  await recordActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId: incident.id, severity: incident.severity }).then((r) => recordBreakerChanges(deps, refOf(incident), r.changes));
}

/** `${Fn_escalate}`'s operations by `op`. */
export const ESCALATE_OPS: CoreOps = { approval: escalate, incident: escalate };
