/**
 * KubeOps over @kubernetes/client-node: what the Kubernetes actions do to a cluster, the way an
 * SRE would do it with kubectl, plus the safety a bot needs:
 * - every write is preceded by the same request with dryRun=All (the API server validates and
 *   admits it without persisting) and carries the resourceVersion it was computed from, so a
 *   concurrent change is a 409 that is re-read and retried, never overwritten;
 * - paused deployments are left alone (a person paused them) and a missing target is a
 *   TargetNotFoundError naming namespace/name;
 * - each change returns the object before, as the dry run answered, and after, for the timeline.
 */
import { Writable } from 'node:stream';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, Exec, KubeConfig, Metrics, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { CommandFailedError, InvalidParameterError, RolloutTimeoutError, TargetNotFoundError, TargetPausedError, TransientTargetError } from '../actions/errors';
import type { DeploymentState, DeployRecord, ExecResult, HpaState, KubeChange, KubeOps, KubeRef, NodeHeadroom, PodHealth, PodUsage, RolloutProgress, UndoPlan } from '../actions/ports';
import { parseQuantity } from '../actions/quantity';
import { deploysOf, headroomOf, podHealthOf, podRequests } from './diagnostics';
import { isConflict, kubeError, refText } from './errors';
import { equalIgnoreHash, HASH_LABEL, ownedReplicaSets, pickUndoReplicaSet, progressDeadlineExceeded, RESTARTED_AT, revisionOf, rolloutStatus, undoPatch } from './rollout';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface KubeOpsOptions {
  /** The cluster: a loaded kubeconfig, or a function giving a current one (EKS tokens expire). */
  readonly config: KubeConfig | (() => Promise<KubeConfig>);
  /**
   * fieldManager recorded on every write (server-side field ownership).
   * @default 'sre-agent'
   */
  readonly fieldManager?: string;
  /**
   * How often a write that meets a 409 Conflict is re-read and retried.
   * @default 5
   */
  readonly conflictRetries?: number;
  /**
   * Poll period while waiting for a rollout.
   * @default 1000
   */
  readonly pollMs?: number;
  /** @default the system clock */
  now?(): Date;
}

interface Clients {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly autoscaling: AutoscalingV2Api;
  readonly exec: Exec;
  readonly metrics: Metrics;
}

const clientCache = new WeakMap<KubeConfig, Clients>();

function clientsFor(kc: KubeConfig): Clients {
  let c = clientCache.get(kc);
  if (!c) {
    c = { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), autoscaling: kc.makeApiClient(AutoscalingV2Api), exec: new Exec(kc), metrics: new Metrics(kc) };
    clientCache.set(kc, c);
  }
  return c;
}

/** A typed client-node object as the API's JSON (dates as strings, field names as the API spells them). */
function json(obj: unknown, type: string): Json {
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(obj, type, '')));
}

const patchAs = (strategy: string) => setHeaderOptions('Content-Type', strategy);

function bytesOf(q: unknown): number | undefined {
  return q === undefined || q === null ? undefined : parseQuantity(String(q));
}

/** A Deployment (API JSON) as the actions see it. */
export function deploymentState(d: Json): DeploymentState {
  const containers = ((d.spec?.template?.spec?.containers ?? []) as Json[]).map((c) => ({
    name: String(c.name),
    image: String(c.image),
    ...(c.resources?.requests?.cpu !== undefined ? { cpuRequest: parseQuantity(String(c.resources.requests.cpu)) } : {}),
    ...(c.resources?.limits?.cpu !== undefined ? { cpuLimit: parseQuantity(String(c.resources.limits.cpu)) } : {}),
    ...(c.resources?.requests?.memory !== undefined ? { memoryRequestBytes: bytesOf(c.resources.requests.memory) } : {}),
    ...(c.resources?.limits?.memory !== undefined ? { memoryLimitBytes: bytesOf(c.resources.limits.memory) } : {}),
  }));
  const ru = d.spec?.strategy?.rollingUpdate;
  const restartedAt = d.spec?.template?.metadata?.annotations?.[RESTARTED_AT];
  return {
    namespace: d.metadata.namespace,
    name: d.metadata.name,
    replicas: d.spec?.replicas ?? 1,
    readyReplicas: d.status?.readyReplicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    availableReplicas: d.status?.availableReplicas ?? 0,
    paused: d.spec?.paused === true,
    revision: revisionOf(d),
    generation: d.metadata.generation ?? 0,
    observedGeneration: d.status?.observedGeneration ?? 0,
    resourceVersion: String(d.metadata.resourceVersion ?? ''),
    containers,
    ...(containers[0] ? { image: containers[0].image } : {}),
    ...(containers[0]?.memoryLimitBytes !== undefined ? { memoryLimitBytes: containers[0].memoryLimitBytes } : {}),
    ...(restartedAt ? { restartedAt } : {}),
    strategy: { type: d.spec?.strategy?.type ?? 'RollingUpdate', ...(ru?.maxSurge !== undefined ? { maxSurge: ru.maxSurge } : {}), ...(ru?.maxUnavailable !== undefined ? { maxUnavailable: ru.maxUnavailable } : {}) },
  };
}

