/** collect_thread_dump_and_metrics: read-only diagnostics of a service, with deploy correlation (scenario 2). */
import { z } from 'zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import type { DiagnosticsOps, KubeOps } from './ports';

export const action = defineAction({
  name: 'collect_thread_dump_and_metrics',
  description: 'Thread dump, GC pause, CPU/memory/threads, and deploys in the last 30 min (read-only).',
  kind: 'diagnostic',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({ service: z.string().min(1).default('{{service}}'), deploy_window: z.string().default('30m') }).default({ service: '{{service}}', deploy_window: '30m' }),
  outputs: ['thread_dump_path', 'gc_pause_duration', 'cpu_usage', 'memory_usage', 'thread_count', 'recent_deploy', 'confidence', 'deploy_revision'],
  iamActions: ['eks:DescribeCluster', 'cloudwatch:GetMetricData'],
  timeoutSeconds: 180,
  targets: (p) => serviceTargets(p.service),
  async run(p, ctx) {
    const diag = requireTarget<DiagnosticsOps>(ctx, 'diagnostics', 'collect_thread_dump_and_metrics');
    const kube = requireTarget<KubeOps>(ctx, 'kube', 'collect_thread_dump_and_metrics');
    const d = await diag.collect(p.service);
    const windowSeconds = Number(/^(\d+)/.exec(p.deploy_window)?.[1] ?? 30) * 60;
    const deploys = await kube.recentDeploys(p.service, windowSeconds);
    // Confidence that the latest deploy caused the anomaly: high when it landed just before it.
    const latest = deploys[0];
    const ageMin = latest ? (ctx.now().getTime() - Date.parse(latest.at)) / 60000 : undefined;
    const confidence = ageMin === undefined ? 0 : Math.max(0, Math.min(0.95, 1 - ageMin / (windowSeconds / 60)));
    return {
      summary: `diagnostics of ${p.service}: gc ${d.gcPauseSeconds ?? 'n/a'} s, ${deploys.length} deploy(s) in ${p.deploy_window}`,
      outputs: {
        thread_dump_path: d.threadDumpPath ?? null,
        gc_pause_duration: d.gcPauseSeconds ?? null,
        cpu_usage: d.cpu ?? null,
        memory_usage: d.memory ?? null,
        thread_count: d.threads ?? null,
        recent_deploy: latest ? { revision: latest.revision, at: latest.at, image: latest.image ?? null } : null,
        confidence: Number(confidence.toFixed(2)),
        deploy_revision: latest?.revision ?? null,
      },
    };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
