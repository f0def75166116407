/** kubectl_patch: raise a deployment's container memory limit (scenario 6). Nothing else is patchable. */
import * as z from '../yaml/zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { InvalidParameterError, RolloutTimeoutError } from './errors';
import { deploymentTarget, stepWaitSeconds, targetText } from './kubernetes';
import type { KubeOps } from './ports';
import { formatMemory, parseQuantity, roundUpToMebibyte } from './quantity';
import { PolicyViolationError } from '../policy/errors';

const PATCH_LINE = /^spec\.template\.spec\.containers\[(\d+)\]\.resources\.limits\.memory:\s*(.+)$/;

/** Kubernetes memory quantity (`512Mi`, `2Gi`, `1500000000`) → bytes. */
export function parseMemory(q: string | number): number {
  return parseQuantity(typeof q === 'string' ? q.trim().replace(/^"|"$/g, '') : q);
}

function parsePatch(patch: string): { container: number; value: string } | undefined {
  const m = PATCH_LINE.exec(patch.trim());
  return m ? { container: Number(m[1]), value: (m[2] as string).trim() } : undefined;
}

function deploymentOf(resource: string): string | undefined {
  return /^deployment\/(.+)$/.exec(resource)?.[1];
}

export const action = defineAction({
  name: 'kubectl_patch',
  description: "Patch a deployment's container memory limit (the only field the agent may patch), as a JSON patch computed from the live object; waits for the rollout.",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({ resource: z.string().check(z.regex(/^deployment\/.+$/, 'deployment/<name>')), patch: z.string().check(z.minLength(1)) }),
  locals: { patch: ['current_limit'] },
  bounds: { patch: { local: 'current_limit', floor: 'min_memory_factor', ceiling: 'max_memory_factor' } },
  outputs: ['previous_memory_limit', 'memory_limit'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 300,
  targets: (p) => serviceTargets(deploymentOf(p.resource)),
  checkCaps(p) {
    return parsePatch(p.patch) ? [] : [`patch must be "spec.template.spec.containers[N].resources.limits.memory: <value>"; got "${p.patch.trim()}"`];
  },
  async run(p, ctx) {
    const parsed = parsePatch(p.patch);
    const name = deploymentOf(p.resource);
    if (!parsed || !name) throw new InvalidParameterError(`kubectl_patch: ${action.checkCaps?.(p, ctx.policy).join('; ')}`);
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_patch');
    const target = deploymentTarget(ctx, name, 'kubectl_patch');
    const at = targetText(target);
    // current_limit is what the first attempt read: a retried "× 1.5" multiplies once.
    const first = await ctx.remember('deployment', () => kube.readDeployment(target));
    const container = first.containers[parsed.container];
    if (!container) throw new InvalidParameterError(`kubectl_patch: deployment ${at} has no container [${parsed.container}]`, { target: at });
    const current = container.memoryLimitBytes;
    if (current === undefined) throw new InvalidParameterError(`kubectl_patch: container ${container.name} of ${at} has no memory limit to raise`, { target: at });
    const resolved = ctx.resolve(parsed.value.replace(/^"|"$/g, ''), { current_limit: current }, 'patch');
    const bytes = roundUpToMebibyte(parseMemory(resolved as string | number));
    const cap = current * ctx.policy.caps.max_memory_factor;
    if (bytes > cap) throw new PolicyViolationError(`kubectl_patch: memory limit ${formatMemory(bytes)} for ${container.name} of ${at} is over ${ctx.policy.caps.max_memory_factor} × the current ${formatMemory(current)}`);
    if (bytes <= current) throw new InvalidParameterError(`kubectl_patch: new memory limit ${formatMemory(bytes)} for ${container.name} of ${at} is not above the current ${formatMemory(current)}`, { target: at });
    const change = await kube.setMemoryLimit(target, parsed.container, formatMemory(bytes), container.name);
    const rollout = await kube.waitForRollout(target, stepWaitSeconds(ctx));
    if (!rollout.complete) throw new RolloutTimeoutError(`kubectl_patch: set ${container.name} of ${at} to ${formatMemory(bytes)}, but its rollout did not finish in ${Math.round(rollout.seconds)} s: ${rollout.readyReplicas}/${rollout.desiredReplicas} ready`, { target: at });
    return {
      summary: `${at} container ${container.name} memory limit ${formatMemory(current)} → ${formatMemory(bytes)} (server dry run accepted; rolled out, ${rollout.readyReplicas}/${rollout.desiredReplicas} ready)`,
      before: change.before,
      after: { ...change.after, rollout, conflictsRetried: change.conflictsRetried },
      outputs: { previous_memory_limit: current, memory_limit: bytes },
    };
  },
});
