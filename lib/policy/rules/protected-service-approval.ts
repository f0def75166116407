/**
 * protected-service-approval: mutating steps on the matching engine always need approval, even at
 * low risk (seed §2 scenario 2: "即使低风险，撮合引擎也需审批"); so do those on the other protected
 * services (wallet, settlement) and every mutating step of an incident on one. Services are
 * recognised by identity: FQDN, namespace/name, host:port and case are the same service.
 */
import { EndpointError } from '../endpoints';
import { isTemplated } from '../step';
import { defineRule, type Finding } from './rule';

export const rule = defineRule({
  id: 'protected-service-approval',
  description: 'Mutating steps that touch a protected service (the matching engine first) need approval.',
  phases: ['compile', 'runtime'],
  check(step, policy, _phase, finding) {
    if (!step.action.mutates) return [];
    const names = new Set<string>();
    for (const t of step.action.targets?.(step.params) ?? []) {
      if ((t.kind === 'service' || t.kind === 'endpoint') && !isTemplated(t.name)) names.add(t.name);
    }
    for (const param of step.action.roles?.endpoints ?? []) {
      const value = step.params[param];
      if (typeof value !== 'string' || isTemplated(value)) continue;
      try {
        names.add(policy.normaliseEndpoint(value).service);
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err;
      }
    }
    if (step.service) names.add(step.service);
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      if (!policy.isProtected(name)) continue;
      const id = policy.services.identify(name).name;
      if (seen.has(id)) continue;
      seen.add(id);
      const why = policy.isMatchingEngine(name)
        ? `mutating steps on the matching engine (${name}) always need approval, even at low risk (seed §2 scenario 2)`
        : `"${name}" is a protected service (playbooks/policy.yaml): its mutating steps need approval`;
      // The fix goes where the step says it runs on its own.
      out.push(finding({ effect: 'needs_approval', field: ['auto_execute'], message: why, fix: 'add requires_approval: true' }));
    }
    return out;
  },
});
