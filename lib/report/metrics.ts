/**
 * The §5.1 report's metrics, from the stored incident and its timeline (definitions in the
 * README, "Report"):
 * - MTTD = detection − anomaly start (the alarm's first breaching datapoint; else CloudWatch's
 *   startDate, else the state change: `mttdFrom` says which, and why);
 * - MTTI = investigation complete (the `investigation_completed` event) − detection;
 * - MTTR = recovery confirmed (RESOLVED) − detection (seed: 14:15 → 14:38 = 23 min);
 * - human intervention = Σ (decision − first view) of approvals, plus manual steps (an
 *   escalated incident's time with people, from its hand-over to its hand resolve).
 */
import { INVESTIGATION_COMPLETED, type InvestigationResult } from '../analysis/types';
import type { Incident, TimelineEvent } from '../incident';
import { personKey } from '../policy/guard';

/** Timeline types of an approval decision (lib/approval/callback: one per decision, by link or API). */
export const DECISION_EVENT_TYPES: readonly string[] = ['approval_approved', 'approval_rejected_by'];

/** One stretch of human work counted in the human intervention time. */
export interface HumanIntervention {
  readonly kind: 'approval' | 'manual';
  readonly person: string;
  readonly step?: string;
  readonly approvalId?: string;
  /** Where the stretch starts: the person's first view of the approval page, else the request that reached them, or the hand-over (manual). */
  readonly from: 'view' | 'request' | 'escalation';
  readonly startedAt: string;
  readonly endedAt: string;
  readonly seconds: number;
}

/** Where MTTD is counted from: the incident's anomaly start and what it is (recorded at intake). */
export interface MttdFrom {
  /** `not_recorded`: an incident opened before the intake recorded it, or not by an alarm. */
  readonly basis: 'first_breaching_datapoint' | 'start_date' | 'state_change' | 'not_recorded';
  readonly at: string;
  /** Why the first breaching datapoint was not used. */
  readonly fallback?: string;
}

/** The report's metrics, in seconds; undefined while the times they need are missing. */
export interface ReportMetrics {
  readonly mttdSeconds?: number;
  readonly mttdFrom: MttdFrom;
  readonly mttiSeconds?: number;
  readonly mttrSeconds?: number;
  readonly humanSeconds: number;
  readonly human: readonly HumanIntervention[];
}

function seconds(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

const approvalIdOf = (e: TimelineEvent): string | undefined => (typeof e.data?.approvalId === 'string' ? e.data.approvalId : undefined);

/** The actor of a decision without the `person:` / `cli:` prefix some writers add. */
function personOf(actor: string | undefined): string {
  return (actor ?? '').replace(/^(person|cli):/, '');
}

/**
 * The human intervention of an incident: each approval decision from the deciding person's
 * first view of its page (`approval_viewed` with their link) — or, decided without a view (CLI,
 * dashboard), from the latest request of that approval before the decision — plus each hand
 * resolve of an escalated incident from its hand-over (`status_changed` to ESCALATED).
 *
 * @example humanIntervention(timeline).reduce((s, h) => s + h.seconds, 0) // 120 for the seed (14:17 → 14:19)
 */
export function humanIntervention(timeline: readonly TimelineEvent[]): HumanIntervention[] {
  const out: HumanIntervention[] = [];
  const ordered = [...timeline].sort((a, b) => (a.at === b.at ? a.seq - b.seq : a.at < b.at ? -1 : 1));
  for (const decision of ordered.filter((e) => DECISION_EVENT_TYPES.includes(e.type))) {
    const approvalId = approvalIdOf(decision);
    const person = personOf(decision.actor);
    const before = ordered.filter((e) => e.at <= decision.at && approvalIdOf(e) === approvalId);
    const view = before.find((e) => e.type === 'approval_viewed' && personKey(String(e.data?.person ?? '')) === personKey(person));
    const request = before.filter((e) => e.type === 'approval_requested').at(-1);
    const start = view ?? request;
    if (!start) continue;
    out.push({
      kind: 'approval',
      person,
      step: decision.step,
      approvalId,
      from: view ? 'view' : 'request',
      startedAt: start.at,
      endedAt: decision.at,
      seconds: seconds(start.at, decision.at) ?? 0,
    });
  }
  for (const resolved of ordered.filter((e) => e.type === 'status_changed' && (e.after as { status?: string } | undefined)?.status === 'RESOLVED' && (e.actor ?? '').startsWith('person:'))) {
    const handOver = ordered.filter((e) => e.at <= resolved.at && e.type === 'status_changed' && (e.after as { status?: string } | undefined)?.status === 'ESCALATED').at(-1);
    if (!handOver) continue;
    out.push({ kind: 'manual', person: personOf(resolved.actor), from: 'escalation', startedAt: handOver.at, endedAt: resolved.at, seconds: seconds(handOver.at, resolved.at) ?? 0 });
  }
  return out;
}

/** The latest `investigation_completed` event's result and time, if the investigation completed. */
export function investigationOf(timeline: readonly TimelineEvent[]): { at: string; result: InvestigationResult } | undefined {
  const event = timeline.filter((e) => e.type === INVESTIGATION_COMPLETED && e.data?.investigation).at(-1);
  return event ? { at: event.at, result: event.data?.investigation as InvestigationResult } : undefined;
}

/**
 * MTTD, MTTI, MTTR and human intervention of one incident. MTTI counts to the investigation's
 * completion on the timeline (else the incident's `investigatedAt`, which the investigation sets).
 */
export function reportMetrics(incident: Pick<Incident, 'timestamps' | 'anomalyStart'>, timeline: readonly TimelineEvent[]): ReportMetrics {
  const t = incident.timestamps;
  const a = incident.anomalyStart;
  const investigated = investigationOf(timeline)?.at ?? t.investigatedAt;
  const human = humanIntervention(timeline);
  return {
    mttdSeconds: seconds(t.anomalyStartedAt, t.detectedAt),
    mttdFrom: { basis: a?.basis ?? 'not_recorded', at: t.anomalyStartedAt, ...(a?.fallback ? { fallback: a.fallback } : {}) },
    mttiSeconds: seconds(t.detectedAt, investigated),
    mttrSeconds: seconds(t.detectedAt, t.resolvedAt),
    humanSeconds: human.reduce((s, h) => s + h.seconds, 0),
    human,
  };
}
