/** api_call: call an admin endpoint of a service, e.g. matching-engine:8080/admin/gc (scenario 2). */
import * as z from '../yaml/zod';
import { endpointHost, requireTarget } from './common';
import { defineAction } from './define';
import { TransientTargetError, ActionError } from './errors';
import type { HttpOps } from './ports';
import { PolicyViolationError } from '../policy/errors';
import { requestTexts } from '../policy/endpoints';

/** Characters of the response body kept in `after` and the `response_body` output. */
export const RESPONSE_BODY_LIMIT = 4096;

export const action = defineAction({
  name: 'api_call',
  description: 'Call an internal admin HTTP endpoint (POST by default).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({
    endpoint: z.string().check(z.minLength(1)),
    method: z._default(z.enum(['GET', 'POST', 'PUT']), 'POST'),
    body: z.optional(z.unknown()),
  }),
  outputs: ['response_status', 'response_body'],
  uses: ['http'],
  iamActions: [],
  roles: { endpoints: ['endpoint'], bodies: ['body'] },
  targets: (p) => [{ kind: 'service', name: endpointHost(p.endpoint) }, { kind: 'endpoint', name: p.endpoint }],
  async run(p, ctx) {
    // What the policy checked is what is called: the normal form (decoded, `..`-resolved path).
    const normal = ctx.policy.normaliseEndpoint(p.endpoint);
    if (!ctx.policy.isEndpointAllowed(normal)) throw new PolicyViolationError(`api_call: endpoint ${normal.key} is not on the allow-list (api_endpoints in playbooks/policy.yaml)`, { rule: 'endpoint-allow-list', step: ctx.step });
    // The query and body say what the call does (`?op=halt`): held against the blacklist again here.
    const hit = requestTexts(normal, p.body).flatMap((text) => ctx.policy.classify('endpoints', text))[0];
    if (hit) throw new PolicyViolationError(`api_call: ${normal.key}: blacklisted operation, category ${hit.category}: ${hit.reason} (in its query or body)`, { rule: 'blacklisted-parameters', category: hit.category, step: ctx.step });
    const http = requireTarget<HttpOps>(ctx, 'http', 'api_call');
    const url = normal.url;
    const res = await http.request(p.method, url, p.body);
    if (res.status >= 500) throw new TransientTargetError(`api_call: ${p.method} ${url} answered ${res.status}`, { target: url });
    if (res.status >= 400) throw new ActionError(`api_call: ${p.method} ${url} answered ${res.status}: ${res.body.slice(0, 200)}`, { target: url });
    // The answer goes on the timeline and into later steps, bounded (a state's payload is at most 256 KiB).
    const truncated = res.truncated === true || res.body.length > RESPONSE_BODY_LIMIT;
    const body = res.body.slice(0, RESPONSE_BODY_LIMIT);
    return {
      summary: `${p.method} ${url} → ${res.status}${body ? `: ${body.slice(0, 120)}${body.length > 120 || truncated ? '…' : ''}` : ''}`,
      after: { status: res.status, body, ...(truncated ? { bodyTruncated: true } : {}) },
      outputs: { response_status: res.status, response_body: body },
    };
  },
});
