/** kubectl_rollout_undo: roll a deployment back to its previous revision (scenario 2). */
import { z } from 'zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';

export const action = defineAction({
  name: 'kubectl_rollout_undo',
  description: 'Roll a deployment back to the previous (or a given) revision.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'HIGH',
  params: z.strictObject({ deployment: deploymentName, to_revision: z.number().int().positive().optional() }),
  outputs: ['rolled_back_from', 'rolled_back_to'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 600,
  targets: (p) => serviceTargets(p.deployment),
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_rollout_undo');
    const before = await kube.readDeployment(p.deployment);
    if (before.paused) throw new InvalidParameterError(`kubectl_rollout_undo: deployment ${p.deployment} is paused; kubectl refuses to undo a paused rollout`, { target: p.deployment });
    const { from, to } = await kube.undoDeployment(p.deployment, p.to_revision);
    const after = await kube.readDeployment(p.deployment);
    return { summary: `rolled ${p.deployment} back from revision ${from} to ${to}`, before, after, outputs: { rolled_back_from: from, rolled_back_to: to } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
