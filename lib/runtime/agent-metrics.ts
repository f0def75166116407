/**
 * What the agent tells CloudWatch about itself (namespace SreAgent, Powertools EMF in the
 * Lambdas' logs: no PutMetricData call, no extra permission): incidents opened and resolved,
 * actions by outcome, approvals requested and decided, breaker gates by mode, escalations, dead
 * letters. The self-monitoring dashboard (lib/infra/self-monitoring.ts) reads these names.
 */
import type { IntakeResult } from './intake';

export const AGENT_METRICS_NAMESPACE = 'SreAgent';

/** Metric names, one definition for the emitters and the dashboard. */
export const AGENT_METRIC = {
  incidentsOpened: 'IncidentsOpened',
  incidentsResolved: 'IncidentsResolved',
  alarmsJoined: 'AlarmsJoined',
  deadLetters: 'DeadLetters',
  actions: 'Actions',
  approvalsRequested: 'ApprovalsRequested',
  approvalsDecided: 'ApprovalsDecided',
  breakerGates: 'BreakerGates',
  escalations: 'Escalations',
} as const;

/** One datapoint: a count, with at most one dimension. */
export interface AgentMetric {
  readonly name: (typeof AGENT_METRIC)[keyof typeof AGENT_METRIC];
  readonly value: number;
  readonly dimension?: { readonly name: 'Outcome' | 'Mode'; readonly value: string };
}

/** The alarm intake's result as metrics. */
export function intakeMetrics(r: Pick<IntakeResult, 'outcome'>): AgentMetric[] {
  if (r.outcome === 'started') return [{ name: AGENT_METRIC.incidentsOpened, value: 1 }];
  if (r.outcome === 'joined') return [{ name: AGENT_METRIC.alarmsJoined, value: 1 }];
  if (r.outcome === 'dead_letter') return [{ name: AGENT_METRIC.deadLetters, value: 1 }];
  return [];
}

/** An action's end: `succeeded`, `refused` (a PolicyViolationError: the guard said no) or `failed`. */
export function actionMetrics(error?: unknown): AgentMetric[] {
  const outcome = error === undefined ? 'succeeded' : (error as { name?: unknown }).name === 'PolicyViolationError' ? 'refused' : 'failed';
  return [{ name: AGENT_METRIC.actions, value: 1, dimension: { name: 'Outcome', value: outcome } }];
}

/** A core operation that went through, as metrics (the function key and `op` of the payload). */
export function coreMetrics(fn: string, op: string | undefined, result: unknown): AgentMetric[] {
  switch (`${fn}:${op}`) {
    case 'Fn_incident:resolve':
    case 'Fn_incident:close':
      return [{ name: AGENT_METRIC.incidentsResolved, value: 1 }];
    case 'Fn_approval_request:request':
      return [{ name: AGENT_METRIC.approvalsRequested, value: 1 }];
    case 'Fn_escalate:approval':
    case 'Fn_escalate:incident':
      return [{ name: AGENT_METRIC.escalations, value: 1 }];
    case 'Fn_breaker:gate': {
      const mode = (result as { mode?: unknown } | null)?.mode;
      return [{ name: AGENT_METRIC.breakerGates, value: 1, dimension: { name: 'Mode', value: typeof mode === 'string' ? mode : 'unknown' } }];
    }
    default:
      return [];
  }
}

/** A decision on an approval page (approve or reject). */
export function approvalDecisionMetrics(decision: string): AgentMetric[] {
  return [{ name: AGENT_METRIC.approvalsDecided, value: 1, dimension: { name: 'Outcome', value: decision } }];
}

/** Powertools Metrics, as far as the emitter needs it. */
export interface MetricsSink {
  addMetric(name: string, unit: 'Count', value: number): unknown;
  addDimension(name: string, value: string): unknown;
  publishStoredMetrics(): unknown;
}

/**
 * Writes the metrics as EMF now (each dimension set is its own document). Never throws: a metric
 * that cannot be written must not fail the step it describes.
 */
export function emitAgentMetrics(make: () => MetricsSink, list: readonly AgentMetric[]): void {
  for (const m of list) {
    try {
      const sink = make();
      if (m.dimension) sink.addDimension(m.dimension.name, m.dimension.value);
      sink.addMetric(m.name, 'Count', m.value);
      sink.publishStoredMetrics();
    } catch {
      // Self-monitoring is best effort by design; the Lambda's own Errors metric still counts failures.
    }
  }
}

/** A Powertools Metrics instance for the agent's namespace (loaded on use: handlers only). */
export function powertoolsSink(): MetricsSink {
  const { Metrics } = require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
  return new Metrics({ namespace: AGENT_METRICS_NAMESPACE, serviceName: 'sre-agent' }) as unknown as MetricsSink;
}
