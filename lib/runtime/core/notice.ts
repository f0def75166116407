/**
 * The status-page notice as the core operations see it (seed §4.1 level 4): proposed when an
 * incident or an approval reaches level 4, followed when the incident resolves. Never fatal.
 */
import { appendEvent, getIncident } from '../../incident';
import { notifyApprovalRequest } from '../notifications';
import { proposeStatusNotice, followNoticeOnResolve, STATUS_NOTICE_ACTION, STATUS_NOTICE_STEP, type StatusNoticeDeps } from '../status-notice';
import type { CoreDeps } from './deps';
import { refOf } from './common';

/** The status-notice flow's view of the core's dependencies. */
export function statusNoticeDeps(deps: CoreDeps): StatusNoticeDeps {
  return { doc: deps.doc, tables: deps.tables, now: () => deps.now(), components: deps.statusPage?.components ?? {}, ...(deps.statusPage?.publisher ? { publisher: deps.statusPage.publisher } : {}) };
}

/**
 * Level 4 reached (an approval or the incident): draft the public notice and ask the director or
 * the CTO to publish it, once per incident. Never fails the escalation: a failure is recorded.
 */
export async function proposeNoticeAtLevel4(deps: CoreDeps, incidentId: string): Promise<void> {
  try {
    const incident = await getIncident(deps.doc, deps.tables, incidentId);
    const proposed = await proposeStatusNotice(statusNoticeDeps(deps), incident);
    // Newly drafted: the approvers get the request with their own links, as for a step.
    if (proposed?.drafted) {
      const rec = proposed.record;
      await notifyApprovalRequest(deps, { incident: refOf(incident), step: STATUS_NOTICE_STEP, action: STATUS_NOTICE_ACTION, level: 4, risk: incident.severity, message: rec.message ?? '', record: rec });
    }
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, { at: deps.now(), type: 'status_notice_failed', step: STATUS_NOTICE_STEP, summary: `status page: the notice could not be drafted (${(err as Error).name}: ${(err as Error).message}); the war room posts one by hand` }).catch(() => undefined);
  }
}

/** The incident resolved: the published notice's resolution, or the waiting draft cancelled. Recorded, never thrown. */
export async function followNotice(deps: CoreDeps, incidentId: string): Promise<void> {
  try {
    await followNoticeOnResolve(statusNoticeDeps(deps), await getIncident(deps.doc, deps.tables, incidentId));
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, { at: deps.now(), type: 'status_notice_failed', step: STATUS_NOTICE_STEP, summary: `status page: the resolution could not be posted (${(err as Error).name}: ${(err as Error).message})` }).catch(() => undefined);
  }
}
