/** kubectl_scale: set a deployment's replica count (seed scenario 5, consumers). */
import { z } from 'zod';
import { deploymentName, numberOrExpression, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'kubectl_scale',
  description: 'Scale a deployment to a replica count, e.g. replicas: current * 2. Never to zero.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params: z.strictObject({ deployment: deploymentName, replicas: numberOrExpression }),
  expressionParams: ['replicas'],
  bounds: { replicas: { local: 'current', floor: 'min_scale_factor', ceiling: 'max_scale_factor' } },
  locals: { replicas: ['current'] },
  outputs: ['current_replicas', 'replicas'],
  iamActions: ['eks:DescribeCluster'],
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p, policy) {
    if (typeof p.replicas !== 'number') return [];
    if (p.replicas < 1) return [`replicas ${p.replicas}: scaling to zero stops the service; the agent never does that`];
    if (p.replicas > policy.caps.max_replicas) return [`replicas ${p.replicas} is over the policy ceiling max_replicas ${policy.caps.max_replicas}`];
    return [];
  },
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_scale');
    const before = await kube.readDeployment(p.deployment);
    const replicas = Number(ctx.resolve(p.replicas, { current: before.replicas }, 'replicas'));
    if (!Number.isInteger(replicas) || replicas < 1) throw new InvalidParameterError(`kubectl_scale: replicas resolved to ${replicas}, not a positive integer`, { target: p.deployment });
    const ceiling = Math.min(ctx.policy.caps.max_replicas, Math.max(1, Math.floor(before.replicas * ctx.policy.caps.max_scale_factor)));
    if (replicas > ceiling) throw new PolicyViolationError(`kubectl_scale: ${replicas} replicas for ${p.deployment} is over the cap ${ceiling}`);
    const after = await kube.scaleDeployment(p.deployment, replicas);
    return { summary: `${p.deployment} replicas ${before.replicas} → ${after.replicas}`, before, after, outputs: { current_replicas: before.replicas, replicas: after.replicas } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
