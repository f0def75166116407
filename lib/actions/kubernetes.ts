/**
 * What the Kubernetes actions share besides the port: the deployment a reference names (through
 * the service map), the confidence that a rollout caused an anomaly, and readers of the JVM tools'
 * output (jcmd Thread.print / PerfCounter.print). Pure: no client here.
 */
import type { ActionContext } from './define';
import { InvalidParameterError } from './errors';
import type { DeployRecord } from './ports';

/** A Kubernetes deployment an action works on, resolved through the service map. */
export interface DeploymentTarget {
  readonly namespace: string;
  readonly name: string;
  /** The service of the map it belongs to, when it belongs to one. */
  readonly service?: string;
  /** The service map's containers for it (first: the main one). */
  readonly containers: readonly string[];
}

/**
 * The namespace and deployment a reference names (`trading-api`, `trading/trading-api`,
 * `deployment/trading-api`, `trading-api.trading.svc.cluster.local` ...), from the service map in
 * the policy: the service's namespace and deployment name. A reference to a service that does not
 * run on Kubernetes, or that spells a namespace other than the map's, is refused.
 * @throws InvalidParameterError naming the reference
 */
export function deploymentTarget(ctx: ActionContext, ref: string, action: string): DeploymentTarget {
  const id = ctx.policy.services.identify(ref);
  if (!id.service) return { namespace: id.namespace ?? 'default', name: id.name, containers: [] };
  const entry = ctx.policy.services.entry(id.service);
  if (!entry.kubernetes) throw new InvalidParameterError(`${action}: "${ref}" is ${id.service}, which does not run on Kubernetes (playbooks/services.yaml)`, { target: ref });
  if (id.namespace && id.namespace !== entry.namespace) {
    throw new InvalidParameterError(`${action}: "${ref}" names namespace ${id.namespace}, but ${id.service} runs in ${entry.namespace} (playbooks/services.yaml)`, { target: ref });
  }
  return { namespace: entry.namespace, name: entry.deployment, service: id.service, containers: entry.containers };
}

/** Left of the step's time for the last writes and the timeline after a wait (rollout, exec), in seconds. */
export const STEP_WAIT_MARGIN_SECONDS = 30;

/**
 * How long an action may wait (a rollout, an exec): the step's time less the margin (a quarter of a
 * short step), at least one second. A short step still looks once, and reports the rollout as not
 * complete rather than being cut by States.Timeout.
 */
export function stepWaitSeconds(ctx: Pick<ActionContext, 'timeoutSeconds'>): number {
  return Math.max(1, ctx.timeoutSeconds - Math.min(STEP_WAIT_MARGIN_SECONDS, ctx.timeoutSeconds / 4));
}

/** `namespace/name`, the way every Kubernetes target is named in summaries and errors. */
export function targetText(t: { namespace: string; name: string }): string {
  return `${t.namespace}/${t.name}`;
}

/** Deploys inside this lag before the anomaly get the full score: a rollout's own length plus CloudWatch's evaluation periods. */
export const IMMEDIATE_LAG_SECONDS = 300;
/** A deploy that starts this long after the anomaly's start still counts as "at" it (clock skew, 1-minute alarm periods). */
export const SKEW_SECONDS = 120;

/**
 * Confidence in [0, 1] that a rollout caused an anomaly, from the rollout's start `deployAt` and
 * the anomaly's start `anomalyAt` (the alarm's first breaching point), within a window of
 * `windowSeconds` before the anomaly (the seed's `time_window: 30m`):
 *
 * - lag = anomalyAt − deployAt;
 * - lag < −2 min (the rollout began after the anomaly did): 0.05 — it cannot be the cause;
 * - lag > window: 0 — outside the window;
 * - −2 min ≤ lag ≤ 5 min: 0.95 (never 1: correlation is not proof);
 * - 5 min < lag ≤ window: falls linearly from 0.95 to 0.30 at the window's end;
 * - × 0.85 when the rollout is of another service than the incident's (a dependency, e.g.
 *   order-service for the matching engine), × 0.5 for a restart (same code and config), × 0.6 for
 *   a rollback (back to a version that ran before).
 *
 * With the 30-minute window a deploy 10 minutes before the anomaly scores 0.82 and passes the
 * seed's `confidence > 0.7`; one 20 minutes before scores 0.56 and does not.
 */
export function deployConfidence(deployAt: Date, anomalyAt: Date, windowSeconds: number, options: { sameService: boolean; change: DeployRecord['change'] }): number {
  const lag = (anomalyAt.getTime() - deployAt.getTime()) / 1000;
  if (lag < -SKEW_SECONDS) return 0.05;
  if (lag > windowSeconds) return 0;
  let score = 0.95;
  if (lag > IMMEDIATE_LAG_SECONDS && windowSeconds > IMMEDIATE_LAG_SECONDS) score = 0.95 - (0.65 * (lag - IMMEDIATE_LAG_SECONDS)) / (windowSeconds - IMMEDIATE_LAG_SECONDS);
  if (!options.sameService) score *= 0.85;
  if (options.change === 'restart') score *= 0.5;
  if (options.change === 'rollback') score *= 0.6;
  return Math.round(score * 100) / 100;
}


/** What a thread dump says (jcmd Thread.print / jstack format). */
export interface ThreadDumpSummary {
  readonly threads: number;
  readonly states: Readonly<Record<string, number>>;
  readonly blocked: number;
  readonly deadlock: boolean;
}

/** Counts the threads of a HotSpot thread dump by state, and notices a reported deadlock. */
export function summariseThreadDump(text: string): ThreadDumpSummary {
  const states: Record<string, number> = {};
  let threads = 0;
  for (const m of text.matchAll(/^\s+java\.lang\.Thread\.State: (\w+)/gm)) {
    threads++;
    const s = m[1] as string;
    states[s] = (states[s] ?? 0) + 1;
  }
  return { threads, states, blocked: states.BLOCKED ?? 0, deadlock: /Found (one|\d+) Java-level deadlock/.test(text) };
}

/** What PerfCounter.print tells about GC and threads. */
export interface JvmCounters {
  /** The longest of the collectors' last pauses (lastExitTime − lastEntryTime), in seconds. */
  readonly lastGcPauseSeconds?: number;
  readonly liveThreads?: number;
}

/** Reads `jcmd <pid> PerfCounter.print` (hsperfdata counters; ticks at sun.os.hrt.frequency per second). */
export function readPerfCounters(text: string): JvmCounters {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/^([\w.]+)=(.*)$/gm)) values.set(m[1] as string, (m[2] as string).trim());
  const frequency = Number(values.get('sun.os.hrt.frequency'));
  let pause: number | undefined;
  for (let i = 0; values.has(`sun.gc.collector.${i}.lastEntryTime`); i++) {
    const entry = Number(values.get(`sun.gc.collector.${i}.lastEntryTime`));
    const exit = Number(values.get(`sun.gc.collector.${i}.lastExitTime`));
    if (frequency > 0 && entry > 0 && exit >= entry) pause = Math.max(pause ?? 0, (exit - entry) / frequency);
  }
  const live = Number(values.get('java.threads.live'));
  return { ...(pause !== undefined ? { lastGcPauseSeconds: pause } : {}), ...(Number.isFinite(live) && values.has('java.threads.live') ? { liveThreads: live } : {}) };
}
