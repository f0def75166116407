/**
 * kubectl's client-side rollout logic, as pure functions over API objects (plain JSON):
 * - `pickUndoReplicaSet` and `undoPatch`: `kubectl rollout undo` (kubectl pkg/polymorphichelpers
 *   rollback.go: the ReplicaSet by deployment.kubernetes.io/revision, the previous one by default;
 *   its template without pod-template-hash replaces /spec/template by JSON patch; annotations from
 *   the ReplicaSet except the deployment's own bookkeeping ones);
 * - `rolloutStatus`: `kubectl rollout status` (rollout_status.go, DeploymentStatusViewer).
 */
import { canonical } from './json';

export const REVISION = 'deployment.kubernetes.io/revision';
export const HASH_LABEL = 'pod-template-hash';
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** Annotations `rollout undo` keeps from the deployment rather than copying from the ReplicaSet (rollback.go annotationsToSkip). */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export function revisionOf(obj: Json): number {
  const v = Number(obj?.metadata?.annotations?.[REVISION]);
  return Number.isFinite(v) ? v : 0;
}

/** The ReplicaSets a deployment controls (by controller ownerReference), as the deployment util lists them. */
export function ownedReplicaSets(deployment: Json, replicaSets: readonly Json[]): Json[] {
  return replicaSets.filter((rs) => (rs.metadata?.ownerReferences ?? []).some((r: Json) => r.controller && r.uid === deployment.metadata?.uid));
}

/** A pod template without its pod-template-hash label and the zero creationTimestamp, for comparison. */
function comparable(template: Json): string {
  const t = structuredClone(template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  if (t.metadata) delete t.metadata.creationTimestamp;
  return canonical(t);
}

/** rollback.go equalIgnoreHash. */
export function equalIgnoreHash(a: Json, b: Json): boolean {
  return comparable(a) === comparable(b);
}

/**
 * The ReplicaSet `kubectl rollout undo [--to-revision=N]` returns to: revision N, or the
 * second-highest revision (rollback.go deploymentRevision).
 * @returns a reason instead when there is none
 */
export function pickUndoReplicaSet(replicaSets: readonly Json[], toRevision = 0): { rs: Json } | { reason: string } {
  let latest: Json;
  let latestRev = -1;
  let previous: Json;
  let previousRev = -1;
  for (const rs of replicaSets) {
    const v = revisionOf(rs);
    if (!v) continue;
    if (toRevision === 0) {
      if (latestRev < v) {
        previousRev = latestRev;
        previous = latest;
        latestRev = v;
        latest = rs;
      } else if (previousRev < v) {
        previousRev = v;
        previous = rs;
      }
    } else if (toRevision === v) return { rs };
  }
  if (toRevision > 0) return { reason: `unable to find specified revision ${toRevision} in history` };
  if (!previous) return { reason: 'no rollout history found' };
  return { rs: previous };
}

/** The annotations rollback.go writes: the deployment's bookkeeping ones, then the ReplicaSet's others. */
export function undoAnnotations(deployment: Json, rs: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((deployment.metadata?.annotations ?? {}) as Record<string, string>)) if (ANNOTATIONS_TO_SKIP.has(k)) out[k] = v;
  for (const [k, v] of Object.entries((rs.metadata?.annotations ?? {}) as Record<string, string>)) if (!ANNOTATIONS_TO_SKIP.has(k)) out[k] = v;
  return out;
}

/**
 * The JSON patch of `kubectl rollout undo` (rollback.go getDeploymentPatch), with the
 * resourceVersion read before it as a precondition: a deployment changed since is a 409, not a
 * rollback over someone else's change.
 */
export function undoPatch(deployment: Json, rs: Json): unknown[] {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels[HASH_LABEL];
  return [
    { op: 'replace', path: '/metadata/resourceVersion', value: deployment.metadata?.resourceVersion },
    { op: 'replace', path: '/spec/template', value: template },
    { op: deployment.metadata?.annotations ? 'replace' : 'add', path: '/metadata/annotations', value: undoAnnotations(deployment, rs) },
  ];
}

/** kubectl's DeploymentStatusViewer: done, or the message it prints while waiting. */
export function rolloutStatus(d: Json): { done: boolean; message: string } {
  const name = d.metadata?.name;
  const s = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
  const progressing = (s.conditions ?? []).find((c: Json) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, message: `deployment "${name}" exceeded its progress deadline` };
  const want = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...` };
  if ((s.replicas ?? 0) > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...` };
  if ((s.availableReplicas ?? 0) < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

/** True when the deployment's Progressing condition says its deadline passed. */
export function progressDeadlineExceeded(d: Json): boolean {
  return (d.status?.conditions ?? []).some((c: Json) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
}
