/**
 * `${Fn_breaker}`: the breaker gate before mutating steps, and failure counting.
 */
import { gate, recordDataCollection, recordRemediationResult, type BreakerChange } from '../../breaker';
import { appendEvent } from '../../incident';
import type { CoreDeps, CoreOps } from './deps';
import { errorSummary, recordBreakerChanges, storedRef } from './common';
import { failurePayloadSchema, gatePayloadSchema } from '../../compiled/payload';

/** `<step>: breaker gate`: mode `auto` lets a mutating step go on; otherwise it is skipped and recorded. */
export async function breakerGate(payload: unknown, deps: CoreDeps): Promise<{ mode: string; reason: string }> {
  const p = gatePayloadSchema.parse(payload);
  const now = deps.now();
  const incident = await storedRef(deps, p.incident);
  const decision = await gate(deps.doc, deps.tables, deps.breakerConfig, now, { service: incident.service });
  await recordBreakerChanges(deps, incident, decision.changes);
  if (decision.mode !== 'auto') {
    await appendEvent(deps.doc, deps.tables, p.incident.id, { at: now, type: 'step_skipped', step: p.step, summary: `${p.step} skipped: ${decision.mode} (${decision.reason})` });
  }
  return { mode: decision.mode, reason: decision.reason };
}

/** `<step>: failed`: counts toward the consecutive-failure breaker, records the failure. */
export async function recordStepFailure(payload: unknown, deps: CoreDeps): Promise<void> {
  const p = failurePayloadSchema.parse(payload);
  const now = deps.now();
  const incident = await storedRef(deps, p.incident);
  // Seed §3.2: a read-only diagnostic that fails is data collection failing (the agent may be
  // judging blind), not a remediation that failed; only mutating steps count toward the
  // consecutive-failure breaker. Which one it is comes from the compiled step, not the payload.
  const compiled = deps.playbooks.step(incident.playbook, p.step);
  const mutating = compiled?.mutates ?? true;
  let changes: BreakerChange[];
  let counted: string;
  if (mutating) {
    const r = await recordRemediationResult(deps.doc, deps.tables, deps.breakerConfig, now, { service: incident.service, ok: false });
    changes = r.changes;
    counted = `${r.consecutiveFailures} consecutive remediation failure(s)`;
  } else {
    const r = await recordDataCollection(deps.doc, deps.tables, deps.breakerConfig, now, { ok: false });
    changes = r.changes;
    counted = 'counted as a data-collection failure (read-only step)';
  }
  await appendEvent(deps.doc, deps.tables, incident.id, {
    at: now,
    type: 'step_failed',
    step: p.step,
    summary: `${p.step} failed (${errorSummary(p.error)}); ${p.on_fail === 'skip' ? 'skipping to the next step' : 'aborting and escalating'}; ${counted}`,
    data: { error: (p.error as object) ?? null, on_fail: p.on_fail, mutating },
  });
  await recordBreakerChanges(deps, incident, changes);
}

/** `${Fn_breaker}`'s operations by `op`. */
export const BREAKER_OPS: CoreOps = { gate: breakerGate, failure: recordStepFailure };
