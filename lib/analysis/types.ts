/**
 * Shared vocabulary of the investigation (issue 13, MTTI): ranked root-cause hypotheses, the trend
 * prediction, the risk assessment and similar past incidents, as they go on the timeline
 * (`investigation_completed`), into approval messages and pages, and into the §5.1 report.
 * This file is the data contract with the report / knowledge-base code (lib/report, lib/knowledge):
 * change it only together with them.
 */

/** One fact behind a hypothesis: a metric value, a deploy time, a count. */
export interface Evidence {
  readonly label: string;
  readonly value: string | number;
  /** ISO-8601 time the value refers to, when it has one (a deploy, a datapoint). */
  readonly at?: string;
  /** Where it was read, e.g. `kube:deployments`, `cloudwatch:TargetResponseTime`, `mysql:processlist`. */
  readonly source?: string;
}

/** A candidate root cause with its confidence. */
export interface Hypothesis {
  /** Stable id, e.g. 'recent-deploy-rollback', 'external-surge', 'connection-leak'. */
  readonly id: string;
  /** zh-CN, e.g. '部署 v2.3.1 后异常开始'. */
  readonly statement: string;
  readonly statementEn: string;
  /** In [0, 1], never 1: nothing is presented as certain. */
  readonly confidence: number;
  readonly evidence: readonly Evidence[];
  /** e.g. '建议回滚'. */
  readonly suggestion?: string;
}

/** Time until a metric crosses its next threshold, from a robust (Theil–Sen) fit. */
export interface TrendPrediction {
  readonly metric: string;
  readonly threshold: number;
  readonly status: 'crossing' | 'not_crossing' | 'already_crossed' | 'not_enough_data';
  readonly etaSeconds?: number;
  readonly etaLowSeconds?: number;
  readonly etaHighSeconds?: number;
  readonly slopePerMinute?: number;
  /** Datapoints the fit used. */
  readonly points: number;
}

/** Risk of the next step, with the suggestion shown to approvers (seed: "风险评估: MEDIUM (0.55), 建议回滚"). */
export interface RiskAssessment {
  /** In [0, 1]. */
  readonly score: number;
  readonly level: 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  /** Each factor's value in [0, 1], by name. */
  readonly factors: Readonly<Record<string, number>>;
  readonly suggestion: string;
}

/** A past incident from the knowledge base (seed §5.2) and what resolved it. */
export interface SimilarIncident {
  readonly incidentId: string;
  readonly score: number;
  readonly rootCause: string;
  readonly resolutionSteps: readonly string[];
}

/** One read-only check of the investigation and how it ended. */
export interface InvestigationCheck {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'skipped' | 'timed_out';
  readonly error?: string;
}

/** What the investigation found; the `investigation_completed` event's `data.investigation`. */
export interface InvestigationResult {
  readonly startedAt: string;
  readonly completedAt: string;
  /** Ranked, best first. */
  readonly hypotheses: readonly Hypothesis[];
  readonly trend?: TrendPrediction;
  readonly risk?: RiskAssessment;
  /** At most 3. */
  readonly similar: readonly SimilarIncident[];
  readonly checks: readonly InvestigationCheck[];
}

/** The timeline event type that marks the investigation complete (MTTI = its `at` − detection). */
export const INVESTIGATION_COMPLETED = 'investigation_completed';

/** Optional dependency: the knowledge base's search, returning similar past incidents. */
export type SimilarIncidentsLookup = (queryText: string) => Promise<SimilarIncident[]>;
