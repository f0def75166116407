/** patch_hpa_max: raise a HorizontalPodAutoscaler's maxReplicas (seed scenario 1). */
import { z } from 'zod';
import { deploymentName, numberOrExpression, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'patch_hpa_max',
  description: "Raise the HPA's maxReplicas of a deployment, e.g. new_max: current_max * 2.",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params: z.strictObject({ deployment: deploymentName, new_max: numberOrExpression }),
  expressionParams: ['new_max'],
  bounds: { new_max: { local: 'current_max', floor: 'min_scale_factor', ceiling: 'max_scale_factor' } },
  locals: { new_max: ['current_max'] },
  outputs: ['current_max', 'new_max'],
  iamActions: ['eks:DescribeCluster'],
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p, policy) {
    if (typeof p.new_max === 'number' && p.new_max > policy.caps.max_replicas) {
      return [`new_max ${p.new_max} is over the policy ceiling max_replicas ${policy.caps.max_replicas}`];
    }
    return [];
  },
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'patch_hpa_max');
    const before = await kube.readHpa(p.deployment);
    const newMax = Number(ctx.resolve(p.new_max, { current_max: before.maxReplicas }, 'new_max'));
    if (!Number.isInteger(newMax) || newMax < 1) throw new InvalidParameterError(`patch_hpa_max: new_max resolved to ${newMax}, not a positive integer`, { target: p.deployment });
    const ceiling = Math.min(ctx.policy.caps.max_replicas, Math.floor(before.maxReplicas * ctx.policy.caps.max_scale_factor));
    if (newMax > ceiling) {
      throw new PolicyViolationError(`patch_hpa_max: new_max ${newMax} for ${p.deployment} is over the cap ${ceiling} (max_scale_factor ${ctx.policy.caps.max_scale_factor} × ${before.maxReplicas}, max_replicas ${ctx.policy.caps.max_replicas})`);
    }
    if (newMax <= before.maxReplicas) {
      return { summary: `HPA ${p.deployment} max already ${before.maxReplicas} (≥ ${newMax}); unchanged`, before, after: before, outputs: { current_max: before.maxReplicas, new_max: before.maxReplicas } };
    }
    const after = await kube.patchHpaMax(p.deployment, newMax);
    return { summary: `HPA ${p.deployment} maxReplicas ${before.maxReplicas} → ${after.maxReplicas}`, before, after, outputs: { current_max: before.maxReplicas, new_max: after.maxReplicas } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
