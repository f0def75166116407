/**
 * Writing the §5.1 report: read the incident and its timeline, read the impact from the
 * metrics, build, render both languages, store; on a closed incident (RESOLVED or FAILED) put
 * its §5.2 entry into the knowledge base. Called when the playbook ends, after a hand resolve or
 * an early end, and on demand when the stored report is older than the incident.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getIncident, getTimeline, isFinalStatus, type Incident, type IncidentTables, type TimelineEvent } from '../incident';
import type { KnowledgeStore } from '../knowledge/store';
import type { MetricSource } from '../metrics';
import type { MetricCatalogue } from '../playbook/catalogue';
import { assessImpact, catalogueUnits } from './impact';
import { renderReportMarkdown } from './render';
import { buildReport, REPORT_EVENT_TYPE } from './report';
import type { ReportStore, StoredReport } from './store';

export interface ReportDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: IncidentTables;
  readonly reports: ReportStore;
  /** For the impact line; without it the report says "无指标数据". */
  readonly metrics?: MetricSource;
  readonly catalogue?: MetricCatalogue;
  /** Where the §5.2 entry of a closed incident goes. @default - nowhere */
  readonly knowledge?: KnowledgeStore;
  now(): Date;
}

export interface WrittenReport {
  readonly report: StoredReport;
  readonly location: string;
  /** `written`, `not closed` (no entry before RESOLVED / FAILED), `no store`, or the failure. */
  readonly knowledge: string;
  readonly problems: readonly string[];
}

/** The newest timeline event a report covers (its own `report_written` events excluded). */
export function lastReportedSeq(timeline: readonly TimelineEvent[]): number {
  return timeline.reduce((m, e) => (e.type === REPORT_EVENT_TYPE ? m : Math.max(m, e.seq)), -1);
}

/** Builds and renders the report of an incident from its stored state (both languages); stores nothing. */
export async function buildIncidentReport(deps: Omit<ReportDeps, 'reports' | 'knowledge'>, incidentId: string, read?: { incident: Incident; timeline: readonly TimelineEvent[] }): Promise<{ report: StoredReport; incident: Incident; problems: readonly string[] }> {
  const incident = read?.incident ?? (await getIncident(deps.doc, deps.tables, incidentId));
  const timeline = read?.timeline ?? (await getTimeline(deps.doc, deps.tables, incidentId));
  const now = deps.now();
  const { impact, problems } = deps.metrics && deps.catalogue ? await assessImpact(deps.metrics, deps.catalogue, incident, now) : { impact: undefined, problems: ['no metric source'] };
  const json = buildReport({ incident, timeline, impact, units: deps.catalogue ? catalogueUnits(deps.catalogue) : {}, now });
  return { report: { json, markdown: { 'zh-CN': renderReportMarkdown(json, 'zh-CN'), en: renderReportMarkdown(json, 'en') } }, incident, problems };
}

/** Builds, renders and stores the report of an incident; upserts its knowledge entry once it is closed. */
export async function writeIncidentReport(deps: ReportDeps, incidentId: string): Promise<WrittenReport> {
  const { report, incident, problems } = await buildIncidentReport(deps, incidentId);
  const json = report.json;
  const { location } = await deps.reports.save(report);
  let knowledge = 'no store';
  if (deps.knowledge) {
    if (!isFinalStatus(incident.status)) knowledge = 'not closed';
    else {
      try {
        await deps.knowledge.upsert(json.knowledge);
        knowledge = 'written';
      } catch (err) {
        knowledge = `failed: ${(err as Error).name}: ${(err as Error).message}`;
      }
    }
  }
  return { report, location, knowledge, problems };
}

/**
 * What `sre-agent report` and the API serve:
 * - an incident still running (not RESOLVED or FAILED): its report built now from the stored
 *   state, labelled in progress (`inProgress`), and not stored — a stored report is the final one;
 * - a closed incident: the stored report (in the data folder it survives a restart), rewritten
 *   first when the incident changed since it was written (a new timeline event, another status);
 *   undefined when none was ever written and `write` is false.
 */
export async function currentReport(deps: ReportDeps, incidentId: string, options: { readonly write?: boolean } = {}): Promise<StoredReport | undefined> {
  const [incident, timeline] = await Promise.all([getIncident(deps.doc, deps.tables, incidentId), getTimeline(deps.doc, deps.tables, incidentId)]);
  if (!isFinalStatus(incident.status)) return (await buildIncidentReport(deps, incidentId, { incident, timeline })).report;
  const stored = await deps.reports.get(incidentId);
  if (!stored && !options.write) return undefined;
  if (stored && lastReportedSeq(timeline) <= stored.json.lastEventSeq && incident.status === stored.json.overview.status) return stored;
  return (await writeIncidentReport(deps, incidentId)).report;
}
