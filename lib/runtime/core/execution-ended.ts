/**
 * An execution that ended before its playbook did (the execution-ended Lambda, the local engine).
 */
import * as z from '../../yaml/zod';
import { clearActiveAnomaly } from '../../breaker';
import { appendEvent, getIncident, incidentOfExecution, isFinalStatus, transitionIncident } from '../../incident';
import { notifyExecutionEnded } from '../notifications';
import type { CoreDeps } from './deps';
import { closeIncidentApprovals, refOf } from './common';
import { refreshReport } from './report';

const INCIDENT_EXECUTION = /^INC-\d{8}-\d{3,}$/;
const endedSchema = z.object({
  executionName: z.string().check(z.minLength(1)),
  status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
  error: z.nullish(z.string()),
  cause: z.nullish(z.string()),
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
  await notifyExecutionEnded(deps, refOf(moved), to, why);
  // The playbook will not reach its report state: the report is written here.
  await refreshReport(deps, id);
  return { outcome: to === 'FAILED' ? 'failed' : 'escalated', incidentId: id };
}
