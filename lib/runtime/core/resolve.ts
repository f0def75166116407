/**
 * A person resolves an incident by hand (`sre-agent resolve`, the dashboard, the resolve Lambda).
 */
import * as z from '../../yaml/zod';
import type { ApprovalRecord } from '../../approval/store';
import { clearActiveAnomaly } from '../../breaker';
import { appendEvent, transitionIncident, type Incident } from '../../incident';
import { notifyIncidentResolved } from '../notifications';
import type { CoreDeps } from './deps';
import { closeIncidentApprovals, refOf, undoConfigOnResolve } from './common';
import { followNotice } from './notice';
import { refreshReport } from './report';

/**
 * A person resolves an incident (`sre-agent resolve`, the dashboard): RESOLVED with their name
 * and reason, its execution stopped (nothing acts on it any more), its open approvals cancelled.
 * A hand resolve is not a recovery: the service's breaker and attempt count are left as they are.
 * @throws InvalidTransitionError when the incident is already RESOLVED or FAILED
 */
export async function resolveByHand(deps: CoreDeps, incidentId: string, by: { readonly person: string; readonly reason: string }, stopExecution?: (executionArn: string, cause: string) => Promise<unknown>): Promise<Incident> {
  return (await resolveByHandDetailed(deps, incidentId, by, stopExecution)).incident;
}

/** {@link resolveByHand}, saying which approvals it cancelled and which execution it stopped. */
async function resolveByHandDetailed(
  deps: CoreDeps,
  incidentId: string,
  by: { readonly person: string; readonly reason: string },
  stopExecution?: (executionArn: string, cause: string) => Promise<unknown>,
): Promise<{ incident: Incident; cancelled: ApprovalRecord[]; stopped?: string }> {
  const now = deps.now();
  const resolved = await transitionIncident(deps.doc, deps.tables, incidentId, 'RESOLVED', now, { actor: `person:${by.person}`, reason: by.reason });
  const why = `resolved by hand by ${by.person}: ${by.reason}`;
  const cancelled = await closeIncidentApprovals(deps, resolved, 'CANCELLED', why);
  let stopped: string | undefined;
  if (resolved.executionArn && stopExecution) {
    try {
      await stopExecution(resolved.executionArn, why);
      stopped = resolved.executionArn;
      await appendEvent(deps.doc, deps.tables, incidentId, { at: now, type: 'execution_stopped', actor: `person:${by.person}`, summary: `execution stopped: ${why}`, data: { executionArn: resolved.executionArn } });
    } catch (err) {
      // Already ended (the usual case for an escalated incident at its last level): nothing to stop.
      await appendEvent(deps.doc, deps.tables, incidentId, { at: now, type: 'execution_stop_failed', summary: `execution not stopped (${(err as Error).name}: ${(err as Error).message})`, data: { executionArn: resolved.executionArn } });
    }
  }
  await notifyIncidentResolved(deps, refOf(resolved), why);
  await clearActiveAnomaly(deps.doc, deps.tables, deps.breakerConfig, now, { incidentId });
  await undoConfigOnResolve(deps, incidentId, `person:${by.person}`);
  await followNotice(deps, incidentId);
  // Closed now: its report (an L4 one was written when the playbook handed it over) is rewritten.
  await refreshReport(deps, incidentId);
  return { incident: resolved, cancelled, ...(stopped ? { stopped } : {}) };
}

/** What a person sends to resolve an incident by hand in AWS (the resolve Lambda). */
export const handResolveSchema = z.strictObject({
  incidentId: z.string().check(z.regex(/^INC-\d{8}-\d{3,}$/, 'an incident id INC-YYYYMMDD-NNN')),
  person: z.string().check(z.trim(), z.minLength(1, 'who resolves it'), z.maxLength(200)),
  reason: z.string().check(z.trim(), z.minLength(1, 'why it is resolved'), z.maxLength(2000)),
});

/** What the resolve Lambda answers. */
export interface HandResolveResult {
  readonly incidentId: string;
  readonly status: string;
  /** The execution that was stopped, if one was running. */
  readonly executionStopped?: string;
  /** Approvals cancelled (their steps can no longer run). */
  readonly approvalsCancelled: readonly string[];
}

/**
 * The resolve Lambda (AWS's `sre-agent resolve`): validates the request, then {@link resolveByHand}
 * with StopExecution. Refuses an incident that is already RESOLVED or FAILED (InvalidTransitionError).
 * @throws $ZodError (zod's validation error) naming the field of a bad request; IncidentNotFoundError for an unknown id
 */
export async function resolveIncidentByHand(payload: unknown, deps: CoreDeps, stopExecution: (executionArn: string, cause: string) => Promise<unknown>): Promise<HandResolveResult> {
  const p = handResolveSchema.parse(payload);
  const done = await resolveByHandDetailed(deps, p.incidentId, { person: p.person, reason: p.reason }, stopExecution);
  return { incidentId: done.incident.id, status: done.incident.status, ...(done.stopped ? { executionStopped: done.stopped } : {}), approvalsCancelled: done.cancelled.map((a) => a.approvalId) };
}
