/**
 * What the action dispatcher consults and records, over DynamoDB: breaker gate and attempt
 * budget, approval records, the timeline. One wiring for the Lambdas and the local engine.
 */
import type { ActionTargets } from '../actions/define';
import type { DispatchDeps } from '../actions/dispatch';
import { isStepApproved } from '../approval/store';
import { gate, recordRemediationAttempt, recordRemediationResult } from '../breaker';
import { appendEvent } from '../incident';
import type { Policy } from '../policy/policy';
import { recordBreakerChangesOf, type CoreDeps } from './core';

export function dispatchDepsOf(core: CoreDeps, targets: ActionTargets, policy: Policy): DispatchDeps {
  const { doc, tables, breakerConfig: cfg, now } = core;
  return {
    targets,
    policy,
    now,
    gate: async (service, incidentId) => {
      const decision = await gate(doc, tables, cfg, now(), { service });
      // A cool-down that ends at this gate is a breaker change like any other: on the timeline.
      await recordBreakerChangesOf(core, incidentId, decision.changes);
      return decision;
    },
    approved: (incidentId, step) => isStepApproved(doc, tables, incidentId, step),
    attempt: async (service, incidentId) => {
      const r = await recordRemediationAttempt(doc, tables, cfg, now(), service);
      // A trip caused by this attempt is recorded on the incident and notifies the service owner.
      if (incidentId) await recordBreakerChangesOf(core, incidentId, r.changes);
      return { allowed: r.allowed, reason: r.reason };
    },
    succeeded: async (service) => void (await recordRemediationResult(doc, tables, cfg, now(), { service, ok: true })),
    record: async (incidentId, e) => void (await appendEvent(doc, tables, incidentId, { at: now(), actor: 'agent', ...e, data: e.data as Record<string, unknown> | undefined })),
  };
}
