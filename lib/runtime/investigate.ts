/**
 * `${Fn_investigate}`: the investigation's two operations (issue 13). `check` runs one read-only
 * check of the playbook's compiled investigation (a branch of the machine's Investigate Parallel
 * state); `conclude` turns the checks' outcomes into ranked hypotheses, trend, risk and similar
 * incidents, writes the `investigation_completed` event and sets `investigatedAt` (MTTI); the
 * investigation counts as one data collection for the breaker (never as a remediation). What a
 * check reads comes from the compiled manifest the function bundles, never from the payload.
 */
import type { CheckOutcome, CheckPorts } from '../analysis/checks';
import { concludeInvestigation, investigationSummary, riskBasisOf } from '../analysis/investigate';
import { summarizeInvestigation, type Summarizer } from '../analysis/summary';
import type { SimilarIncidentsLookup } from '../analysis/types';
import type { CertificateOps, KafkaOps, KubeOps } from '../actions/ports';
import type { ActionTargets } from '../actions/define';
import { recordDataCollection } from '../breaker';
import { getIncident, recordInvestigation } from '../incident';
import type { InvestigationCheckSpec } from '../compiled/manifest';
import { errorSummary, recordBreakerChanges, refOf } from './core/common';
import type { CoreDeps } from './core/deps';
import { PlaybookVersionError } from './errors';
import { concludePayloadSchema, investigationCheckPayloadSchema } from '../compiled/payload';

/** What the investigation reads besides metrics (CoreDeps.investigation). */
export interface InvestigationDeps {
  /**
   * The systems the checks read, read-only (the same clients the actions use).
   * @default - a check whose system is absent is `skipped`
   */
  readonly targets?: Pick<ActionTargets, 'redis' | 'mysql'> & { readonly kube?: KubeOps; readonly kafka?: KafkaOps; readonly certificates?: CertificateOps };
  /**
   * The knowledge base's search (lib/knowledge): up to three similar past incidents join the investigation.
   * @default - no similar incidents
   */
  readonly similarIncidents?: SimilarIncidentsLookup;
  /**
   * An LLM that summarises the concluded result (Bedrock in AWS when the stack names a model): the
   * text is stored beside the result as `llmSummary`, labelled advisory, and decides nothing.
   * @default - no summary
   */
  readonly summarizer?: Summarizer;
  /**
   * How long the summary may take before the investigation completes without it (a note says so).
   * @default 8000 (DEFAULT_SUMMARY_TIMEOUT_MS)
   */
  readonly summaryTimeoutMs?: number;
}

function specOf(deps: CoreDeps, playbook: string, check: string): InvestigationCheckSpec {
  const spec = deps.playbooks.get(playbook)?.investigation?.checks.find((c) => c.name === check);
  if (!spec) throw new PlaybookVersionError(`playbook ${playbook} has no investigation check "${check}" in the compiled playbooks of this function`);
  return spec;
}

function portsOf(deps: CoreDeps): CheckPorts {
  const t = deps.investigation?.targets ?? {};
  return { ...t, metrics: deps.metrics, catalogue: deps.catalogue, services: deps.policy.services };
}

