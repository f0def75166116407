/**
 * `${Fn_approval_request}`: stores the approval record with its task token (waitForTaskToken),
 * renders the approval message and sends the request.
 */
import { requestApproval } from '../../approval/store';
import { recordDataCollection } from '../../breaker';
import { IncidentNotFoundError } from '../../incident/errors';
import { appendEvent, getIncident, getTimeline, readIncidentWithSteps, transitionIncident } from '../../incident';
import type { CompiledStep } from '../../compiled/manifest';
import { approvalBinding, type ApprovalBinding } from '../../policy/binding';
import { renderText, resolveParams, resolveTargets, storedVariables } from '../../actions/resolve';
import { isTemplate, parseTemplate, variablesOf, type Value } from '../../compiled/expression';
import { APPROVAL_REJECTED_ERROR } from '../../approval/callback';
import { notifyApprovalRequest } from '../notifications';
import { PlaybookVersionError } from '../errors';
import type { IncidentRef } from '../payload';
import { investigationLines, riskOfStep, type RiskBasis } from '../../analysis/investigate';
import { labelledSummary, llmSummaryOf } from '../../analysis/summary';
import { INVESTIGATION_COMPLETED, type InvestigationResult } from '../../analysis/types';
import type { CoreDeps, CoreOps } from './deps';
import { recordBreakerChanges, storedRef } from './common';
import { approvalRequestPayloadSchema } from '../../compiled/payload';

/**
 * A compiled step's parameters resolved from stored state (the incident and the outputs its
 * earlier steps recorded) and the binding an approval of it names: the same resolution the
 * action dispatcher does, so the guard finds the same binding.
 */
export async function resolvedStep(deps: CoreDeps, incidentId: string, compiled: CompiledStep): Promise<{ params: Record<string, unknown>; binding: ApprovalBinding; vars: Record<string, unknown> }> {
  const stored = await readIncidentWithSteps(deps.doc, deps.tables, incidentId);
  if (!stored) throw new IncidentNotFoundError(incidentId);
  const vars = storedVariables(stored.incident, stored.steps, (s) => deps.policy.services.entry(s).deployment);
  const params = resolveParams(compiled, compiled.params, vars, compiled.name);
  return { params, binding: approvalBinding(compiled.action, params, resolveTargets(compiled.targets, vars), deps.policy), vars };
}

/**
 * Latest value of each metric (or alias) named, for messages: `350ms`, `92%`, `12000/s`; a
 * metric without data shows as `unknown` (never 0) and is listed in `missing`.
 */
async function displayMetrics(names: readonly string[], deps: CoreDeps, service: string): Promise<{ values: Record<string, Value>; missing: string[] }> {
  const values: Record<string, Value> = {};
  const missing: string[] = [];
  const now = deps.now();
  for (const name of names) {
    const metric = deps.catalogue.metrics[name] ? name : deps.catalogue.aliases[name];
    const spec = metric ? deps.catalogue.metrics[metric] : undefined;
    if (!metric || !spec) continue;
    const points = await deps.metrics.series({ name: metric, service, from: new Date(now.getTime() - 2 * spec.period * 1000), to: now });
    const last = points.at(-1);
    if (last === undefined) missing.push(name);
    values[name] = last === undefined ? 'unknown' : formatMetric(last.value, spec.unit);
  }
  return { values, missing };
}

/** A base-unit value shown in the catalogue's unit. */
export function formatMetric(base: number, unit: string): string {
  const round = (n: number) => String(Math.round(n * 100) / 100);
  switch (unit) {
    case 'Milliseconds':
      return `${round(base * 1000)}ms`;
    case 'Microseconds':
      return `${round(base * 1e6)}µs`;
    case 'Seconds':
      return `${round(base)}s`;
    case 'Percent':
      return `${round(base * 100)}%`;
    case 'Count/Second':
      return `${round(base)}/s`;
    default:
      return round(base);
  }
}

/**
 * What approvers read of the investigation (lib/analysis): its top hypotheses with evidence, the
 * trend, similar incidents, and the risk of THIS step (its risk, target, the hypothesis it acts on);
 * last, the LLM summary when one was generated, labelled advisory.
 * Empty when no investigation completed.
 */
async function approvalAnalysis(deps: CoreDeps, incident: IncidentRef, compiled: CompiledStep, params: Record<string, unknown>): Promise<string[]> {
  const timeline = await getTimeline(deps.doc, deps.tables, incident.id);
  const event = timeline.filter((e) => e.type === INVESTIGATION_COMPLETED).at(-1);
  const result = event?.data?.investigation as InvestigationResult | undefined;
  if (!result) return [];
  const basis = (event?.data?.basis ?? {}) as RiskBasis;
  const target = String(params.deployment ?? params.service ?? incident.service);
  const risk = riskOfStep(compiled, target, result.hypotheses, basis, (s) => deps.policy.isProtected(s) || deps.policy.isProtected(incident.service));
  const spec = (m: string) => deps.catalogue.metrics[m];
  const lines = investigationLines({ ...result, risk }, (m, v) => (spec(m) ? formatMetric(v, spec(m)!.unit) : String(v)));
  // The LLM summary, when there is one, comes last and labelled: approvers read it as advice, the record's decision fields never come from it.
  const llm = llmSummaryOf(event?.data);
  return [`调查完成于 ${result.completedAt}`, ...lines.map((l) => (l.startsWith('风险评估: ') ? `风险评估 (${compiled.name}): ${l.slice('风险评估: '.length)}` : l)), ...(llm ? [labelledSummary(llm)] : [])];
}

