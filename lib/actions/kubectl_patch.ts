/** kubectl_patch: raise a deployment's container memory limit (scenario 6). Nothing else is patchable. */
import { z } from 'zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';
import { PolicyViolationError } from '../policy/errors';

const PATCH_LINE = /^spec\.template\.spec\.containers\[(\d+)\]\.resources\.limits\.memory:\s*(.+)$/;
const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Kubernetes memory quantity (`512Mi`, `2Gi`, `1500000000`) → bytes. */
export function parseMemory(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G)?$/.exec(q.trim().replace(/^"|"$/g, ''));
  if (!m) throw new InvalidParameterError(`not a memory quantity: "${q}"`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? '']);
}

function parsePatch(patch: string): { container: number; value: string } | undefined {
  const m = PATCH_LINE.exec(patch.trim());
  return m ? { container: Number(m[1]), value: m[2].trim() } : undefined;
}

function deploymentOf(resource: string): string | undefined {
  return /^deployment\/(.+)$/.exec(resource)?.[1];
}

export const action = defineAction({
  name: 'kubectl_patch',
  description: "Patch a deployment's container memory limit (the only field the agent may patch).",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({ resource: z.string().regex(/^deployment\/.+$/, 'deployment/<name>'), patch: z.string().min(1) }),
  locals: { patch: ['current_limit'] },
  bounds: { patch: { local: 'current_limit', floor: 'min_memory_factor', ceiling: 'max_memory_factor' } },
  outputs: ['previous_memory_limit', 'memory_limit'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 300,
  targets: (p) => serviceTargets(deploymentOf(p.resource)),
  checkCaps(p) {
    return parsePatch(p.patch) ? [] : [`patch must be "spec.template.spec.containers[N].resources.limits.memory: <value>"; got "${p.patch.trim()}"`];
  },
  async run(p, ctx) {
    const parsed = parsePatch(p.patch);
    const deployment = deploymentOf(p.resource);
    if (!parsed || !deployment) throw new InvalidParameterError(`kubectl_patch: ${action.checkCaps?.(p, ctx.policy).join('; ')}`);
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_patch');
    const before = await kube.readDeployment(deployment);
    if (before.memoryLimitBytes === undefined) throw new InvalidParameterError(`kubectl_patch: ${deployment} has no memory limit to raise`, { target: deployment });
    const resolved = ctx.resolve(parsed.value.replace(/^"|"$/g, ''), { current_limit: before.memoryLimitBytes }, 'patch');
    const bytes = Math.round(parseMemory(resolved as string | number));
    const cap = before.memoryLimitBytes * ctx.policy.caps.max_memory_factor;
    if (bytes > cap) throw new PolicyViolationError(`kubectl_patch: memory limit ${bytes} bytes for ${deployment} is over ${ctx.policy.caps.max_memory_factor} × current (${before.memoryLimitBytes})`);
    if (bytes <= before.memoryLimitBytes) throw new InvalidParameterError(`kubectl_patch: new memory limit ${bytes} is not above the current ${before.memoryLimitBytes}`, { target: deployment });
    const after = await kube.setMemoryLimit(deployment, parsed.container, bytes);
    return { summary: `${deployment} memory limit ${before.memoryLimitBytes} → ${bytes} bytes`, before, after, outputs: { previous_memory_limit: before.memoryLimitBytes, memory_limit: bytes } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
