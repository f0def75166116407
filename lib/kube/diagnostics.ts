/**
 * What the seed's conditions and analyses read from the cluster, as pure functions over API
 * objects: the rollouts of a deployment in a window (their confidence is deployConfidence in
 * lib/actions/kubernetes.ts), pod restarts and OOMKilled terminations in the last hour, and node
 * headroom ("当前容量是否足够": do more pods fit?).
 */
import { parseQuantity } from '../actions/quantity';
import type { DeployRecord, NodeHeadroom, PodHealth } from '../actions/ports';
import { canonical } from './json';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function images(template: Json): string[] {
  return ((template?.spec?.containers ?? []) as Json[]).map((c) => String(c.image));
}

/** What changed between two pod templates. */
export function changeBetween(previous: Json | undefined, current: Json, reused: boolean): DeployRecord['change'] {
  if (reused) return 'rollback';
  if (!previous) return 'initial';
  if (images(previous).join(',') !== images(current).join(',')) return 'image';
  // Key order and an emptied annotations map are no change: a template written back by a client
  // (an undo's JSON patch) keeps its keys in another order, and a first restart adds the map.
  const strip = (t: Json) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
    if (c.metadata?.annotations) {
      delete c.metadata.annotations['kubectl.kubernetes.io/restartedAt'];
      if (Object.keys(c.metadata.annotations).length === 0) delete c.metadata.annotations;
    }
    if (c.metadata) delete c.metadata.creationTimestamp;
    return canonical(c);
  };
  return strip(previous) === strip(current) ? 'restart' : 'config';
}

/**
 * The rollouts of one deployment within the window, from its ReplicaSets (revision, creation) and
 * its ScalingReplicaSet events: a rollback reuses an old ReplicaSet, so its start is the latest
 * "Scaled up replica set <rs> from 0" event rather than the ReplicaSet's creation.
 */
export function deploysOf(deployment: Json, replicaSets: readonly Json[], events: readonly Json[], since: Date): DeployRecord[] {
  const byRevision = [...replicaSets].filter((rs) => Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'])).sort((a, b) => Number(a.metadata.annotations['deployment.kubernetes.io/revision']) - Number(b.metadata.annotations['deployment.kubernetes.io/revision']));
  const out: DeployRecord[] = [];
  byRevision.forEach((rs, i) => {
    const reused = Boolean(rs.metadata?.annotations?.['deployment.kubernetes.io/revision-history']);
    const scaledUp = events
      // "Scaled up replica set <rs> to <n> from 0" (pkg/controller/deployment/sync.go): the rollout to this ReplicaSet began.
      .filter((e) => e.reason === 'ScalingReplicaSet' && String(e.message ?? '').startsWith(`Scaled up replica set ${rs.metadata.name} to `) && / from 0$/.test(String(e.message)))
      .map((e) => Date.parse(String(e.lastTimestamp ?? e.firstTimestamp ?? e.eventTime)))
      .filter((t) => Number.isFinite(t));
    const created = Date.parse(String(rs.metadata?.creationTimestamp));
    const at = reused && scaledUp.length ? Math.max(...scaledUp) : created;
    if (!Number.isFinite(at) || at < since.getTime()) return;
    const previous = byRevision[i - 1];
    out.push({
      namespace: deployment.metadata.namespace,
      deployment: deployment.metadata.name,
      revision: Number(rs.metadata.annotations['deployment.kubernetes.io/revision']),
      replicaSet: rs.metadata.name,
      at: new Date(at).toISOString(),
      change: changeBetween(previous?.spec?.template, rs.spec?.template, reused),
      images: images(rs.spec?.template),
      previousImages: previous ? images(previous.spec?.template) : [],
    });
  });
  return out.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

function ready(pod: Json): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

/** Restarts and OOMKilled terminations of a deployment's pods within the window (see PodHealth). */
export function podHealthOf(deployment: Json, pods: readonly Json[], since: Date): PodHealth {
  let restartsInWindow = 0;
  let lowerBound = false;
  let oom = 0;
  const list = pods.map((p) => {
    const statuses = (p.status?.containerStatuses ?? []) as Json[];
    const restarts = statuses.reduce((s, c) => s + (c.restartCount ?? 0), 0);
    const last = statuses
      .map((c) => c.lastState?.terminated)
      .filter(Boolean)
      .sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt))[0];
    const createdInWindow = Date.parse(p.metadata?.creationTimestamp) >= since.getTime();
    const lastInWindow = last && Date.parse(last.finishedAt) >= since.getTime();
    if (createdInWindow) restartsInWindow += restarts;
    else if (lastInWindow) {
      restartsInWindow += 1;
      lowerBound ||= restarts > 1;
    }
    if (lastInWindow && last.reason === 'OOMKilled') oom++;
    return {
      name: p.metadata.name,
      ready: ready(p),
      phase: String(p.status?.phase ?? 'Unknown'),
      restarts,
      ...(last ? { lastTermination: { reason: String(last.reason ?? ''), exitCode: Number(last.exitCode ?? 0), finishedAt: new Date(last.finishedAt).toISOString() } } : {}),
    };
  });
  return {
    namespace: deployment.metadata.namespace,
    deployment: deployment.metadata.name,
    pods: list,
    restartsInWindow,
    restartsLowerBound: lowerBound,
    oomKilledInWindow: oom,
    readyPods: list.filter((p) => p.ready).length,
    desiredReplicas: deployment.spec?.replicas ?? 1,
  };
}