/**
 * Stores the approval record with its task token, renders the seed's approval_message from live
 * metrics, and sends it to the level's recipients with the evidence so far and each approver's
 * links. What is approved, by whom, comes from the compiled step the function bundles and from
 * stored state; the payload only says which incident, step and level, and the task token. An
 * approval decided while it escalated releases this level's task at once.
 */
export async function requestStepApproval(payload: unknown, deps: CoreDeps): Promise<{ approvalId: string; message: string }> {
  const p = approvalRequestPayloadSchema.parse(payload);
  const now = deps.now();
  const incident = await storedRef(deps, p.incident);
  const compiled = deps.playbooks.step(incident.playbook, p.step);
  const machine = deps.playbooks.get(incident.playbook);
  if (!compiled || !machine || compiled.mode !== 'approval') throw new PlaybookVersionError(`playbook ${incident.playbook} has no approval step "${p.step}" in the compiled playbooks of this function`);
  const { params, binding, vars } = await resolvedStep(deps, incident.id, compiled);
  const windows = [machine.escalationSeconds.oncall_sre, machine.escalationSeconds.team_lead, machine.escalationSeconds.director];
  const window = windows[p.level - 2] ?? windows[0]!;
  // Locally the engine speeds windows up; a payload can shorten a window, never lengthen it.
  const timeout = Math.min(p.timeout_seconds, window);
  // The window opened when the state was entered (its timeout counts from then), never later than now.
  const opened = p.window_opened_at && Date.parse(p.window_opened_at) < now.getTime() ? new Date(p.window_opened_at) : now;
  const total = (timeout / window) * windows.slice(p.level - 2).reduce((a, b) => a + b, 0);
  // The message's variables come from stored state only: the stored incident and the outputs its
  // steps recorded (vars, which already hold the incident's service, deployment, ids and alarm),
  // then live metrics below. Never from the payload's context or step outputs: a forged request
  // must not change what approvers read ("p99 5ms" while it is 350 ms).
  let message = compiled.approvalMessage ?? `Approve ${compiled.action} for step ${p.step} (risk ${compiled.risk})?`;
  if (isTemplate(message)) {
    const t = parseTemplate(message);
    const wanted = variablesOf(t).filter((n) => !(n in vars));
    const shown = await displayMetrics(wanted, deps, incident.service);
    Object.assign(vars, shown.values);
    // An output of a step that did not run shows as (unavailable): the request still goes out.
    message = renderText(message, vars);
    // Metrics read for the message count toward the data-collection failure rate, as conditions do.
    if (Object.keys(shown.values).length > 0) {
      const { changes } = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: shown.missing.length === 0 });
      await recordBreakerChanges(deps, incident, changes);
    }
  }
  const analysis = await approvalAnalysis(deps, incident, compiled, params);
  const rec = await requestApproval(deps.doc, deps.tables, {
    incidentId: incident.id,
    step: p.step,
    action: compiled.action,
    level: p.level,
    approvers: compiled.approvers,
    minApprovals: compiled.minApprovals,
    taskToken: p.taskToken,
    timeoutSeconds: timeout,
    windowOpenedAt: opened,
    totalSeconds: total,
    message,
    risk: compiled.risk,
    binding,
    params,
    ...(compiled.note ? { note: compiled.note } : {}),
    ...(analysis.length > 0 ? { analysis } : {}),
    ...(p.execution ? { executionArn: p.execution } : {}),
  }, now);
  if (rec.status !== 'PENDING') {
    // Decided at a window's edge, while the approval escalated: this level's task goes on at once.
    await appendEvent(deps.doc, deps.tables, incident.id, { at: now, type: 'approval_already_decided', step: p.step, summary: `approval ${rec.approvalId} for ${p.step} was ${rec.status} while it escalated to level ${p.level}; the playbook goes on with that decision`, data: { approvalId: rec.approvalId, level: p.level, status: rec.status } });
    if (rec.status === 'APPROVED') await deps.tasks?.succeed(p.taskToken, { approvalId: rec.approvalId, decisions: rec.decisions });
    else {
      const by = rec.decisions.find((d) => d.decision === 'reject');
      await deps.tasks?.fail(p.taskToken, APPROVAL_REJECTED_ERROR, `${by ? `${by.person} (${by.role})` : 'an approver'} rejected ${p.step}${by?.reason ? `: ${by.reason}` : ''}`);
    }
    return { approvalId: rec.approvalId, message };
  }
  const current = await getIncident(deps.doc, deps.tables, incident.id);
  if (current.status === 'MITIGATING' || current.status === 'OPEN') {
    if (current.status === 'OPEN') await transitionIncident(deps.doc, deps.tables, incident.id, 'MITIGATING', now, { actor: 'agent' });
    await transitionIncident(deps.doc, deps.tables, incident.id, 'AWAITING_APPROVAL', now, { actor: 'agent', step: p.step });
  }
  await appendEvent(deps.doc, deps.tables, incident.id, {
    at: now,
    type: 'approval_requested',
    step: p.step,
    summary: `approval requested from ${compiled.approvers.join(' + ')} (level ${p.level}) for ${p.step}: ${message.trim()}`,
    data: { approvalId: rec.approvalId, level: p.level, windowOpenedAt: opened.toISOString(), expiresAt: rec.expiresAt, levelExpiresAt: rec.levelExpiresAt ?? null, params, binding, ...(compiled.note ? { note: compiled.note } : {}), analysis: rec.analysis ?? analysis },
  });
  await notifyApprovalRequest(deps, { incident, step: p.step, action: compiled.action, level: p.level, risk: compiled.risk, note: compiled.note, message, record: rec, params, analysis: rec.analysis ?? analysis });
  return { approvalId: rec.approvalId, message };
}

/** `${Fn_approval_request}`'s operations by `op`. */
export const APPROVAL_REQUEST_OPS: CoreOps = { request: requestStepApproval };
