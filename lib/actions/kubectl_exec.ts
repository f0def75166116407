/** kubectl_exec: run a read-only diagnostic command in a pod (heap dump, thread dump). */
import { posix } from 'node:path';
import * as z from '../yaml/zod';
import { deploymentName, requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { CommandFailedError, InvalidParameterError } from './errors';
import { deploymentTarget, stepWaitSeconds, targetText } from './kubernetes';
import type { KubeOps } from './ports';

/** Programs the agent may run inside a pod: diagnostics only, nothing that changes state. */
const DIAGNOSTIC_PROGRAMS = ['jmap', 'jstack', 'jcmd', 'cat', 'ls', 'ps', 'top', 'df', 'free', 'netstat', 'ss'];
/** Output kept in the step's record (the timeline and a retry read it; payloads are capped at 256 KiB). */
const KEEP_OUTPUT = 4000;

/**
 * jcmd commands that only read (a JVM answers every command jcmd names, `GC.run`, `VM.set_flag`
 * and `JFR.start` too: those change the process, and forcing a GC on the matching engine is the
 * seed's approval-gated `trigger_manual_gc`). Heap dumps and histograms stay, as `jmap` does.
 */
const JCMD_DIAGNOSTICS = new Set([
  'help', 'Thread.print', 'GC.heap_dump', 'GC.heap_info', 'GC.class_histogram', 'GC.finalizer_info',
  'VM.flags', 'VM.system_properties', 'VM.uptime', 'VM.version', 'VM.info', 'VM.command_line', 'VM.dynlibs', 'VM.events',
  'VM.classloader_stats', 'VM.classloaders', 'VM.metaspace', 'VM.stringtable', 'VM.symboltable',
  'Compiler.codecache', 'Compiler.codelist', 'Compiler.queue', 'PerfCounter.print', 'JFR.check',
]);

function program(command: string): string {
  return command.trim().split(/\s+/)[0] ?? '';
}

/** Why the arguments make a diagnostic program change state, or undefined: jcmd's state-changing commands, `ss -K` (kills sockets). */
function stateChangingUse(argv: readonly string[]): string | undefined {
  const [prog, ...args] = argv;
  if (prog === 'jcmd') {
    if (args.includes('-f')) return 'jcmd -f runs the commands of a file; name one diagnostic command';
    const cmd = args[1];
    if (cmd !== undefined && !JCMD_DIAGNOSTICS.has(cmd)) return `jcmd command "${cmd}" is not a read-only diagnostic (allowed: ${[...JCMD_DIAGNOSTICS].join(', ')})`;
    // A heap dump writes a new file; -overwrite lets it replace any file the JVM's user can write (its config, its jars).
    if (cmd === 'GC.heap_dump' && args.slice(2).some((a) => /^-overwrite(=|$)/i.test(a))) return 'jcmd GC.heap_dump -overwrite replaces an existing file in the pod; dump to a new file';
  }
  if (prog === 'ss' && args.some((a) => a === '--kill' || /^-[A-Za-z]*K/.test(a))) return 'ss -K/--kill closes sockets';
  return undefined;
}

/**
 * The files `cat` may read: the kernel's and the cgroup's figures a diagnosis needs. Its output goes
 * on the timeline, into the report, the knowledge base and the approvers' mail, so a process's
 * environment (`/proc/1/environ`) or a mounted secret (`/var/run/secrets/...`) would be published:
 * an allow-list, not a deny-list, because secrets can be mounted anywhere.
 */
const CAT_READABLE: readonly RegExp[] = [
  /^\/proc\/(meminfo|loadavg|stat|vmstat|cpuinfo|pressure\/(cpu|memory|io))$/,
  /^\/proc\/(\d+|self)\/(status|limits|stat|statm|smaps_rollup|sched|io|oom_score)$/,
  /^\/sys\/fs\/cgroup\/[A-Za-z0-9_./-]+$/,
  /^\/etc\/os-release$/,
];

/** Why `cat`'s arguments read a file outside {@link CAT_READABLE}, or undefined. Paths are normalised first (`..`). */
function unreadableByCat(argv: readonly string[]): string | undefined {
  const [prog, ...args] = argv;
  if (prog !== 'cat') return undefined;
  const files = args.filter((a) => !a.startsWith('-'));
  const outside = files.filter((f) => !f.startsWith('/') || !CAT_READABLE.some((re) => re.test(posix.normalize(f))));
  if (files.length === 0 || outside.length > 0) return `cat reads only the listed system files (/proc/meminfo, /proc/<pid>/status, /sys/fs/cgroup/..., /etc/os-release; absolute paths), not ${outside.join(', ') || 'standard input'}: its output goes on the timeline, and environments and mounted secrets must not`;
  return undefined;
}

function tail(text: string): string {
  return text.length > KEEP_OUTPUT ? `…${text.slice(-KEEP_OUTPUT)}` : text;
}

export const action = defineAction({
  name: 'kubectl_exec',
  description: 'Run a diagnostic command (jmap, jstack, jcmd, ...) in a ready pod of the deployment, the one nearest its memory limit.',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    command: z.string().check(z.minLength(1)),
    description: z.optional(z.string()),
    deployment: z._default(deploymentName, '{{deployment}}'),
  }),
  outputs: ['heap_dump_path', 'exec_pod'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 300,
  targets: (p) => serviceTargets(p.deployment),
  checkCaps(p) {
    const argv = p.command.trim().split(/\s+/);
    const prog = argv[0] ?? '';
    if (/[;&|`$<>]/.test(p.command)) return [`command "${p.command}" has shell operators; only a single diagnostic program may run`];
    if (!DIAGNOSTIC_PROGRAMS.includes(prog)) return [`command "${prog}" is not a diagnostic program (allowed: ${DIAGNOSTIC_PROGRAMS.join(', ')})`];
    const unreadable = unreadableByCat(argv);
    if (unreadable) return [`command "${p.command}": ${unreadable}`];
    const changes = stateChangingUse(argv);
    return changes ? [`command "${p.command}": ${changes}; kubectl_exec runs read-only diagnostics only`] : [];
  },
  async run(p, ctx) {
    const problems = action.checkCaps?.(p, ctx.policy) ?? [];
    if (problems.length > 0) throw new InvalidParameterError(`kubectl_exec: ${problems.join('; ')}`, { target: p.deployment });
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'kubectl_exec');
    const target = deploymentTarget(ctx, p.deployment, 'kubectl_exec');
    const argv = p.command.trim().split(/\s+/);
    // Run once per step: a retry reads the first run's result (a second heap dump onto the same file fails "File exists").
    const out = await ctx.remember('exec', async () => {
      const r = await kube.exec(target, argv, { ...(target.containers[0] ? { container: target.containers[0] } : {}), timeoutSeconds: stepWaitSeconds(ctx) });
      return { ...r, stdout: tail(r.stdout), stderr: tail(r.stderr) };
    });
    const where = `${target.namespace}/${out.pod}`;
    if (out.exitCode !== 0) {
      throw new CommandFailedError(`kubectl_exec: ${program(p.command)} exited ${out.exitCode} in pod ${where} (container ${out.container}): ${(out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ')}`, { target: where, exitCode: out.exitCode });
    }
    const dump = /file=([^,\s]+)/.exec(p.command)?.[1];
    const lastLine = out.stdout.trim().split('\n').pop() ?? '';
    return {
      summary: `ran ${program(p.command)} in pod ${where} (container ${out.container}, deployment ${targetText(target)}): ${lastLine.slice(0, 200)}`,
      after: { pod: where, container: out.container, exitCode: out.exitCode, stdout: out.stdout, stderr: out.stderr },
      outputs: { heap_dump_path: dump ? `${where}:${dump}` : null, exec_pod: where },
    };
  },
});
