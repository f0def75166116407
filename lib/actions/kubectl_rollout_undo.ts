/** kubectl_rollout_undo: roll a deployment back to its previous revision (scenario 2), as kubectl does. */
import * as z from '../yaml/zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { RolloutTimeoutError } from './errors';
import { deploymentTarget, stepWaitSeconds, targetText } from './kubernetes';
import type { KubeOps } from './ports';


export const action = defineAction({
  name: 'kubectl_rollout_undo',
  description: "Roll a deployment back to the previous (or a given) revision: the ReplicaSet's pod template, as `kubectl rollout undo`; waits until it is rolled out.",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({ deployment: deploymentName, to_revision: z.optional(z.int().check(z.positive())) }),
  outputs: ['rolled_back_from', 'rolled_back_to'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 600,
  targets: (p) => serviceTargets(p.deployment),
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_rollout_undo');
    const target = deploymentTarget(ctx, p.deployment, 'kubectl_rollout_undo');
    const at = targetText(target);
    // Which ReplicaSet to return to is decided once: a retry after the rollback must not "undo the
    // undo" (the previous revision is then the bad one again).
    const plan = await ctx.remember('undo', () => kube.planUndo(target, p.to_revision));
    const result = await kube.undoDeployment(target, plan);
    const rollout = await kube.waitForRollout(target, stepWaitSeconds(ctx));
    const change = `revision ${plan.fromRevision} → ${plan.toRevision} (ReplicaSet ${plan.replicaSet}${plan.image ? `, ${result.before.image} → ${plan.image}` : ''})`;
    if (!rollout.complete) {
      throw new RolloutTimeoutError(`kubectl_rollout_undo: rolled ${at} back ${change}, but the rollout did not finish in ${Math.round(rollout.seconds)} s: ${rollout.readyReplicas}/${rollout.desiredReplicas} ready, ${rollout.updatedReplicas} updated`, { target: at });
    }
    return {
      summary: result.skipped ? `${at} already runs the template of ${change}; skipped rollback (${rollout.readyReplicas}/${rollout.desiredReplicas} ready)` : `rolled ${at} back ${change}; rolled out, ${rollout.readyReplicas}/${rollout.desiredReplicas} ready in ${Math.round(rollout.seconds)} s`,
      before: result.before,
      after: { ...(await kube.readDeployment(target)), skipped: result.skipped, rollout, conflictsRetried: result.conflictsRetried },
      outputs: { rolled_back_from: plan.fromRevision, rolled_back_to: plan.toRevision },
    };
  },
});
