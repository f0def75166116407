/**
 * What a step's condition reads from the incident's stored investigation (issue 13): the seed's
 * `recent_deploy detected and confidence > 0.7` (matching-engine-latency's rollback) means the
 * investigation's confidence that a recent deploy caused the anomaly, not the deploy timing score
 * the earlier diagnostic step outputs. Decided from stored state: the latest
 * `investigation_completed` event on the incident's timeline, never the execution's payload.
 *
 * - `confidence`: the confidence of the hypothesis the step acts on (`hypothesisFor`: the most
 *   confident one whose remedies include the step's action, e.g. kubectl_rollout_undo →
 *   recent-deploy-rollback);
 * - `recent_deploy`: for that recent-deploy-rollback hypothesis, the rollout it names (its dated
 *   `kube:replicasets` evidence), or null when it found no rollout in the window.
 *
 * Without a completed investigation, or when no hypothesis is about the step's action, nothing is
 * read here and the condition keeps the earlier steps' outputs (the fallback is named on the
 * `condition_evaluated` event).
 */
import { hypothesisFor } from '../analysis/investigate';
import { INVESTIGATION_COMPLETED, type InvestigationResult } from '../analysis/types';
import type { CompiledStep } from '../compiled/manifest';
import type { TimelineEvent } from '../incident';

/** Condition variables the stored investigation can answer. */
export const INVESTIGATION_CONDITION_VARIABLES: readonly string[] = ['confidence', 'recent_deploy'];

export interface InvestigationVariables {
  /** The variables to put over the execution's (only those the condition names). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Where each named variable came from: `investigation:<hypothesis id>`, or why the step outputs were kept. */
  readonly sources: Readonly<Record<string, string>>;
}

/**
 * The investigation's answers for the variables `names` of a condition of `step`.
 *
 * @example
 * investigationVariables(timeline, { action: 'kubectl_rollout_undo' }, ['recent_deploy', 'confidence'])
 * // { variables: { confidence: 0.88, recent_deploy: 'deploy matching-engine v5.13.0 (rollout)' }, sources: { confidence: 'investigation:recent-deploy-rollback', ... } }
 */
export function investigationVariables(timeline: readonly TimelineEvent[], step: Pick<CompiledStep, 'action'> | undefined, names: readonly string[]): InvestigationVariables {
  const wanted = names.filter((n) => INVESTIGATION_CONDITION_VARIABLES.includes(n));
  if (wanted.length === 0) return { variables: {}, sources: {} };
  const keep = (why: string): InvestigationVariables => ({ variables: {}, sources: Object.fromEntries(wanted.map((n) => [n, `step outputs (${why})`])) });
  const result = timeline.filter((e) => e.type === INVESTIGATION_COMPLETED && e.data?.investigation).at(-1)?.data?.investigation as InvestigationResult | undefined;
  if (!result) return keep('no completed investigation');
  if (!step) return keep('step not in the compiled playbook');
  const h = hypothesisFor(step, result.hypotheses);
  if (!h) return keep(`no hypothesis of the investigation is about ${step.action}`);
  const variables: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const name of wanted) {
    if (name === 'confidence') {
      variables.confidence = h.confidence;
      sources.confidence = `investigation:${h.id}`;
    } else if (name === 'recent_deploy' && h.id === 'recent-deploy-rollback') {
      const deploy = h.evidence.find((e) => e.source === 'kube:replicasets' && e.at);
      variables.recent_deploy = deploy ? `${deploy.label} at ${deploy.at}` : null;
      sources.recent_deploy = `investigation:${h.id}`;
    } else {
      sources[name] = `step outputs (hypothesis ${h.id} names no ${name})`;
    }
  }
  return { variables, sources };
}
