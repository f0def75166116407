/**
 * Server-side printing: the meta.k8s.io/v1 Table a real API server returns when kubectl asks for
 * `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` (what `kubectl get` prints). Columns and
 * cells follow k8s.io/kubernetes pkg/printers/internalversion/printers.go (printPod, printDeployment,
 * printReplicaSet, printHorizontalPodAutoscaler, printNode, printEvent, printSecret, printNamespace);
 * the server always prints the wide columns (priority 1) and kubectl hides them without `-o wide`.
 * Ages are apimachinery's duration.HumanDuration.
 */
import { labelSelectorText, type KubeObject } from './store';

interface Column {
  readonly name: string;
  readonly type: 'string' | 'integer';
  readonly format?: string;
  readonly priority?: number;
  readonly description: string;
}

const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: unknown, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(String(ts)));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

function containersOf(template: Any): { names: string; images: string } {
  const cs = (template?.spec?.containers ?? []) as { name: string; image: string }[];
  return { names: cs.map((c) => c.name).join(','), images: cs.map((c) => c.image).join(',') };
}

function podRow(p: Any, now: number): unknown[] {
  let reason: string = p.status?.phase ?? '';
  if (p.status?.reason) reason = p.status.reason;
  const statuses = [...((p.status?.containerStatuses ?? []) as Any[])].reverse();
  let restarts = 0;
  let ready = 0;
  let lastRestart = 0;
  let hasRunning = false;
  for (const c of statuses) {
    restarts += c.restartCount ?? 0;
    if (c.lastState?.terminated?.finishedAt) lastRestart = Math.max(lastRestart, Date.parse(c.lastState.terminated.finishedAt));
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
    else if (c.ready && c.state?.running) {
      hasRunning = true;
      ready++;
    }
  }
  if (reason === 'Completed' && hasRunning) reason = (p.status?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  const restartsText = restarts !== 0 && lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  const total = (p.spec?.containers ?? []).length;
  return [p.metadata.name, `${ready}/${total}`, reason, restartsText, since(p.metadata.creationTimestamp, now), p.status?.podIPs?.[0]?.ip ?? p.status?.podIP ?? '<none>', p.spec?.nodeName || '<none>', p.status?.nominatedNodeName || '<none>', '<none>'];
}

function hpaTargets(h: Any): string {
  const specs = (h.spec?.metrics ?? []) as Any[];
  if (specs.length === 0) return '<none>';
  const current = (h.status?.currentMetrics ?? []) as Any[];
  return specs
    .map((m, i) => {
      if (m.type !== 'Resource') return '<unknown type>';
      const cur = current[i]?.resource?.current?.averageUtilization;
      const target = m.resource?.target?.averageUtilization;
      return `${m.resource.name}: ${cur === undefined ? '<unknown>' : `${cur}%`}/${target === undefined ? '<auto>' : `${target}%`}`;
    })
    .join(', ');
}

interface Printer {
  readonly columns: readonly Column[];
  row(o: Any, now: number): unknown[];
}

const PRINTERS: Readonly<Record<string, Printer>> = {
  Pod: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.' },
      { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
      { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
      AGE,
      { name: 'IP', type: 'string', priority: 1, description: 'podIP address allocated to the pod.' },
      { name: 'Node', type: 'string', priority: 1, description: 'NodeName is a request to schedule this pod onto a specific node.' },
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'nominatedNodeName is set only when this pod preempts other pods on the node.' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'If specified, all readiness gates will be evaluated for pod readiness.' },
    ],
    row: podRow,
  },
  Deployment: {
    columns: [
      NAME,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
      { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.' },
      { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.' },
      AGE,
      { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
      { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
      { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.' },
    ],
    row: (d, now) => {
      const c = containersOf(d.spec?.template);
      return [d.metadata.name, `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0, since(d.metadata.creationTimestamp, now), c.names, c.images, labelSelectorText(d.spec?.selector)];
    },
  },
  ReplicaSet: {
    columns: [
      NAME,
      { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired replicas.' },
      { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.' },
      { name: 'Ready', type: 'integer', description: 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.' },
      AGE,
      { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
      { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
      { name: 'Selector', type: 'string', priority: 1, description: 'Selector is a label query over pods that should match the replica count.' },
    ],
    row: (r, now) => {
      const c = containersOf(r.spec?.template);
      return [r.metadata.name, r.spec?.replicas ?? 1, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, since(r.metadata.creationTimestamp, now), c.names, c.images, labelSelectorText(r.spec?.selector)];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      NAME,
      { name: 'Reference', type: 'string', description: 'scaleTargetRef points to the target resource to scale.' },
      { name: 'Targets', type: 'string', description: 'metrics contains the specifications for which to use to calculate the desired replica count.' },
      { name: 'MinPods', type: 'string', description: 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.' },
      { name: 'MaxPods', type: 'string', description: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.' },
      { name: 'Replicas', type: 'string', description: 'currentReplicas is current number of replicas of pods managed by this autoscaler.' },
      AGE,
    ],
    row: (h, now) => [h.metadata.name, `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name}`, hpaTargets(h), h.spec?.minReplicas === undefined ? '<unset>' : String(h.spec.minReplicas), h.spec?.maxReplicas, h.status?.currentReplicas ?? 0, since(h.metadata.creationTimestamp, now)],
  },
  Node: {
    columns: [
      NAME,
      { name: 'Status', type: 'string', description: 'The status of the node' },
      { name: 'Roles', type: 'string', description: 'The roles of the node' },
      AGE,
      { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.' },
      { name: 'Internal-IP', type: 'string', priority: 1, description: 'List of addresses reachable to the node.' },
      { name: 'External-IP', type: 'string', priority: 1, description: 'List of addresses reachable to the node.' },
      { name: 'OS-Image', type: 'string', priority: 1, description: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).' },
      { name: 'Kernel-Version', type: 'string', priority: 1, description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)." },
      { name: 'Container-Runtime', type: 'string', priority: 1, description: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).' },
    ],
    row: (n, now) => {
      const ready = (n.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
      const status = `${ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'}${n.spec?.unschedulable ? ',SchedulingDisabled' : ''}`;
      const addr = (t: string) => (n.status?.addresses ?? []).find((a: Any) => a.type === t)?.address ?? '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [n.metadata.name, status, '<none>', since(n.metadata.creationTimestamp, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), info.osImage ?? '<unknown>', info.kernelVersion ?? '<unknown>', info.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  Event: {
    columns: [
      { name: 'Last Seen', type: 'string', description: 'The time at which the most recent occurrence of this event was recorded.' },
      { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future' },
      { name: 'Reason', type: 'string', description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status." },
      { name: 'Object', type: 'string', description: 'The object that this event is about.' },
      { name: 'Subobject', type: 'string', priority: 1, description: 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.' },
      { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event. Should be a short machine understandable string.' },
      { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.' },
      { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)' },
      { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.' },
      { name: 'Name', type: 'string', priority: 1, format: 'name', description: NAME.description },
    ],
    row: (e, now) => {
      const first = since(e.firstTimestamp, now);
      const last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
      const io = e.involvedObject ?? {};
      const target = io.name ? `${String(io.kind ?? '').toLowerCase()}/${io.name}` : String(io.kind ?? '').toLowerCase();
      const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
      return [last, e.type, e.reason, target, io.fieldPath ?? '', source, String(e.message ?? '').trim(), first, e.count || 1, e.metadata.name];
    },
  },
  Secret: {
    columns: [NAME, { name: 'Type', type: 'string', description: 'Used to facilitate programmatic handling of secret data.' }, { name: 'Data', type: 'string', description: 'Data contains the secret data.' }, AGE],
    row: (s, now) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, since(s.metadata.creationTimestamp, now)],
  },
  Namespace: {
    columns: [NAME, { name: 'Status', type: 'string', description: 'The status of the namespace' }, AGE],
    row: (n, now) => [n.metadata.name, n.status?.phase ?? 'Active', since(n.metadata.creationTimestamp, now)],
  },
};

/** The Table for `objects` of `kind`; `includeObject` as the request's query says (default Metadata). */
export function toTable(kind: string, objects: readonly KubeObject[], resourceVersion: string, now: number, includeObject = 'Metadata'): unknown {
  const printer = PRINTERS[kind];
  const columns = printer?.columns ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: printer ? printer.row(o, now) : [o.metadata.name, since(o.metadata.creationTimestamp, now)],
      ...(includeObject === 'None' ? {} : { object: includeObject === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } }),
    })),
  };
}

/** True when the Accept header asks for a Table. */
export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}
