/** patch_hpa_max: raise a HorizontalPodAutoscaler's maxReplicas (seed scenario 1). */
import * as z from '../yaml/zod';
import { constantNumber, deploymentName, numberOrExpression, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import { deploymentTarget, targetText } from './kubernetes';
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
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p, policy) {
    const n = constantNumber(p.new_max);
    if (n === undefined) return [];
    if (!(Number.isInteger(n) && n >= 1)) return [`new_max ${JSON.stringify(p.new_max)} is not a positive whole number of replicas; the agent only raises maxReplicas`];
    if (n > policy.caps.max_replicas) return [`new_max ${JSON.stringify(p.new_max)} is over the policy ceiling max_replicas ${policy.caps.max_replicas}`];
    return [];
  },
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'patch_hpa_max');
    const target = deploymentTarget(ctx, p.deployment, 'patch_hpa_max');
    const at = targetText(target);
    // The first attempt's reading: a retried "current_max * 2" doubles what the first attempt saw, once.
    const first = await ctx.remember('hpa', () => kube.readHpa(target));
    const newMax = Number(ctx.resolve(p.new_max, { current_max: first.maxReplicas }, 'new_max'));
    if (!Number.isInteger(newMax) || newMax < 1) throw new InvalidParameterError(`patch_hpa_max: new_max for ${at} resolved to ${newMax}, not a positive integer`, { target: at });
    const ceiling = Math.min(ctx.policy.caps.max_replicas, Math.floor(first.maxReplicas * ctx.policy.caps.max_scale_factor));
    if (newMax > ceiling) {
      throw new PolicyViolationError(`patch_hpa_max: new_max ${newMax} for ${at} is over the cap ${ceiling} (max_scale_factor ${ctx.policy.caps.max_scale_factor} × ${first.maxReplicas}, max_replicas ${ctx.policy.caps.max_replicas})`);
    }
    const live = await kube.readHpa(target);
    if (live.maxReplicas >= newMax) {
      // Raising never lowers: someone (or this step's first attempt) already set it at least this high.
      return { summary: `HPA ${live.namespace}/${live.name} maxReplicas already ${live.maxReplicas} (≥ ${newMax}); unchanged`, before: live, after: live, outputs: { current_max: first.maxReplicas, new_max: live.maxReplicas } };
    }
    const change = await kube.patchHpaMax(target, newMax);
    const a = change.after;
    if (change.unchanged) {
      // Raised by another writer between the read above and the write (seen on a 409's re-read).
      return { summary: `HPA ${a.namespace}/${a.name} maxReplicas already ${a.maxReplicas} (≥ ${newMax}, raised concurrently); unchanged`, before: change.before, after: { ...a, conflictsRetried: change.conflictsRetried }, outputs: { current_max: first.maxReplicas, new_max: a.maxReplicas } };
    }
    return {
      summary: `HPA ${a.namespace}/${a.name} maxReplicas ${change.before.maxReplicas} → ${a.maxReplicas} (server dry run accepted ${change.dryRun.maxReplicas}; replicas ${a.currentReplicas}, desired ${a.desiredReplicas}${a.cpuUtilization !== undefined ? `, cpu ${a.cpuUtilization}%/${a.targetCpuUtilization}%` : ''})`,
      before: change.before,
      after: { ...a, dryRun: change.dryRun, conflictsRetried: change.conflictsRetried },
      outputs: { current_max: first.maxReplicas, new_max: a.maxReplicas },
    };
  },
});