/** One check, bounded in process too (a second short of its Task's TimeoutSeconds): never throws for the check's own failure. */
export async function investigationCheck(payload: unknown, deps: CoreDeps): Promise<CheckOutcome & { readonly at: string }> {
  const p = investigationCheckPayloadSchema.parse(payload);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  const spec = specOf(deps, incident.playbook, p.check);
  const now = deps.now();
  const ports = portsOf(deps);
  let timer: NodeJS.Timeout | undefined;
  const limit = Math.max(1, spec.timeoutSeconds - 1) * 1000;
  const timedOut = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ name: spec.name, kind: spec.kind, status: 'timed_out', error: `no answer within ${limit / 1000} s` }), limit);
  });
  try {
    // Loaded when a check runs: the other core functions do not bundle the Redis and database readers' code paths at start.
    const { runCheck } = await import('../analysis/checks');
    const outcome = await Promise.race([runCheck(spec, { id: incident.id, service: incident.service, anomalyStartedAt: incident.timestamps.anomalyStartedAt, detectedAt: incident.timestamps.detectedAt }, ports, now), timedOut]);
    return { ...outcome, at: now.toISOString() };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The conclusion: hypotheses, trend, risk, similar incidents on the timeline (`investigation_completed`),
 * `investigatedAt` set. The whole counts once toward the data-collection failure rate (a failed or
 * timed-out check is missing data, never a remediation failure).
 */
export async function concludeIncidentInvestigation(payload: unknown, deps: CoreDeps): Promise<{ completedAt: string; top: { id: string; confidence: number } | null }> {
  const p = concludePayloadSchema.parse(payload);
  const incident = await getIncident(deps.doc, deps.tables, p.incident.id);
  const ref = refOf(incident);
  const machine = deps.playbooks.get(incident.playbook);
  if (!machine?.investigation) throw new PlaybookVersionError(`playbook ${incident.playbook} has no investigation in the compiled playbooks of this function`);
  const specs = machine.investigation.checks;
  // Outcomes as the branches returned them: a Pass state's failure carries the Step Functions error object.
  const checks: CheckOutcome[] = p.checks.map((c) => {
    const spec = specs.find((s) => s.name === c.name);
    const error = c.error === undefined ? undefined : typeof c.error === 'string' ? c.error : errorSummary(c.error);
    return { name: c.name, kind: spec?.kind ?? 'anomaly_metric', status: spec ? c.status : 'failed', ...(error ? { error } : spec ? {} : { error: 'not a check of this playbook' }), ...(c.data && spec ? { data: c.data } : {}) };
  });
  const now = deps.now();
  const started = p.checks.map((c) => c.at).filter((a): a is string => !!a).sort()[0];
  const investigation = deps.investigation;
  const result = await concludeInvestigation({
    incident: { id: incident.id, service: incident.service, playbook: incident.playbook, anomalyStartedAt: incident.timestamps.anomalyStartedAt, detectedAt: incident.timestamps.detectedAt, ...(incident.alarm?.name ? { alarmName: incident.alarm.name } : {}) },
    checks,
    specs,
    steps: machine.steps,
    isProtected: (s) => deps.policy.isProtected(s),
    startedAt: started ? new Date(started) : now,
    now,
    ...(investigation?.similarIncidents ? { similarIncidents: investigation.similarIncidents } : {}),
  });
  // The investigation is one data collection, like a condition's metric reads: failed when any
  // check that could run failed or timed out (a system not configured is not a failure). The two
  // writes touch different tables and neither reads the other: sent together (one round trip
  // fewer before the first action).
  const ran = checks.filter((x) => x.status !== 'skipped');
  // The optional LLM summary is written from the finished result and stored beside it: nothing
  // above depends on it, and whatever it says cannot reach `investigation` or `basis`.
  const summary = investigation?.summarizer
    ? await summarizeInvestigation(investigation.summarizer, { incident: { id: incident.id, service: incident.service, playbook: incident.playbook }, result }, { now: () => deps.now(), ...(investigation.summaryTimeoutMs !== undefined ? { timeoutMs: investigation.summaryTimeoutMs } : {}) })
    : undefined;
  const [, collected] = await Promise.all([
    recordInvestigation(deps.doc, deps.tables, incident.id, now, { summary: investigationSummary(result), data: { investigation: result, basis: riskBasisOf(checks), ...summary } }),
    ran.length > 0 ? recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: ran.every((c) => c.status === 'ok') }) : undefined,
  ]);
  if (collected) await recordBreakerChanges(deps, ref, collected.changes);
  const top = result.hypotheses[0];
  return { completedAt: result.completedAt, top: top ? { id: top.id, confidence: top.confidence } : null };
}
