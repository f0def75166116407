/** Post-incident automation (seed §5.1): the report as data and Markdown (zh-CN, en), its metrics, impact and stores. */
export { buildReport, impactText, REPORT_EVENT_TYPE, REPORT_VERSION, ROOT_CAUSE_MIN_CONFIDENCE } from './report';
export type { BuildReportInput, IncidentReportData, ReportAction, ReportRootCause, ReportRow, ReportTicket } from './report';
export { humanIntervention, investigationOf, reportMetrics, DECISION_EVENT_TYPES } from './metrics';
export type { HumanIntervention, MttdFrom, ReportMetrics } from './metrics';
export { assessImpact, alarmMetric, catalogueUnits, formatValue, AFFECTED_USERS_METRIC } from './impact';
export type { ReportImpact } from './impact';
export { parseReportLanguage, renderReportMarkdown, ReportLanguageError, REPORT_LANGUAGES } from './render';
export type { ReportLanguage } from './render';
export { FileReportStore, MemoryReportStore, ReportIdError, reportKeys } from './store';
export type { ReportStore, StoredReport } from './store';
export { buildIncidentReport, currentReport, lastReportedSeq, writeIncidentReport } from './write';
export type { ReportDeps, WrittenReport } from './write';
