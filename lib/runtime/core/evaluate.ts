/**
 * `${Fn_evaluate}`: step conditions (Wait → Evaluate → Choice) and recovery checks.
 */
import { recordDataCollection } from '../../breaker';
import { appendEvent, getIncident, getTimeline, isFinalStatus, readIncidentWithSteps, recordRecoveryCheck } from '../../incident';
import { IncidentNotFoundError } from '../../incident/errors';
import { evaluateStepCondition, verifyRecovery } from '../../metrics';
import type { MetricCatalogue } from '../../playbook/catalogue';
import { parseCondition, variablesOf, type Condition } from '../../compiled/expression';
import { INVESTIGATION_CONDITION_VARIABLES, investigationVariables } from '../condition-investigation';
import { storedVariables } from '../../actions/resolve';
import { PlaybookVersionError, ConditionMismatchError } from '../errors';
import type { IncidentRef } from '../payload';
import type { CoreDeps, CoreOps } from './deps';
import { recordBreakerChanges, refOf } from './common';
import { conditionPayloadSchema, verifyPayloadSchema, type CorePayload } from '../../compiled/payload';

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
 * What a condition is evaluated on, from stored state and the compiled playbook only: the stored
 * incident, the compiled step's condition (in the playbook version the incident is pinned to), the
 * variables of the incident and the outputs its earlier steps stored when they succeeded, and, when
 * the condition comes `after <step>`, when that step finished: its metrics must show a datapoint
 * newer than that. A step that did not finish (skipped, failed) sets no bound.
 *
 * The payload only names the incident and the step; its condition text and the names of its step
 * outputs must agree with the compiled playbook (the machine sends exactly those), its values are
 * never read (a forged call could otherwise put a false `condition_evaluated` event on the
 * timeline, which approval requests quote as evidence).
 * @throws IncidentNotFoundError, PlaybookVersionError, ConditionMismatchError
 */
async function conditionBasis(deps: CoreDeps, p: CorePayload<'Fn_evaluate:condition'>): Promise<{ incident: IncidentRef; closed: boolean; source: string; variables: Record<string, unknown>; after?: { step: string; at: Date } }> {
  const stored = await readIncidentWithSteps(deps.doc, deps.tables, p.incident.id);
  if (!stored) throw new IncidentNotFoundError(p.incident.id);
  const incident = refOf(stored.incident);
  const machine = deps.playbooks.get(incident.playbook);
  if (!machine) throw new PlaybookVersionError(`playbook ${incident.playbook} of ${incident.id} is not among the compiled playbooks this function was deployed with; condition of step "${p.step}" not evaluated`);
  if (stored.incident.playbookHash !== machine.hash) {
    const pinned = stored.incident.playbookHash ? `version ${stored.incident.playbookHash.slice(0, 12)}…` : 'no pinned version (its Start incident state did not run)';
    throw new PlaybookVersionError(`incident ${incident.id} runs playbook ${incident.playbook} ${pinned}, this function has ${machine.hash.slice(0, 12)}…; condition of step "${p.step}" not evaluated`);
  }
  const compiled = machine.steps.find((s) => s.name === p.step);
  if (!compiled) throw new ConditionMismatchError(incident.id, p.step, `playbook ${incident.playbook} has no step "${p.step}"`);
  if (compiled.condition === undefined) throw new ConditionMismatchError(incident.id, p.step, `the step has no condition in playbook ${incident.playbook}`);
  if (p.condition !== compiled.condition) throw new ConditionMismatchError(incident.id, p.step, `the payload's condition ${JSON.stringify(p.condition.slice(0, 200))} is not the compiled ${JSON.stringify(compiled.condition)}`);
  const names = new Set(machine.steps.map((s) => s.name));
  const strangers = Object.keys(p.steps).filter((name) => !names.has(name));
  if (strangers.length > 0) throw new ConditionMismatchError(incident.id, p.step, `the payload carries outputs of steps playbook ${incident.playbook} does not have (${strangers.map((n) => JSON.stringify(n.slice(0, 80))).join(', ')})`);
  const variables = storedVariables(stored.incident, stored.steps, (s) => deps.policy.services.entry(s).deployment);
  const finished = compiled.afterStep ? stored.steps[compiled.afterStep] : undefined;
  const base = { incident, closed: isFinalStatus(stored.incident.status), source: compiled.condition, variables };
  if (!compiled.afterStep || finished?.state !== 'done' || !finished.finishedAt) return base;
  return { ...base, after: { step: compiled.afterStep, at: new Date(finished.finishedAt) } };
}

/** `<step>: check condition`: true / false / unknown / pending, with the values used. */
export async function evaluateCondition(payload: unknown, deps: CoreDeps): Promise<{ result: string; values: Record<string, unknown> }> {
  const p = conditionPayloadSchema.parse(payload);
  const now = deps.now();
  const basis = await conditionBasis(deps, p);
  // A closed incident (resolved, by hand too, or failed) runs no more steps: its condition is not
  // evaluated, and nothing is read, recorded or counted toward the data-collection breaker (a
  // forged call on closed incidents could otherwise wear that rate down). `unknown` skips the step.
  if (basis.closed) return { result: 'unknown', values: {} };
  const { incident, source, variables, after } = basis;
  const condition = parseCondition(source);
  // `confidence` / `recent_deploy` come from the stored investigation when it answers them (lib/runtime/condition-investigation.ts).
  const names = variablesOf(condition);
  const investigated = names.some((n) => INVESTIGATION_CONDITION_VARIABLES.includes(n)) ? investigationVariables(await getTimeline(deps.doc, deps.tables, incident.id), deps.playbooks.step(incident.playbook, p.step), names) : undefined;
  const e = await evaluateStepCondition({ condition, variables: { ...conditionVariables(condition, variables, deps.catalogue), ...investigated?.variables }, metrics: deps.metrics, catalogue: deps.catalogue, service: incident.service, now, ...(after ? { notBefore: after.at } : {}) });
  const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: e.missing.length === 0 });
  const stale = e.stale && after ? ` (waiting for data newer than ${after.step}: ${e.stale.join(', ')})` : '';
  await appendEvent(deps.doc, deps.tables, incident.id, {
    at: now,
    type: 'condition_evaluated',
    step: p.step,
    summary: `${p.step}: "${source}" is ${e.result}${e.missing.length ? ` (no data: ${e.missing.join(', ')})` : ''}${stale}`,
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
  const stored = await getIncident(deps.doc, deps.tables, p.incident.id);
  // A closed incident is not checked again, and counts nothing toward the breakers: resolved is recovered, failed is not known.
  if (isFinalStatus(stored.status)) return { result: stored.status === 'RESOLVED' ? 'true' : 'unknown' };
  const incident = refOf(stored);
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
