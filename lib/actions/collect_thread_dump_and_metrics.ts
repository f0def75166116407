/**
 * collect_thread_dump_and_metrics: read-only diagnostics of a service (scenario 2): a thread dump
 * and the JVM's GC and thread counters through exec (jcmd), CPU and memory from the metrics API,
 * and the rollouts of the named services in the window with a confidence that one caused the anomaly.
 */
import * as z from '../yaml/zod';
import { durationText, requireTarget, serviceTargets } from './common';
import { defineAction, type ActionContext } from './define';
import { ActionError, CommandFailedError } from './errors';
import { deployConfidence, deploymentTarget, readPerfCounters, stepWaitSeconds, summariseThreadDump, targetText, type ThreadDumpSummary } from './kubernetes';
import type { DeployRecord, KubeOps, PodUsage } from './ports';
import { parseDuration } from '../yaml';

/** When the anomaly began: the incident's anomaly start if the execution carries it, else the alarm's state change, else now. */
function anomalyStart(ctx: ActionContext): Date {
  for (const name of ['anomaly_started_at', 'alarm_state_at']) {
    try {
      const v = ctx.resolve(`{{${name}}}`);
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      if (Number.isFinite(t)) return new Date(t);
    } catch {
      // Not in this execution's variables.
    }
  }
  return ctx.now();
}

