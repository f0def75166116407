/**
 * endpoint-allow-list: api_call reaches only endpoints on the policy's allow-list, compared in
 * normal form (service identity, port, decoded and resolved path). An endpoint that cannot be
 * put in normal form (double encoding, credentials, another scheme) is refused.
 */
import { EndpointError } from '../endpoints';
import { isTemplated } from '../step';
import { defineRule, type Finding } from './rule';

export const rule = defineRule({
  id: 'endpoint-allow-list',
  description: 'Admin endpoints are on api_endpoints in playbooks/policy.yaml, after normalisation.',
  phases: ['compile', 'runtime'],
  check(step, policy, phase, finding) {
    const out: Finding[] = [];
    for (const param of step.action.roles?.endpoints ?? []) {
      const value = step.params[param];
      if (typeof value !== 'string') continue;
      if (isTemplated(value)) {
        if (phase === 'runtime') out.push(finding({ effect: 'refuse', field: ['params', param], message: `endpoint "${value}" was not resolved`, fix: 'name the endpoint' }));
        continue;
      }
      try {
        const normal = policy.normaliseEndpoint(value);
        if (!policy.isEndpointAllowed(normal)) {
          out.push(finding({ effect: 'refuse', field: ['params', param], message: `endpoint "${value}" (${normal.key}) is not on the allow-list`, fix: `add "${normal.key}" to api_endpoints in playbooks/policy.yaml if the agent may call it` }));
        }
      } catch (err) {
        if (!(err instanceof EndpointError)) throw err;
        out.push(finding({ effect: 'refuse', field: ['params', param], message: err.message, fix: 'write the endpoint as <service>[.<namespace>[.svc.cluster.local]]:<port>/<path>, naming a service of playbooks/services.yaml' }));
      }
    }
    return out;
  },
});
