/**
 * Nothing stuck, nothing lost: incidents whose execution is gone, and approvals past their
 * expiry, are put right from stored state.
 * - Local start (`reconcileAfterRestart`): nothing runs in a fresh process, so every incident the
 *   agent was working on is handed to people (ESCALATED, reason LocalEngineRestarted, on-call
 *   paged), its (playbook, service) key freed so that the next alarm opens a new incident under
 *   the breakers' rules, and its approvals expired: none can be decided into a step that will
 *   never run.
 * - AWS (`reconcileExecutions`, the scheduled reconcile function): an incident whose execution is
 *   no longer RUNNING (DescribeExecution) gets what the execution-ended function would have
 *   done (its status-change event can be lost: EventBridge drops after 24 h of failed delivery).
 * - Both: PENDING approvals past their expiry become EXPIRED.
 */
import { listApprovals } from '../approval/store';
import { appendEvent, getIncident, listIncidents, releaseIncidentKey, transitionIncident } from '../incident';
import { closeIncidentApprovals, refOf } from './core/common';
import type { CoreDeps } from './core/deps';
import { recordExecutionEnded } from './core/execution-ended';
import { notifyExecutionEnded } from './notifications';

/** Statuses in which an execution is (or should be) working on the incident. */
const WORKING = new Set(['OPEN', 'MITIGATING', 'AWAITING_APPROVAL']);

export interface ReconcileReport {
  /** Incidents handed to people. */
  readonly escalated: readonly string[];
  /** Incidents failed (their execution failed or timed out). */
  readonly failed: readonly string[];
  /** Approvals closed, by id. */
  readonly approvalsClosed: readonly string[];
}

/** PENDING approvals past their expiry → EXPIRED (their Task timed out; the record must not stay decidable). */
async function expireLateApprovals(deps: CoreDeps): Promise<string[]> {
  const now = deps.now();
  const late = (await listApprovals(deps.doc, deps.tables, 'PENDING')).filter((a) => Date.parse(a.expiresAt) <= now.getTime());
  const closed: string[] = [];
  for (const incidentId of new Set(late.map((a) => a.incidentId))) {
    const incident = await getIncident(deps.doc, deps.tables, incidentId).catch(() => undefined);
    const records = incident ? await closeIncidentApprovals(deps, incident, 'EXPIRED', 'its window closed and nobody decided') : [];
    closed.push(...records.map((r) => r.approvalId));
  }
  return closed;
}

/**
 * After a local engine restart on the same data folder: every incident an execution was working
 * on (or that was escalated under one) lost it.
 */
export async function reconcileAfterRestart(deps: CoreDeps, reason = 'LocalEngineRestarted'): Promise<ReconcileReport> {
  const incidents = await listIncidents(deps.doc, deps.tables, { limit: 100_000 });
  const escalated: string[] = [];
  const approvalsClosed: string[] = [];
  const now = deps.now();
  const why = `${reason}: the local engine restarted, and the execution that worked on it ran in the process that ended`;
  for (const incident of incidents) {
    if (incident.status === 'ESCALATED') {
      // People own it already; its escalation climb is gone with the process: say so, close its approvals.
      approvalsClosed.push(...(await closeIncidentApprovals(deps, incident, 'EXPIRED', why)).map((r) => r.approvalId));
      await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'execution_ended', summary: `${why}; the incident stays with the people it was escalated to`, data: { reason } });
      continue;
    }
    if (!WORKING.has(incident.status)) continue;
    const moved = await transitionIncident(deps.doc, deps.tables, incident.id, 'ESCALATED', now, { actor: 'agent', reason: why });
    approvalsClosed.push(...(await closeIncidentApprovals(deps, moved, 'EXPIRED', why)).map((r) => r.approvalId));
    // Under the breakers' rules, the next alarm opens a new incident rather than joining this one.
    await releaseIncidentKey(deps.doc, deps.tables, incident.id);
    await notifyExecutionEnded(deps, refOf(moved), 'ESCALATED', why);
    escalated.push(incident.id);
  }
  approvalsClosed.push(...(await expireLateApprovals(deps)));
  return { escalated, failed: [], approvalsClosed };
}

/** What DescribeExecution says of an execution: its status, or `missing` when Step Functions does not know it. */
export type ExecutionLookup = (executionArn: string) => Promise<'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'missing'>;

export interface ReconcileExecutionsOptions {
  readonly describe: ExecutionLookup;
  /**
   * An incident that has no execution this long after detection is handed to people (its trigger
   * opened it but never started the playbook).
   * @default 900
   */
  readonly startGraceSeconds?: number;
}

/** The scheduled reconcile in AWS: incidents whose execution is no longer RUNNING, and late approvals. */
export async function reconcileExecutions(deps: CoreDeps, options: ReconcileExecutionsOptions): Promise<ReconcileReport> {
  const grace = (options.startGraceSeconds ?? 900) * 1000;
  const now = deps.now();
  const escalated: string[] = [];
  const failed: string[] = [];
  for (const incident of await listIncidents(deps.doc, deps.tables, { limit: 100_000 })) {
    if (!WORKING.has(incident.status) && incident.status !== 'ESCALATED') continue;
    const arn = incident.executionArn;
    if (!arn) {
      if (!WORKING.has(incident.status) || now.getTime() - Date.parse(incident.timestamps.detectedAt) < grace) continue;
      const why = `no playbook execution started within ${grace / 60_000} min of detection`;
      const moved = await transitionIncident(deps.doc, deps.tables, incident.id, 'ESCALATED', now, { actor: 'agent', reason: why });
      await notifyExecutionEnded(deps, refOf(moved), 'ESCALATED', why);
      escalated.push(incident.id);
      continue;
    }
    const status = await options.describe(arn);
    if (status === 'RUNNING' || status === 'PENDING_REDRIVE') continue;
    const name = arn.split(':').at(-1) ?? arn;
    if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'ABORTED') {
      const r = await recordExecutionEnded({ executionName: name, status, error: 'Reconciled', cause: 'found by the scheduled reconcile (the status-change event was not received)' }, deps);
      if (r.outcome === 'failed') failed.push(incident.id);
      if (r.outcome === 'escalated') escalated.push(incident.id);
      continue;
    }
    // SUCCEEDED (its last write was lost) or unknown to Step Functions: hand it to people.
    if (WORKING.has(incident.status)) {
      const why = `its execution is ${status === 'missing' ? 'unknown to Step Functions' : 'SUCCEEDED'} but the incident was still ${incident.status}`;
      const moved = await transitionIncident(deps.doc, deps.tables, incident.id, 'ESCALATED', now, { actor: 'agent', reason: why });
      await closeIncidentApprovals(deps, moved, 'CANCELLED', why);
      await notifyExecutionEnded(deps, refOf(moved), 'ESCALATED', why);
      escalated.push(incident.id);
    } else {
      await closeIncidentApprovals(deps, incident, 'CANCELLED', 'its execution ended');
    }
  }
  return { escalated, failed, approvalsClosed: await expireLateApprovals(deps) };
}
