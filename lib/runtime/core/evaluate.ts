/**
 * `${Fn_evaluate}`: step conditions (Wait → Evaluate → Choice) and recovery checks.
 */
import { recordDataCollection } from '../../breaker';
import { appendEvent, getTimeline, readIncidentWithSteps, recordRecoveryCheck } from '../../incident';
import { IncidentNotFoundError } from '../../incident/errors';
import { evaluateStepCondition, verifyRecovery } from '../../metrics';
import type { MetricCatalogue } from '../../playbook/catalogue';
import { parseCondition, variablesOf, type Condition } from '../../compiled/expression';
import { INVESTIGATION_CONDITION_VARIABLES, investigationVariables } from '../condition-investigation';
import { executionVariables, type IncidentRef } from '../payload';
import type { CoreDeps, CoreOps } from './deps';
import { recordBreakerChanges, refOf, storedRef } from './common';
import { conditionPayloadSchema, verifyPayloadSchema } from '../../compiled/payload';

/**
 * Variables for a condition. Outputs of earlier steps win over metrics, except in a re-check
 * (`still`, `after`, `for`): `redis_memory_usage still > 85% after cleanup` must read the metric
 * now, not the value the analysis step saw before the cleanup.
 */
export function conditionVariables(condition: Condition, vars: Record<string, unknown>, catalogue: MetricCatalogue): Record<string, unknown> {
  if (!condition.still && !condition.timing) return vars;
  return Object.fromEntries(Object.entries(vars).filter(([name]) => !(name in catalogue.metrics) && !(name in catalogue.aliases)));
}

/**
 * The stored incident a condition is evaluated for and, when the compiled step's condition comes
 * `after <step>` (from the bundled playbook, never the payload), when that step finished: its
 * metrics must show a datapoint newer than that. A step that did not finish (skipped, failed) sets no bound.
 */
async function conditionBasis(deps: CoreDeps, incidentId: string, step: string): Promise<{ incident: IncidentRef; after?: { step: string; at: Date } }> {
  const stored = await readIncidentWithSteps(deps.doc, deps.tables, incidentId);
  if (!stored) throw new IncidentNotFoundError(incidentId);
  const incident = refOf(stored.incident);
  const afterStep = deps.playbooks.get(incident.playbook)?.steps.find((s) => s.name === step)?.afterStep;
  const finished = afterStep ? stored.steps[afterStep] : undefined;
  if (!afterStep || finished?.state !== 'done' || !finished.finishedAt) return { incident };
  return { incident, after: { step: afterStep, at: new Date(finished.finishedAt) } };
}

/** `<step>: check condition`: true / false / unknown / pending, with the values used. */
export async function evaluateCondition(payload: unknown, deps: CoreDeps): Promise<{ result: string; values: Record<string, unknown> }> {
  const p = conditionPayloadSchema.parse(payload);
  const now = deps.now();
  const condition = parseCondition(p.condition);
  const { incident, after } = await conditionBasis(deps, p.incident.id, p.step);
  // `confidence` / `recent_deploy` come from the stored investigation when it answers them (lib/runtime/condition-investigation.ts).
  const names = variablesOf(condition);
  const investigated = names.some((n) => INVESTIGATION_CONDITION_VARIABLES.includes(n)) ? investigationVariables(await getTimeline(deps.doc, deps.tables, incident.id), deps.playbooks.step(incident.playbook, p.step), names) : undefined;
  const e = await evaluateStepCondition({ condition, variables: { ...conditionVariables(condition, executionVariables({ ...p, incident }), deps.catalogue), ...investigated?.variables }, metrics: deps.metrics, catalogue: deps.catalogue, service: incident.service, now, ...(after ? { notBefore: after.at } : {}) });
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: e.missing.length === 0 });
  const stale = e.stale && after ? ` (waiting for data newer than ${after.step}: ${e.stale.join(', ')})` : '';
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'condition_evaluated',
    step: p.step,
    summary: `${p.step}: "${p.condition}" is ${e.result}${e.missing.length ? ` (no data: ${e.missing.join(', ')})` : ''}${stale}`,
    data: { values: e.values, missing: e.missing, ...(e.stale ? { stale: e.stale } : {}), ...(investigated ? { sources: investigated.sources } : {}) },
  });
  await recordBreakerChanges(deps, incident, changes);
  return { result: e.result, values: e.values };
}

/** `Verify recovery`: the playbook's primary detection rules no longer hold. */
export async function verifyIncidentRecovery(payload: unknown, deps: CoreDeps): Promise<{ result: string }> {
  const p = verifyPayloadSchema.parse(payload);
  const now = deps.now();
  // Recovery is judged on fresh metrics, never on what earlier steps read or the payload says: a
  // detection rule names only metrics, aliases, the playbook's variables and `baseline` (the
  // compiler checks it), so no variable comes from the payload (a forged `baseline` of 1e12
  // recorded a recovery that let a forged resolve close the incident).
  const variables = {};
  const incident = await storedRef(deps, p.incident);
  // The rules of the compiled playbook this function bundles (trend rules included), not the payload's.
  const trigger = deps.playbooks.get(incident.playbook)?.trigger;
  const rules = trigger?.type === 'alarm' && trigger.detection ? trigger.detection.primary : p.rules;
  const aliases = trigger?.type === 'alarm' ? trigger.variables : undefined;
  const v = await verifyRecovery(rules, { variables, metrics: deps.metrics, catalogue: deps.catalogue, service: incident.service, now, ...(aliases ? { aliases } : {}) });
  await recordRecoveryCheck(deps.doc, deps.tables, incident.id, v.result as 'true' | 'false' | 'unknown', now);
  // Missing data is unknown, never recovered, and counts toward the data-collection failure rate.
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: v.missing.length === 0 });
  await appendEvent(deps.doc, deps.tables, p.incident.id, {
    at: now,
    type: 'recovery_checked',
    summary: v.result === 'true' ? 'recovery verified: detection rules no longer hold' : v.result === 'false' ? `not recovered: ${v.violated.join('; ')}` : `recovery unknown: ${v.unknown.join('; ') || 'no checkable rule'}`,
    data: { ...v },
  });
  await recordBreakerChanges(deps, incident, changes);
  return { result: v.result };
}

/** `${Fn_evaluate}`'s operations by `op`. */
export const EVALUATE_OPS: CoreOps = { condition: evaluateCondition, verify: verifyIncidentRecovery };