/** Requests of one pod (its containers' requests; a limit stands in for a missing request, as the API server defaults it). */
export function podRequests(spec: Json): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of (spec?.containers ?? []) as Json[]) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    cpu += parseQuantity(req.cpu ?? lim.cpu ?? 0);
    memory += parseQuantity(req.memory ?? lim.memory ?? 0);
  }
  return { cpu, memory };
}

/** Allocatable minus requested per node; with `perPod`, how many such pods still fit (by requests and pod slots). */
export function headroomOf(nodes: readonly Json[], pods: readonly Json[], perPod?: { cpu: number; memory: number }): NodeHeadroom {
  const rows = nodes.map((n) => {
    const on = pods.filter((p) => p.spec?.nodeName === n.metadata.name && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const req = on.reduce((s, p) => {
      const r = podRequests(p.spec);
      return { cpu: s.cpu + r.cpu, memory: s.memory + r.memory };
    }, { cpu: 0, memory: 0 });
    const alloc = n.status?.allocatable ?? {};
    const isReady = (n.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True') && !n.spec?.unschedulable;
    return {
      name: n.metadata.name as string,
      ready: isReady,
      cpuAllocatable: parseQuantity(alloc.cpu ?? 0),
      memoryAllocatable: parseQuantity(alloc.memory ?? 0),
      cpuRequested: req.cpu,
      memoryRequested: req.memory,
      cpuFree: Math.max(0, parseQuantity(alloc.cpu ?? 0) - req.cpu),
      memoryFreeBytes: Math.max(0, parseQuantity(alloc.memory ?? 0) - req.memory),
      podsFree: Math.max(0, Number(alloc.pods ?? 110) - on.length),
    };
  });
  const usable = rows.filter((r) => r.ready);
  const fits = perPod
    ? usable.reduce((s, r) => s + Math.max(0, Math.floor(Math.min(perPod.cpu > 0 ? r.cpuFree / perPod.cpu : Infinity, perPod.memory > 0 ? r.memoryFreeBytes / perPod.memory : Infinity, r.podsFree))), 0)
    : undefined;
  return {
    nodes: rows.map((r) => ({ name: r.name, ready: r.ready, cpuFree: Math.round(r.cpuFree * 1000) / 1000, memoryFreeBytes: r.memoryFreeBytes, podsFree: r.podsFree })),
    cpuAllocatable: Math.round(usable.reduce((s, r) => s + r.cpuAllocatable, 0) * 1000) / 1000,
    cpuRequested: Math.round(usable.reduce((s, r) => s + r.cpuRequested, 0) * 1000) / 1000,
    memoryAllocatableBytes: usable.reduce((s, r) => s + r.memoryAllocatable, 0),
    memoryRequestedBytes: usable.reduce((s, r) => s + r.memoryRequested, 0),
    ...(fits !== undefined ? { podsThatFit: fits } : {}),
  };
}