/** A HorizontalPodAutoscaler (autoscaling/v2 JSON) as the actions see it. */
export function hpaState(h: Json): HpaState {
  const cpuSpec = (h.spec?.metrics ?? []).find((m: Json) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const cpuNow = (h.status?.currentMetrics ?? []).find((m: Json) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const limited = (h.status?.conditions ?? []).find((c: Json) => c.type === 'ScalingLimited');
  const max = h.spec?.maxReplicas ?? 1;
  const current = h.status?.currentReplicas ?? 0;
  const desired = h.status?.desiredReplicas ?? current;
  return {
    namespace: h.metadata.namespace,
    name: h.metadata.name,
    deployment: h.spec?.scaleTargetRef?.name,
    minReplicas: h.spec?.minReplicas ?? 1,
    maxReplicas: max,
    currentReplicas: current,
    desiredReplicas: desired,
    atCeiling: (limited?.status === 'True' && limited.reason === 'TooManyReplicas') || desired >= max || current >= max,
    ...(cpuNow?.resource?.current?.averageUtilization !== undefined ? { cpuUtilization: cpuNow.resource.current.averageUtilization } : {}),
    ...(cpuSpec?.resource?.target?.averageUtilization !== undefined ? { targetCpuUtilization: cpuSpec.resource.target.averageUtilization } : {}),
    resourceVersion: String(h.metadata.resourceVersion ?? ''),
  };
}

function selectorText(selector: Json): string {
  return Object.entries((selector?.matchLabels ?? {}) as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function podReady(p: Json): boolean {
  return !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  public override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  public text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ClientNodeKubeOps implements KubeOps {
  private readonly source: () => Promise<KubeConfig>;
  private readonly fieldManager: string;
  private readonly retries: number;
  private readonly pollMs: number;
  private readonly now: () => Date;

  public constructor(options: KubeOpsOptions) {
    const config = options.config;
    this.source = typeof config === 'function' ? config : async () => config;
    this.fieldManager = options.fieldManager ?? 'sre-agent';
    this.retries = options.conflictRetries ?? 5;
    this.pollMs = options.pollMs ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  private async clients(): Promise<Clients> {
    return clientsFor(await this.source());
  }

  private async call<T>(what: string, target: string, fn: (c: Clients) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.clients());
    } catch (err) {
      throw kubeError(err, what, target);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  private async getDeployment(ref: KubeRef): Promise<Json> {
    return this.call(`deployment ${refText(ref)}`, refText(ref), async (c) => json(await c.apps.readNamespacedDeployment({ name: ref.name, namespace: ref.namespace }), 'V1Deployment'));
  }

  public async readDeployment(ref: KubeRef): Promise<DeploymentState> {
    return deploymentState(await this.getDeployment(ref));
  }

  private async findHpa(ref: KubeRef): Promise<Json> {
    const list = await this.call(`HorizontalPodAutoscalers in ${ref.namespace}`, refText(ref), async (c) => json(await c.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ref.namespace }), 'V2HorizontalPodAutoscalerList'));
    return (list.items ?? []).find((h: Json) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec?.scaleTargetRef?.name === ref.name);
  }

  public async readHpa(ref: KubeRef): Promise<HpaState> {
    const h = await this.findHpa(ref);
    if (!h) throw new TargetNotFoundError(`no HorizontalPodAutoscaler scales deployment ${refText(ref)}`, { target: refText(ref) });
    return hpaState(h);
  }

  private async podsOf(d: Json): Promise<Json[]> {
    const ref = { namespace: d.metadata.namespace, name: d.metadata.name };
    const list = await this.call(`pods of deployment ${refText(ref)}`, refText(ref), async (c) => json(await c.core.listNamespacedPod({ namespace: ref.namespace, labelSelector: selectorText(d.spec?.selector) }), 'V1PodList'));
    return list.items ?? [];
  }

  private async replicaSetsOf(d: Json): Promise<Json[]> {
    const ref = { namespace: d.metadata.namespace, name: d.metadata.name };
    const list = await this.call(`ReplicaSets of deployment ${refText(ref)}`, refText(ref), async (c) => json(await c.apps.listNamespacedReplicaSet({ namespace: ref.namespace, labelSelector: selectorText(d.spec?.selector) }), 'V1ReplicaSetList'));
    return ownedReplicaSets(d, list.items ?? []);
  }

  // -------------------------------------------------------------------------------------------
  // Writes: dry run, then the write, both with the resourceVersion read; 409 → read again
  // -------------------------------------------------------------------------------------------

  /**
   * Reads, then sends `write` as a dry run and for real with the resourceVersion of that read.
   * A 409 at either step starts over from a fresh read (up to `conflictRetries` times). A read
   * that answers `unchanged` (the object already is as asked) ends it without a write.
   */
  private async change<T>(what: string, target: string, read: () => Promise<{ rv: string; state: T; raw: Json; unchanged?: boolean }>, write: (raw: Json, dryRun: boolean) => Promise<T>): Promise<KubeChange<T>> {
    for (let attempt = 0; ; attempt++) {
      const { state: before, raw, unchanged } = await read();
      if (unchanged) return { before, dryRun: before, after: before, conflictsRetried: attempt, unchanged: true };
      try {
        const dryRun = await write(raw, true);
        const after = await write(raw, false);
        return { before, dryRun, after, conflictsRetried: attempt };
      } catch (err) {
        if (isConflict(err) && attempt < this.retries) {
          await sleep(Math.min(1000, 50 * 2 ** attempt));
          continue;
        }
        if (isConflict(err)) throw new TransientTargetError(`${what}: still conflicting after ${attempt + 1} attempts (another writer keeps changing it)`, { target, cause: err });
        throw kubeError(err, what, target);
      }
    }
  }

  private refuseIfPaused(d: Json, action: string): void {
    if (d.spec?.paused) {
      const ref = refText({ namespace: d.metadata.namespace, name: d.metadata.name });
      throw new TargetPausedError(`${action}: deployment ${ref} is paused (someone paused its rollout); the agent leaves it alone — resume it first (kubectl rollout resume deployment/${d.metadata.name} -n ${d.metadata.namespace})`, { target: ref });
    }
  }

  private readDeploymentForWrite(ref: KubeRef, action: string): () => Promise<{ rv: string; state: DeploymentState; raw: Json }> {
    return async () => {
      const raw = await this.getDeployment(ref);
      this.refuseIfPaused(raw, action);
      return { rv: raw.metadata.resourceVersion, state: deploymentState(raw), raw };
    };
  }

  public async patchHpaMax(ref: KubeRef, maxReplicas: number): Promise<KubeChange<HpaState>> {
    const what = `HorizontalPodAutoscaler of deployment ${refText(ref)}`;
    return this.change(
      what,
      refText(ref),
      // Each read, the first and every one after a 409, decides afresh: the deployment is not
      // paused, and the max is still below the new one (a concurrent raise is never lowered).
      async () => {
        const h = await this.findHpa(ref);
        if (!h) throw new TargetNotFoundError(`no HorizontalPodAutoscaler scales deployment ${refText(ref)}`, { target: refText(ref) });
        // A paused deployment still scales (pausing holds rollouts, not the HPA), so a higher max
        // would act on it; but someone paused it, and the agent leaves paused deployments alone.
        this.refuseIfPaused(await this.getDeployment(ref), 'patch_hpa_max');
        return { rv: h.metadata.resourceVersion, state: hpaState(h), raw: h, unchanged: (h.spec?.maxReplicas ?? 0) >= maxReplicas };
      },
      async (h, dryRun) => {
        const { autoscaling } = await this.clients();
        const body = { metadata: { resourceVersion: h.metadata.resourceVersion }, spec: { maxReplicas } };
        const out = await autoscaling.patchNamespacedHorizontalPodAutoscaler({ name: h.metadata.name, namespace: ref.namespace, body, fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.MergePatch));
        return hpaState(json(out, 'V2HorizontalPodAutoscaler'));
      },
    );
  }

  public async scaleDeployment(ref: KubeRef, replicas: number): Promise<KubeChange<DeploymentState>> {
    const hpa = await this.findHpa(ref);
    if (hpa) {
      throw new InvalidParameterError(
        `kubectl_scale: deployment ${refText(ref)} is scaled by HorizontalPodAutoscaler ${ref.namespace}/${hpa.metadata.name} (min ${hpa.spec?.minReplicas ?? 1}, max ${hpa.spec?.maxReplicas}); it would undo a manual scale on its next sync — raise its maxReplicas (patch_hpa_max) instead`,
        { target: refText(ref) },
      );
    }
    const change = await this.change(`scale of deployment ${refText(ref)}`, refText(ref), this.readDeploymentForWrite(ref, 'kubectl_scale'), async (d, dryRun) => {
      const { apps } = await this.clients();
      const body = { metadata: { resourceVersion: d.metadata.resourceVersion }, spec: { replicas } };
      const scale = json(await apps.patchNamespacedDeploymentScale({ name: ref.name, namespace: ref.namespace, body, fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.MergePatch)), 'V1Scale');
      return { ...deploymentState(d), replicas: scale.spec?.replicas ?? replicas, resourceVersion: String(scale.metadata?.resourceVersion ?? '') };
    });
    return { ...change, after: await this.readDeployment(ref) };
  }

  public async restartDeployment(ref: KubeRef, options: { restartedAt: string; strategy: 'one_at_a_time' | 'rolling'; timeoutSeconds: number; originalStrategy?: DeploymentState['strategy'] }): Promise<KubeChange<DeploymentState> & { rollout: RolloutProgress }> {
    const started = Date.now();
    const oneAtATime = options.strategy === 'one_at_a_time';
    const patchTemplate = async (d: Json, dryRun: boolean) => {
      const { apps } = await this.clients();
      const body: Json = { metadata: { resourceVersion: d.metadata.resourceVersion }, spec: { template: { metadata: { annotations: { [RESTARTED_AT]: options.restartedAt } } } } };
      // One at a time: a new pod must be Ready before an old one goes (maxUnavailable 0, maxSurge 1).
      if (oneAtATime) body.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
      return deploymentState(json(await apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body, fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.MergePatch)), 'V1Deployment'));
    };
    const change = await this.change(`restart of deployment ${refText(ref)}`, refText(ref), this.readDeploymentForWrite(ref, 'rolling_restart'), patchTemplate);
    const rollout = await this.waitForRollout(ref, Math.max(1, options.timeoutSeconds - (Date.now() - started) / 1000));
    if (!rollout.complete) {
      throw new RolloutTimeoutError(
        `rolling_restart: the rollout of deployment ${refText(ref)} did not finish in ${Math.round(rollout.seconds)} s: ${rollout.readyReplicas} of ${rollout.desiredReplicas} pods ready, ${rollout.updatedReplicas} updated${oneAtATime ? '; its strategy stays at maxSurge 1 / maxUnavailable 0 while the rollout continues' : ''}`,
        { target: refText(ref) },
      );
    }
    const original = options.originalStrategy ?? change.before.strategy;
    if (oneAtATime && original.type === 'RollingUpdate' && (String(original.maxSurge) !== '1' || String(original.maxUnavailable) !== '0')) {
      // Back to the deployment's own strategy: the restart is done, the next deploy rolls as its owners set it.
      await this.change(`strategy of deployment ${refText(ref)}`, refText(ref), this.readDeploymentForWrite(ref, 'rolling_restart'), async (d, dryRun) => {
        const { apps } = await this.clients();
        const body = { metadata: { resourceVersion: d.metadata.resourceVersion }, spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: original.maxSurge ?? '25%', maxUnavailable: original.maxUnavailable ?? '25%' } } } };
        return deploymentState(json(await apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body, fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.MergePatch)), 'V1Deployment'));
      });
    }
    return { ...change, after: await this.readDeployment(ref), rollout };
  }

  public async waitForRollout(ref: KubeRef, timeoutSeconds: number): Promise<RolloutProgress> {
    const start = Date.now();
    const podsReady: string[] = [];
    for (;;) {
      const d = await this.getDeployment(ref);
      // New pods carry the pod-template-hash of the ReplicaSet whose template is the deployment's.
      const current = (await this.replicaSetsOf(d)).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
      const hash = current?.metadata?.labels?.[HASH_LABEL];
      for (const p of await this.podsOf(d)) if (hash && p.metadata?.labels?.[HASH_LABEL] === hash && podReady(p) && !podsReady.includes(p.metadata.name)) podsReady.push(p.metadata.name);
      const status = rolloutStatus(d);
      const seconds = (Date.now() - start) / 1000;
      const progress = { updatedReplicas: d.status?.updatedReplicas ?? 0, readyReplicas: d.status?.readyReplicas ?? 0, desiredReplicas: d.spec?.replicas ?? 1, podsReady: [...podsReady], seconds };
      if (status.done) return { complete: true, ...progress };
      if (progressDeadlineExceeded(d) || seconds >= timeoutSeconds) return { complete: false, ...progress };
      await sleep(Math.min(this.pollMs, Math.max(10, (timeoutSeconds - seconds) * 1000)));
    }
  }

  public async planUndo(ref: KubeRef, toRevision?: number): Promise<UndoPlan> {
    const d = await this.getDeployment(ref);
    const picked = pickUndoReplicaSet(await this.replicaSetsOf(d), toRevision ?? 0);
    if ('reason' in picked) throw new TargetNotFoundError(`kubectl_rollout_undo: deployment ${refText(ref)}: ${picked.reason}`, { target: refText(ref) });
    const image = picked.rs.spec?.template?.spec?.containers?.[0]?.image;
    return { fromRevision: revisionOf(d), toRevision: revisionOf(picked.rs), replicaSet: picked.rs.metadata.name, ...(image ? { image } : {}) };
  }

  public async undoDeployment(ref: KubeRef, plan: UndoPlan): Promise<KubeChange<DeploymentState> & { skipped: boolean }> {
    const what = `rollback of deployment ${refText(ref)}`;
    const rs = await this.call(`ReplicaSet ${ref.namespace}/${plan.replicaSet}`, refText(ref), async (c) => json(await c.apps.readNamespacedReplicaSet({ name: plan.replicaSet, namespace: ref.namespace }), 'V1ReplicaSet'));
    const current = await this.getDeployment(ref);
    // kubectl refuses a paused deployment ("you cannot rollback a paused deployment; resume it first").
    this.refuseIfPaused(current, 'kubectl_rollout_undo');
    if (ownedReplicaSets(current, [rs]).length === 0) {
      throw new InvalidParameterError(`${what}: ReplicaSet ${ref.namespace}/${plan.replicaSet} does not belong to the deployment`, { target: refText(ref) });
    }
    if (equalIgnoreHash(rs.spec?.template, current.spec?.template)) {
      // Already on that template (a retried step, or someone rolled back first): kubectl says "skipped rollback".
      const state = deploymentState(current);
      return { before: state, dryRun: state, after: state, conflictsRetried: 0, skipped: true };
    }
    const change = await this.change(what, refText(ref), this.readDeploymentForWrite(ref, 'kubectl_rollout_undo'), async (d, dryRun) => {
      const { apps } = await this.clients();
      const out = await apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body: undoPatch(d, rs), fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.JsonPatch));
      return deploymentState(json(out, 'V1Deployment'));
    });
    return { ...change, skipped: false };
  }

  public async setMemoryLimit(ref: KubeRef, container: number, quantity: string, expectedName: string): Promise<KubeChange<DeploymentState>> {
    return this.change(`memory limit of deployment ${refText(ref)}`, refText(ref), this.readDeploymentForWrite(ref, 'kubectl_patch'), async (d, dryRun) => {
      const c = d.spec?.template?.spec?.containers?.[container];
      if (!c) throw new InvalidParameterError(`kubectl_patch: deployment ${refText(ref)} has no container [${container}]`, { target: refText(ref) });
      // The limit was computed from the container the action read: a list reordered since (a sidecar
      // deployed in front) must not give another container that limit. Nothing is written.
      if (c.name !== expectedName) {
        throw new InvalidParameterError(`kubectl_patch: patch: container [${container}] of ${refText(ref)} is now ${String(c.name)}, not ${expectedName} whose limit was read (the containers changed since); nothing was written`, { target: refText(ref) });
      }
      const base = `/spec/template/spec/containers/${container}`;
      const ops: unknown[] = [
        { op: 'replace', path: '/metadata/resourceVersion', value: d.metadata.resourceVersion },
        // The container at that index is still the one read (a reordered list must not get another's limit).
        { op: 'test', path: `${base}/name`, value: expectedName },
      ];
      if (!c.resources) ops.push({ op: 'add', path: `${base}/resources`, value: { limits: { memory: quantity } } });
      else if (!c.resources.limits) ops.push({ op: 'add', path: `${base}/resources/limits`, value: { memory: quantity } });
      else ops.push({ op: c.resources.limits.memory === undefined ? 'add' : 'replace', path: `${base}/resources/limits/memory`, value: quantity });
      const { apps } = await this.clients();
      return deploymentState(json(await apps.patchNamespacedDeployment({ name: ref.name, namespace: ref.namespace, body: ops, fieldManager: this.fieldManager, ...(dryRun ? { dryRun: 'All' } : {}) }, patchAs(PatchStrategy.JsonPatch)), 'V1Deployment'));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Exec
  // -------------------------------------------------------------------------------------------

  /**
   * Ready pods of the deployment, the one nearest its memory limit first (for a heap dump, the pod
   * about to be OOM-killed holds the leak); without metrics, the longest-running first.
   */
  private async execCandidates(d: Json): Promise<Json[]> {
    const pods = (await this.podsOf(d)).filter(podReady);
    let usage = new Map<string, number>();
    try {
      usage = new Map((await this.podUsage({ namespace: d.metadata.namespace, name: d.metadata.name })).map((u) => [u.pod, u.memoryLimitBytes ? u.memoryBytes / u.memoryLimitBytes : 0]));
    } catch {
      // No metrics-server: fall back to uptime.
    }
    const started = (p: Json) => Date.parse(p.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? p.metadata?.creationTimestamp ?? '') || 0;
    return pods.sort((a, b) => (usage.get(b.metadata.name) ?? 0) - (usage.get(a.metadata.name) ?? 0) || started(a) - started(b));
  }

  public async exec(ref: KubeRef, command: readonly string[], options: { container?: string; pod?: string; timeoutSeconds?: number } = {}): Promise<ExecResult> {
    const d = await this.getDeployment(ref);
    const pods = await this.execCandidates(d);
    const pod = options.pod ? pods.find((p) => p.metadata.name === options.pod) : pods[0];
    const program = command[0] ?? '';
    if (!pod) throw new TargetNotFoundError(`kubectl_exec: no running, ready pod of deployment ${refText(ref)} to run ${program} in (pods gone or restarting)`, { target: refText(ref) });
    const container = options.container ?? pod.spec?.containers?.[0]?.name;
    const target = `${ref.namespace}/${pod.metadata.name}`;
    const stdout = new Collector();
    const stderr = new Collector();
    const { exec } = await this.clients();
    let status: Json;
    const timeoutMs = (options.timeoutSeconds ?? 60) * 1000;
    try {
      const ws = await exec.exec(ref.namespace, pod.metadata.name, container, [...command], stdout, stderr, null, false, (s) => {
        status = s;
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          ws.close();
          reject(new CommandFailedError(`kubectl_exec: ${program} in pod ${target} did not finish in ${timeoutMs / 1000} s`, { target }));
        }, timeoutMs);
        ws.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.on('error', (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
      });
    } catch (err) {
      if (err instanceof CommandFailedError) throw err;
      const text = String((err as { message?: string })?.message ?? err);
      if (/\b404\b/.test(text)) throw new TargetNotFoundError(`kubectl_exec: pod ${target} is gone: ${text}`, { target, cause: err });
      if (/\b40[03]\b/.test(text)) throw new CommandFailedError(`kubectl_exec: the API server refused exec in pod ${target}: ${text}`, { target, cause: err });
      throw new TransientTargetError(`kubectl_exec: exec in pod ${target} failed: ${text}`, { target, cause: err });
    }
    let exitCode = 0;
    if (!status || status.status !== 'Success') {
      const code = (status?.details?.causes ?? []).find((c: Json) => c.reason === 'ExitCode')?.message;
      if (status?.reason === 'NonZeroExitCode' && code !== undefined) exitCode = Number(code);
      else throw new CommandFailedError(`kubectl_exec: ${program} could not run in pod ${target} (container ${container}): ${status?.message ?? 'the stream closed without a status'}`, { target });
    }
    return { pod: pod.metadata.name, container, stdout: stdout.text(), stderr: stderr.text(), exitCode };
  }

  // -------------------------------------------------------------------------------------------
  // Diagnostics
  // -------------------------------------------------------------------------------------------

  public async recentDeploys(refs: readonly KubeRef[], sinceSeconds: number, now: Date = this.now()): Promise<DeployRecord[]> {
    const since = new Date(now.getTime() - sinceSeconds * 1000);
    const out: DeployRecord[] = [];
    for (const ref of refs) {
      let d: Json;
      try {
        d = await this.getDeployment(ref);
      } catch (err) {
        // A named service that is not deployed here has no deploys to report.
        if (err instanceof TargetNotFoundError) continue;
        throw err;
      }
      const events = await this.call(`events of deployment ${refText(ref)}`, refText(ref), async (c) => json(await c.core.listNamespacedEvent({ namespace: ref.namespace, fieldSelector: `involvedObject.kind=Deployment,involvedObject.name=${ref.name}` }), 'CoreV1EventList'));
      out.push(...deploysOf(d, await this.replicaSetsOf(d), events.items ?? [], since));
    }
    return out.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  }

  public async podHealth(ref: KubeRef, sinceSeconds: number, now: Date = this.now()): Promise<PodHealth> {
    const d = await this.getDeployment(ref);
    return podHealthOf(d, await this.podsOf(d), new Date(now.getTime() - sinceSeconds * 1000));
  }

  public async podUsage(ref: KubeRef): Promise<PodUsage[]> {
    const d = await this.getDeployment(ref);
    const names = new Set((await this.podsOf(d)).map((p) => p.metadata.name));
    const limits = new Map<string, Json>(((d.spec?.template?.spec?.containers ?? []) as Json[]).map((c) => [c.name, c.resources?.limits ?? {}]));
    const metrics = await this.call(`pod metrics in ${ref.namespace}`, refText(ref), async (c) => c.metrics.getPodMetrics(ref.namespace));
    const out: PodUsage[] = [];
    for (const item of metrics.items ?? []) {
      if (!names.has(item.metadata.name)) continue;
      for (const c of item.containers ?? []) {
        const lim = limits.get(c.name) ?? {};
        out.push({
          pod: item.metadata.name,
          container: c.name,
          cpuCores: parseQuantity(String(c.usage.cpu)),
          memoryBytes: parseQuantity(String(c.usage.memory)),
          ...(lim.cpu !== undefined ? { cpuLimit: parseQuantity(String(lim.cpu)) } : {}),
          ...(lim.memory !== undefined ? { memoryLimitBytes: parseQuantity(String(lim.memory)) } : {}),
        });
      }
    }
    return out;
  }

  public async nodeHeadroom(forDeployment?: KubeRef): Promise<NodeHeadroom> {
    const nodes = await this.call('nodes', 'cluster', async (c) => json(await c.core.listNode({}), 'V1NodeList'));
    const pods = await this.call('pods of the cluster', 'cluster', async (c) => json(await c.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }), 'V1PodList'));
    const perPod = forDeployment ? podRequests((await this.getDeployment(forDeployment)).spec?.template?.spec) : undefined;
    return headroomOf(nodes.items ?? [], pods.items ?? [], perPod);
  }

  public async listTlsSecrets(): Promise<{ namespace: string; name: string; data: Record<string, string> }[]> {
    const list = await this.call('kubernetes.io/tls secrets', 'cluster', async (c) => json(await c.core.listSecretForAllNamespaces({ fieldSelector: 'type=kubernetes.io/tls' }), 'V1SecretList'));
    return (list.items ?? []).map((s: Json) => ({ namespace: s.metadata.namespace, name: s.metadata.name, data: { ...(s.data ?? {}) } }));
  }

}

/** A KubeOps for a cluster. */
export function createKubeOps(options: KubeOpsOptions): KubeOps {
  return new ClientNodeKubeOps(options);
}

/** A kubeconfig from a file (KUBECONFIG / --kubeconfig), optionally with another context. */
export function kubeConfigFromFile(file: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  return kc;
}

/** A kubeconfig from kubeconfig YAML text (the sandbox writes one). */
export function kubeConfigFromString(text: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}

export { HASH_LABEL };
