/** kubectl_scale: set a deployment's replica count (seed scenario 5, consumers). */
import * as z from '../yaml/zod';
import { constantNumber, deploymentName, numberOrExpression, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import { deploymentTarget, targetText } from './kubernetes';
import type { KubeOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

export const action = defineAction({
  name: 'kubectl_scale',
  description: 'Scale a deployment to a replica count, e.g. replicas: current * 2. Never to zero; not a deployment an HPA scales.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params: z.strictObject({ deployment: deploymentName, replicas: numberOrExpression }),
  expressionParams: ['replicas'],
  bounds: { replicas: { local: 'current', floor: 'min_scale_factor', ceiling: 'max_scale_factor' } },
  locals: { replicas: ['current'] },
  outputs: ['current_replicas', 'replicas'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p, policy) {
    const n = constantNumber(p.replicas);
    if (n === undefined) return [];
    const written = typeof p.replicas === 'number' ? String(p.replicas) : JSON.stringify(p.replicas);
    if (n < 1) return [`replicas ${written}: scaling to zero stops the service; the agent never does that`];
    if (!Number.isInteger(n)) return [`replicas ${written} is not a whole number of replicas`];
    if (n > policy.caps.max_replicas) return [`replicas ${written} is over the policy ceiling max_replicas ${policy.caps.max_replicas}`];
    return [];
  },
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_scale');
    const target = deploymentTarget(ctx, p.deployment, 'kubectl_scale');
    const at = targetText(target);
    // The first attempt's reading: a retried "current * 2" doubles what the first attempt saw, once.
    const first = await ctx.remember('deployment', () => kube.readDeployment(target));
    const replicas = Number(ctx.resolve(p.replicas, { current: first.replicas }, 'replicas'));
    if (!Number.isInteger(replicas) || replicas < 1) throw new InvalidParameterError(`kubectl_scale: replicas for ${at} resolved to ${replicas}, not a positive integer (never zero)`, { target: at });
    const ceiling = Math.min(ctx.policy.caps.max_replicas, Math.max(1, Math.floor(first.replicas * ctx.policy.caps.max_scale_factor)));
    if (replicas > ceiling) throw new PolicyViolationError(`kubectl_scale: ${replicas} replicas for ${at} is over the cap ${ceiling} (max_scale_factor ${ctx.policy.caps.max_scale_factor} × ${first.replicas}, max_replicas ${ctx.policy.caps.max_replicas})`);
    const change = await kube.scaleDeployment(target, replicas);
    const unchanged = change.before.replicas === replicas;
    return {
      summary: unchanged ? `${at} already at ${replicas} replicas; unchanged` : `${at} replicas ${change.before.replicas} → ${change.after.replicas} (server dry run accepted ${change.dryRun.replicas}; ${change.after.readyReplicas} ready so far)`,
      before: change.before,
      after: { ...change.after, dryRunReplicas: change.dryRun.replicas, conflictsRetried: change.conflictsRetried },
      outputs: { current_replicas: first.replicas, replicas: change.after.replicas },
    };
  },
});