export const action = defineAction({
  name: 'collect_thread_dump_and_metrics',
  description: 'Thread dump (jcmd; a HotSpot safepoint of a few ms), GC pause, threads, CPU and memory of a pod, and the rollouts of the named services in the window with a confidence (read-only).',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z._default(
    z.strictObject({
      service: z._default(z.string().check(z.minLength(1)), '{{service}}'),
      deploy_window: z._default(durationText, '30m'),
      /** Services whose rollouts are correlated (the seed's check_recent_deploys.services). @default [service] */
      deploy_services: z.optional(z.array(z.string().check(z.minLength(1)))),
    }),
    { service: '{{service}}', deploy_window: '30m' },
  ),
  outputs: ['thread_dump_path', 'gc_pause_duration', 'cpu_usage', 'memory_usage', 'thread_count', 'recent_deploy', 'confidence', 'deploy_revision'],
  uses: ['kube'],
  iamActions: ['eks:DescribeCluster'],
  timeoutSeconds: 180,
  targets: (p) => serviceTargets(p.service),
  async run(p, ctx) {
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'collect_thread_dump_and_metrics');
    const target = deploymentTarget(ctx, p.service, 'collect_thread_dump_and_metrics');
    const container = target.containers[0];
    const notes: string[] = [];

    // CPU and memory first: they also pick the pod (the one nearest its memory limit).
    let usage: PodUsage | undefined;
    try {
      const all = await kube.podUsage(target);
      usage = all.filter((u) => !container || u.container === container).sort((a, b) => (b.memoryLimitBytes ? b.memoryBytes / b.memoryLimitBytes : 0) - (a.memoryLimitBytes ? a.memoryBytes / a.memoryLimitBytes : 0))[0];
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      notes.push(`no pod metrics (${err.name})`);
    }
    const execOptions = { ...(container ? { container } : {}), ...(usage ? { pod: usage.pod } : {}), timeoutSeconds: Math.min(60, stepWaitSeconds(ctx)) };

    // One thread dump (a safepoint): written to a file in the pod, read back for the summary.
    let dumpPath: string | null = null;
    let dump: ThreadDumpSummary | undefined;
    let pod = usage?.pod;
    let gcPause: number | undefined;
    let threads: number | undefined;
    try {
      const file = `/tmp/sre-agent-threads-${ctx.incidentId}.txt`;
      const written = await kube.exec(target, ['jcmd', '1', 'Thread.dump_to_file', '-overwrite', '-format=text', file], execOptions);
      pod ??= written.pod;
      const opts = { ...execOptions, pod: written.pod };
      if (written.exitCode === 0 && /Created /.test(written.stdout)) {
        dumpPath = `${target.namespace}/${written.pod}:${file}`;
        const text = await kube.exec(target, ['cat', file], opts);
        if (text.exitCode === 0) dump = summariseThreadDump(text.stdout);
      }
      if (!dump) {
        // JDK before 21 has no Thread.dump_to_file: the dump comes on stdout.
        const printed = await kube.exec(target, ['jcmd', '1', 'Thread.print'], opts);
        if (printed.exitCode === 0) dump = summariseThreadDump(printed.stdout);
      }
      const counters = await kube.exec(target, ['jcmd', '1', 'PerfCounter.print'], opts);
      if (counters.exitCode === 0) {
        const c = readPerfCounters(counters.stdout);
        gcPause = c.lastGcPauseSeconds;
        threads = c.liveThreads ?? dump?.threads;
      }
    } catch (err) {
      if (!(err instanceof CommandFailedError)) throw err;
      // Not a JVM (no jcmd in the image): the JVM metrics stay unknown, never zero.
      notes.push(`no JVM tools in ${container ?? 'the container'} (${err.message.split(': ').slice(-1)[0]?.slice(0, 120)})`);
    }

    const windowSeconds = parseDuration(p.deploy_window) ?? 1800;
    const services = p.deploy_services?.length ? p.deploy_services : [p.service];
    const refs = services.map((s) => deploymentTarget(ctx, s, 'collect_thread_dump_and_metrics'));
    const anomalyAt = anomalyStart(ctx);
    const deploys = await kube.recentDeploys(refs, windowSeconds, anomalyAt);
    const scored = deploys
      .map((d: DeployRecord) => ({ d, confidence: deployConfidence(new Date(d.at), anomalyAt, windowSeconds, { sameService: d.namespace === target.namespace && d.deployment === target.name, change: d.change }) }))
      .sort((a, b) => b.confidence - a.confidence);
    const best = scored[0];

    const cpu = usage ? usage.cpuCores / (usage.cpuLimit ?? usage.cpuCores) : undefined;
    const memory = usage?.memoryLimitBytes ? usage.memoryBytes / usage.memoryLimitBytes : undefined;
    const round = (v: number | undefined, digits = 3) => (v === undefined ? null : Number(v.toFixed(digits)));
    return {
      summary: [
        `diagnostics of ${targetText(target)}${pod ? ` (pod ${pod})` : ''}: gc pause ${gcPause === undefined ? 'n/a' : `${Math.round(gcPause * 1000)} ms`}, threads ${threads ?? 'n/a'}${dump?.blocked ? ` (${dump.blocked} BLOCKED)` : ''}${dump?.deadlock ? ', DEADLOCK' : ''}`,
        `cpu ${cpu === undefined ? 'n/a' : `${Math.round(cpu * 100)}% of limit`}, memory ${memory === undefined ? 'n/a' : `${Math.round(memory * 100)}% of limit`}`,
        `${deploys.length} rollout(s) of ${services.join(', ')} in ${p.deploy_window}${best ? `; most likely cause: ${best.d.namespace}/${best.d.deployment} revision ${best.d.revision} (${best.d.change}) at ${best.d.at}, confidence ${best.confidence}` : ''}`,
        ...notes,
      ].join('; '),
      after: { dump: dump ?? null, usage: usage ?? null, deploys: scored.map((s) => ({ ...s.d, confidence: s.confidence })) },
      outputs: {
        thread_dump_path: dumpPath,
        gc_pause_duration: round(gcPause, 4),
        cpu_usage: round(cpu),
        memory_usage: round(memory),
        thread_count: threads ?? null,
        recent_deploy: best ? { namespace: best.d.namespace, deployment: best.d.deployment, revision: best.d.revision, at: best.d.at, change: best.d.change, image: best.d.images[0] ?? null, previous_image: best.d.previousImages[0] ?? null } : null,
        confidence: best?.confidence ?? 0,
        deploy_revision: best?.d.revision ?? null,
      },
    };
  },
});
