/** Incidents: the model, the DynamoDB store, timeline events, ids INC-YYYYMMDD-NNN. */
export { IncidentContentionError, IncidentError, IncidentNotFoundError, InvalidTransitionError } from './errors';
export {
  ALLOWED_TRANSITIONS,
  FINAL_STATUSES,
  INCIDENT_STATUSES,
  SEVERITIES,
  STORE_EVENT_TYPES,
  allAlarmsOk,
  canTransition,
  incidentDay,
  incidentMetrics,
  isFinalStatus,
  severityAtLeast,
  statusesLeadingTo,
  toIso,
} from './model';
export type {
  Incident,
  AlarmFirings,
  IncidentAlarm,
  IncidentMetrics,
  IncidentStatus,
  IncidentTables,
  IncidentTimestamps,
  NewTimelineEvent,
  Severity,
  TimelineEvent,
} from './model';
export {
  appendEvent,
  appendEvents,
  attachExecution,
  findOpenIncident,
  getIncident,
  getTimeline,
  incidentOfExecution,
  isLikelyRepeat,
  linkExecution,
  listIncidents,
  markMitigated,
  nextIncidentId,
  openOrJoinIncident,
  pinPlaybookHash,
  raiseSeverity,
  recordAlarmOk,
  releaseIncidentKey,
  recordRecoveryCheck,
  transition,
  transitionIfStatus,
  transitionIncident,
} from './store';
export type { ListIncidentsOptions, OpenIncidentInput, OpenOrJoinResult, RaiseSeverityOptions, TransitionOptions } from './store';
export { claimStep, finishStep, readIncidentWithSteps, rememberStepValue } from './steps';
export type { ClaimResult, IncidentWithSteps, StepOutcome, StepRecord, StepState } from './steps';
