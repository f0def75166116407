/** rolling_restart: `kubectl rollout restart`, optionally one pod at a time (scenarios 3 and 5). */
import { z } from 'zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';

export const action = defineAction({
  name: 'rolling_restart',
  description: 'Restart the pods of a deployment by a rolling update (restartedAt annotation).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({ deployment: deploymentName, strategy: z.enum(['one_at_a_time', 'rolling']).default('one_at_a_time') }),
  outputs: ['restarted_deployment'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 600,
  targets: (p) => serviceTargets(p.deployment),
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'rolling_restart');
    const before = await kube.readDeployment(p.deployment);
    if (before.paused) throw new InvalidParameterError(`rolling_restart: deployment ${p.deployment} is paused; resume it first`, { target: p.deployment });
    const after = await kube.restartDeployment(p.deployment, { maxUnavailable: p.strategy === 'one_at_a_time' ? 1 : Math.max(1, Math.floor(before.replicas / 4)) });
    return { summary: `restarted ${p.deployment} (${p.strategy})`, before, after, outputs: { restarted_deployment: p.deployment } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
