/** The incident model: statuses and the transitions allowed between them, timeline events, MTTD/MTTI/MTTR. */

/** Names of the tables the incident store writes (in AWS: the DataTables construct's `incidents`). */
export interface IncidentTables {
  /** Incidents table, string keys `pk`/`sk`. */
  readonly incidents: string;
}

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** True when `severity` is `min` or worse (`severityAtLeast('CRITICAL', 'HIGH')` is true). */
export function severityAtLeast(severity: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(min);
}

export const INCIDENT_STATUSES = ['OPEN', 'MITIGATING', 'AWAITING_APPROVAL', 'RESOLVED', 'ESCALATED', 'FAILED'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Statuses an incident never leaves. Reaching one frees the (playbook, service) open-incident key. */
export const FINAL_STATUSES: readonly IncidentStatus[] = ['RESOLVED', 'FAILED'];

/**
 * Where each status may go. The agent works OPEN → MITIGATING ⇄ AWAITING_APPROVAL; any status
 * that is not final may end (RESOLVED, FAILED) or go to humans (ESCALATED); an escalated
 * incident is still resolved (or failed) by them. No status moves to itself.
 */
export const ALLOWED_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  OPEN: ['MITIGATING', 'RESOLVED', 'ESCALATED', 'FAILED'],
  MITIGATING: ['AWAITING_APPROVAL', 'RESOLVED', 'ESCALATED', 'FAILED'],
  AWAITING_APPROVAL: ['MITIGATING', 'RESOLVED', 'ESCALATED', 'FAILED'],
  ESCALATED: ['RESOLVED', 'FAILED'],
  RESOLVED: [],
  FAILED: [],
};

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export function isFinalStatus(status: IncidentStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** The statuses from which `to` may be reached (what a conditional write on `status` accepts). */
export function statusesLeadingTo(to: IncidentStatus): IncidentStatus[] {
  return INCIDENT_STATUSES.filter((from) => canTransition(from, to));
}

/** The CloudWatch alarm that opened or joined an incident. */
export interface IncidentAlarm {
  /** Alarm name. */
  readonly name: string;
  /** State reason text from CloudWatch. */
  readonly reason?: string;
  /** ISO time of the state change to ALARM. */
  readonly stateChangedAt?: string;
  /** Anything else worth keeping (metric, threshold, region, account...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** How often an alarm fired for an incident (state changes to ALARM received, redeliveries not counted). */
export interface AlarmFirings {
  /** ISO time of its first state change to ALARM for this incident. */
  readonly firstAt: string;
  /** ISO time of the latest one. */
  readonly lastAt: string;
  readonly fired: number;
  /** ISO time of its state change back to OK after its latest firing, if it went back. */
  readonly okAt?: string;
}

/** True when every alarm that fired on the incident has gone back to OK since its latest firing. */
export function allAlarmsOk(alarms: Readonly<Record<string, AlarmFirings>> | undefined): boolean {
  const list = Object.values(alarms ?? {});
  return list.length > 0 && list.every((a) => a.okAt !== undefined && a.okAt >= a.lastAt);
}

/**
 * Where `timestamps.anomalyStartedAt` came from, recorded at intake from the alarm event:
 * - `first_breaching_datapoint`: the earliest datapoint of `reasonData.evaluatedDatapoints` that
 *   crosses the threshold (CloudWatch's period start), the anomaly start issue 13 asks for;
 * - `start_date`: CloudWatch's `reasonData.startDate` (the start of the evaluated range, which can
 *   be earlier than the first breach), when the datapoints cannot say; `fallback` says why;
 * - `state_change`: the state change's own timestamp, when reasonData has neither.
 */
export interface AnomalyStart {
  readonly basis: 'first_breaching_datapoint' | 'start_date' | 'state_change';
  /** Why the first breaching datapoint was not used (missing or garbled reasonData, no comparison in the reason...). */
  readonly fallback?: string;
  /** CloudWatch's `startDate`, when the event had a valid one (kept for comparison). */
  readonly startDate?: string;
}

/** ISO-8601 UTC times (`Date.toISOString()` form, so that they sort as strings). */
export interface IncidentTimestamps {
  /** When the anomaly began: the alarm's first breaching datapoint, else CloudWatch's startDate, else the state change (see `Incident.anomalyStart`). */
  readonly anomalyStartedAt: string;
  /** When the agent received the alarm. */
  readonly detectedAt: string;
  /** When the investigation completed (`investigation_completed`); without one, the first move to MITIGATING. MTTI = this − detectedAt. */
  readonly investigatedAt?: string;
  /** When the mitigation was in place (`markMitigated`, or at the latest on RESOLVED). */
  readonly mitigatedAt?: string;
  /** When recovery was confirmed and the incident closed. */
  readonly resolvedAt?: string;
}

export interface Incident {
  /** `INC-YYYYMMDD-NNN`. */
  readonly id: string;
  readonly playbook: string;
  readonly service: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly alarm?: IncidentAlarm;
  /**
   * Every alarm that fired for the incident, by name, the opener's included: a known alarm
   * firing again counts here, and only an alarm's first firing is a timeline event, so a storm of
   * repeats does not bury the timeline (seed §5.1 lists what happened, not every repeat).
   */
  readonly alarms?: Readonly<Record<string, AlarmFirings>>;
  /** The playbook execution working on it, once started. */
  readonly executionArn?: string;
  /**
   * Content hash of the compiled playbook its execution runs (pinned by Start incident); the
   * runtime guard refuses steps of a playbook version with another hash.
   */
  readonly playbookHash?: string;
  /**
   * The latest recovery check of its playbook (the detection rules against fresh metrics): the
   * agent resolves an incident only on a recent `true` here, never on a caller's word.
   */
  readonly recovery?: { readonly result: 'true' | 'false' | 'unknown'; readonly at: string };
  /** Where its latest §5.1 report was written (a data-folder path locally, `s3://bucket/key` in AWS). */
  readonly report?: { readonly location: string; readonly writtenAt: string };
  readonly timestamps: IncidentTimestamps;
  /** Where `timestamps.anomalyStartedAt` came from (recorded at intake; absent on incidents opened before it was recorded, or not by an alarm). */
  readonly anomalyStart?: AnomalyStart;
}

/** Event types the store itself writes; callers add their own (step_started, approval_requested...). */
export const STORE_EVENT_TYPES = {
  opened: 'incident_opened',
  alarmJoined: 'alarm_joined',
  statusChanged: 'status_changed',
  mitigated: 'mitigated',
  executionStarted: 'execution_started',
  severityRaised: 'severity_raised',
} as const;

/** One line of the incident timeline (seed §5.1). Every mutating action records `before`/`after`. */
export interface TimelineEvent {
  readonly incidentId: string;
  /** ISO time of the event. */
  readonly at: string;
  /** Per-incident sequence number, unique, from an atomic counter; breaks ties between equal times. */
  readonly seq: number;
  readonly type: string;
  /** Playbook step the event belongs to. */
  readonly step?: string;
  /** Who did it: `agent`, an approver, `cli:<user>`... */
  readonly actor?: string;
  /** One line for the timeline report. */
  readonly summary: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What a caller supplies to append an event; the store adds the incident id and the sequence number. */
export interface NewTimelineEvent {
  readonly at: Date | string;
  readonly type: string;
  readonly step?: string;
  readonly actor?: string;
  readonly summary: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Seed §5.1 metrics, in seconds; undefined while the timestamps they need are missing. */
export interface IncidentMetrics {
  /** Mean time to detect: detectedAt − anomalyStartedAt. */
  readonly mttdSeconds?: number;
  /** Mean time to investigate: investigatedAt − detectedAt. */
  readonly mttiSeconds?: number;
  /**
   * Mean time to recover: resolvedAt − detectedAt. The seed's §5.1 report counts it from
   * detection (14:15 → 14:38 = 23 min, while the anomaly began at 14:00 with MTTD 15 min).
   */
  readonly mttrSeconds?: number;
}

function secondsBetween(from: string | undefined, to: string | undefined): number | undefined {
  if (from === undefined || to === undefined) return undefined;
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/**
 * MTTD, MTTI and MTTR of one incident.
 *
 * @example
 * incidentMetrics(incident) // { mttdSeconds: 900, mttiSeconds: 60, mttrSeconds: 1380 }
 */
export function incidentMetrics(incident: Pick<Incident, 'timestamps'>): IncidentMetrics {
  const t = incident.timestamps;
  return {
    mttdSeconds: secondsBetween(t.anomalyStartedAt, t.detectedAt),
    mttiSeconds: secondsBetween(t.detectedAt, t.investigatedAt),
    mttrSeconds: secondsBetween(t.detectedAt, t.resolvedAt),
  };
}

/** `YYYYMMDD` of a time, in UTC. */
export function incidentDay(at: Date | string): string {
  return toIso(at).slice(0, 10).replace(/-/g, '');
}

/** Normalises a time to `Date.toISOString()` form; refuses an invalid time. */
export function toIso(at: Date | string): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`invalid time: ${String(at)}`);
  return date.toISOString();
}
