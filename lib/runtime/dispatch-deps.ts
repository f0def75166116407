/**
 * What the action dispatcher consults and records, over DynamoDB: the incident and its step
 * records, breaker gate and attempt budget, approval records, the timeline. One wiring for the
 * Lambdas and the local engine.
 */
import type { ActionTargets } from '../actions/define';
import type { DispatchDeps } from '../actions/dispatch';
import { findApprovalForStep, markApprovalUsed } from '../approval/store';
import { gate, recordRemediationAttempt, recordRemediationResult } from '../breaker';
import { appendEvent, claimStep, finishStep, readIncidentWithSteps, rememberStepValue } from '../incident';
import type { Policy } from '../policy/policy';
import { recordBreakerChangesOf } from './core/common';
import type { CoreDeps } from './core/deps';

export function dispatchDepsOf(core: CoreDeps, targets: ActionTargets, policy: Policy): DispatchDeps {
  const { doc, tables, breakerConfig: cfg, now } = core;
  return {
    targets,
    policy,
    playbooks: core.playbooks,
    now,
    load: (incidentId) => readIncidentWithSteps(doc, tables, incidentId),
    claim: (input) => claimStep(doc, tables, input),
    remember: (incidentId, step, claimId, key, value) => rememberStepValue(doc, tables, incidentId, step, claimId, key, value),
    finish: async (incidentId, step, claimId, outcome) => {
      const ok = await finishStep(doc, tables, incidentId, step, claimId, outcome, now());
      // An approval works once: the step it approved has run.
      if (ok && outcome.state === 'done') await markApprovalUsed(doc, tables, incidentId, step, now());
      return ok;
    },
    approval: (incidentId, step) => findApprovalForStep(doc, tables, incidentId, step),
    gate: async (service, incidentId) => {
      const decision = await gate(doc, tables, cfg, now(), { service });
      // A cool-down that ends at this gate is a breaker change like any other: on the timeline.
      await recordBreakerChangesOf(core, incidentId, decision.changes);
      return decision;
    },
    attempt: async (service, incidentId) => {
      const r = await recordRemediationAttempt(doc, tables, cfg, now(), service);
      // A trip caused by this attempt is recorded on the incident and notifies the service owner.
      await recordBreakerChangesOf(core, incidentId, r.changes);
      return { allowed: r.allowed, reason: r.reason };
    },
    succeeded: async (service) => void (await recordRemediationResult(doc, tables, cfg, now(), { service, ok: true })),
    record: async (incidentId, e) => void (await appendEvent(doc, tables, incidentId, { at: now(), actor: 'agent', ...e, data: e.data as Record<string, unknown> | undefined })),
  };
}
