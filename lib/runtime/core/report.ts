/**
 * `${Fn_report}`: the seed §5.1 report and the §5.2 knowledge-base entry.
 */
import { appendEvent, linkReport } from '../../incident';
import { REPORT_EVENT_TYPE, writeIncidentReport, type ReportStore } from '../../report';
import type { CoreDeps, CoreOps } from './deps';
import { reportPayloadSchema } from '../../compiled/payload';

/** `Write report`: the seed §5.1 report (data folder or S3) and, once closed, the §5.2 knowledge-base entry. */
export async function writeReport(payload: unknown, deps: CoreDeps): Promise<{ markdown: string; location: string | null }> {
  const p = reportPayloadSchema.parse(payload);
  const written = await reportNow(deps, p.incident.id);
  return { markdown: written.markdown, location: written.location };
}

/**
 * Writes the report of an incident again from its stored state, links it from the incident and
 * records `report_written` (where, and what the knowledge base did).
 */
async function reportNow(deps: CoreDeps, incidentId: string): Promise<{ markdown: string; location: string | null }> {
  const now = deps.now();
  const written = await writeIncidentReport({ doc: deps.doc, tables: deps.tables, reports: deps.reports ?? NO_REPORT_STORE, metrics: deps.metrics, catalogue: deps.catalogue, knowledge: deps.knowledge, now: deps.now }, incidentId);
  const location = deps.reports ? written.location : null;
  if (location) await linkReport(deps.doc, deps.tables, incidentId, location, now);
  const markdown = written.report.markdown['zh-CN'];
  await appendEvent(deps.doc, deps.tables, incidentId, {
    at: now,
    type: REPORT_EVENT_TYPE,
    summary: `report written (${markdown.split('\n').length} lines)${location ? ` to ${location}` : ''}; knowledge base: ${written.knowledge}`,
    data: { location, knowledge: written.knowledge, problems: [...written.problems] },
  });
  return { markdown, location };
}

/** A report store that keeps nothing (no `reports` configured): the report is still built and returned. */
const NO_REPORT_STORE: ReportStore = { save: async () => ({ location: '' }), get: async () => undefined };

/**
 * After a change to an incident that ends or hands over its playbook (a hand resolve, an early
 * end), its report is written again; a failure is recorded, never fatal to the change.
 */
export async function refreshReport(deps: CoreDeps, incidentId: string): Promise<void> {
  try {
    await reportNow(deps, incidentId);
  } catch (err) {
    await appendEvent(deps.doc, deps.tables, incidentId, { at: deps.now(), type: 'report_failed', summary: `report not written (${(err as Error).name}: ${(err as Error).message}); sre-agent report ${incidentId} writes it`, data: { error: (err as Error).message } });
  }
}

/** `${Fn_report}`'s operations by `op`. */
export const REPORT_OPS: CoreOps = { report: writeReport };
