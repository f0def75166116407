/** rolling_restart: `kubectl rollout restart`, optionally one pod at a time (scenarios 3 and 5). */
import * as z from '../yaml/zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { TargetPausedError } from './errors';
import { deploymentTarget, stepWaitSeconds, targetText } from './kubernetes';
import type { KubeOps } from './ports';


export const action = defineAction({
  name: 'rolling_restart',
  description: 'Restart the pods of a deployment by a rolling update (restartedAt annotation); one_at_a_time: maxSurge 1 / maxUnavailable 0, each new pod Ready before the next.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({ deployment: deploymentName, strategy: z._default(z.enum(['one_at_a_time', 'rolling']), 'one_at_a_time') }),
  outputs: ['restarted_deployment'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 600,
  targets: (p) => serviceTargets(p.deployment),
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'rolling_restart');
    const target = deploymentTarget(ctx, p.deployment, 'rolling_restart');
    const at = targetText(target);
    const first = await ctx.remember('deployment', () => kube.readDeployment(target));
    if (first.paused) throw new TargetPausedError(`rolling_restart: deployment ${at} is paused; resume it first (kubectl rollout resume deployment/${target.name} -n ${target.namespace})`, { target: at });
    // One stamp per step, as `kubectl rollout restart` writes it (RFC 3339, seconds): a retry re-applies
    // the same template and starts no second rollout.
    const restartedAt = await ctx.remember('restartedAt', async () => ctx.now().toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const result = await kube.restartDeployment(target, { restartedAt, strategy: p.strategy, timeoutSeconds: stepWaitSeconds(ctx), originalStrategy: first.strategy });
    const r = result.rollout;
    return {
      summary: `restarted ${at} (${p.strategy}): ${r.podsReady.length} new pod(s) Ready in ${Math.round(r.seconds)} s, ${r.readyReplicas}/${r.desiredReplicas} ready; restartedAt ${restartedAt}`,
      before: result.before,
      after: { ...result.after, rollout: r, conflictsRetried: result.conflictsRetried },
      outputs: { restarted_deployment: target.name },
    };
  },
});
