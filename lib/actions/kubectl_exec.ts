/** kubectl_exec: run a read-only diagnostic command in a pod (heap dump, thread dump). */
import { z } from 'zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { KubeOps } from './ports';

/** Programs the agent may run inside a pod: diagnostics only, nothing that changes state. */
const DIAGNOSTIC_PROGRAMS = ['jmap', 'jstack', 'jcmd', 'cat', 'ls', 'ps', 'top', 'df', 'free', 'netstat', 'ss'];

function program(command: string): string {
  return command.trim().split(/\s+/)[0] ?? '';
}

export const action = defineAction({
  name: 'kubectl_exec',
  description: 'Run a diagnostic command (jmap, jstack, jcmd, ...) in a pod of the deployment.',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    command: z.string().min(1),
    description: z.string().optional(),
    deployment: deploymentName.default('{{deployment}}'),
  }),
  outputs: ['heap_dump_path', 'exec_pod'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 300,
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p) {
    const prog = program(p.command);
    if (/[;&|`$<>]/.test(p.command)) return [`command "${p.command}" has shell operators; only a single diagnostic program may run`];
    return DIAGNOSTIC_PROGRAMS.includes(prog) ? [] : [`command "${prog}" is not a diagnostic program (allowed: ${DIAGNOSTIC_PROGRAMS.join(', ')})`];
  },
  async run(p, ctx) {
    const problems = action.checkCaps?.(p, ctx.policy) ?? [];
    if (problems.length > 0) throw new InvalidParameterError(`kubectl_exec: ${problems.join('; ')}`, { target: p.deployment });
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_exec');
    const argv = p.command.trim().split(/\s+/);
    const out = await kube.exec(p.deployment, argv);
    const dump = /file=(\S+)/.exec(p.command)?.[1];
    return { summary: `ran ${program(p.command)} in ${out.pod}`, outputs: { heap_dump_path: dump ? `${out.pod}:${dump}` : null, exec_pod: out.pod } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
