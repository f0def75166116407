/** The investigation (issue 13, MTTI): read-only checks, ranked hypotheses, trend, risk. */
export type {
  Evidence,
  Hypothesis,
  TrendPrediction,
  RiskAssessment,
  SimilarIncident,
  InvestigationCheck,
  InvestigationResult,
  SimilarIncidentsLookup,
} from './types';
export { INVESTIGATION_COMPLETED } from './types';

/**
 * The systems the investigation reads (its function gets these targets' environment) and the
 * read-only actions whose IAM actions it holds (the same reads, never their writes).
 */
export const INVESTIGATION_TARGETS = ['kube', 'mysql', 'redis', 'kafka', 'certificates'] as const;
export const INVESTIGATION_READ_ACTIONS = ['collect_thread_dump_and_metrics', 'rds_query', 'redis_analysis', 'kafka_admin', 'check_certificates'] as const;
export { concludeInvestigation, hypothesesOf, hypothesisFor, hypothesisText, investigationLines, investigationSummary, proposedStep, riskBasisOf, riskOfStep, trendOf, trendText } from './investigate';
export type { RiskBasis } from './investigate';
export { runCheck } from './checks';
export type { CheckOutcome, CheckPorts } from './checks';
export { assessRisk, riskText, RISK_WEIGHTS } from './risk';
export { predictCrossing, theilSen } from './trend';
export { DEFAULT_SUMMARY_TIMEOUT_MS, labelledSummary, llmSummaryLabel, llmSummaryOf, MAX_SUMMARY_CHARS, summarizeInvestigation, SummaryError } from './summary';
export type { LlmSummary, Summarizer, SummaryInput, SummaryOutcome } from './summary';
