/**
 * The simulated cluster behind the sandbox API: the object store plus the controllers a real
 * control plane runs, so writes have the consequences they have on EKS:
 * - the deployment controller makes a ReplicaSet per pod template (pod-template-hash, the
 *   deployment.kubernetes.io/revision annotation, a reused ReplicaSet taking the next revision on
 *   rollback) and rolls by maxSurge / maxUnavailable, honouring `paused`, writing the status and
 *   conditions `kubectl rollout status` reads (pkg/controller/deployment);
 * - the ReplicaSet controller creates and deletes pods; pods go Pending → Running → Ready
 *   (a readiness delay), a bad image crash-loops, an OOM kill restarts the container with
 *   lastState.terminated.reason OOMKilled;
 * - the HPA controller scales the target by CPU utilisation within [minReplicas, maxReplicas]
 *   (tolerance 10 %, scale-down stabilisation) and writes the ScalingLimited condition;
 * - events as the controllers and the kubelet record them.
 * Load (CPU demand, memory, GC pauses) is the scene's, changed by drills through this class.
 */
import { formatCpu, formatMemory, parseQuantity } from '../../actions/quantity';
import type { ServiceMap } from '../../policy/services';
import { selfSignedCertificate } from './certs';
import { runInContainer, type ContainerState, type ExecOutcome } from './container-runtime';
import { badRequest, notFound, SandboxTimeoutError } from './errors';
import { canonical, fnv32a, labelSelectorText, ObjectStore, randomSuffix, safeEncode, type KubeObject } from './store';
import { exchangeScene, type Runtime, type Scene, type SceneWorkload } from './scene';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const HASH_LABEL = 'pod-template-hash';

/** Controller timings. Real clusters take seconds to minutes; drills and tests want them short. */
export interface ClusterTiming {
  /** Controller loop period, ms. @default 100 */
  readonly tickMs?: number;
  /** Pod created → containers running, s. @default 0.5 */
  readonly podStartSeconds?: number;
  /** Containers running → Ready (readiness probe), s. @default 1 */
  readonly podReadySeconds?: number;
  /** A deleted pod stays Terminating this long, s. @default 0.3 */
  readonly terminationSeconds?: number;
  /** HPA sync period, s (real: 15). @default 2 */
  readonly hpaSyncSeconds?: number;
  /** HPA scale-down stabilisation window, s (real: 300). @default 300 */
  readonly hpaDownscaleSeconds?: number;
}

export interface ClusterOptions {
  readonly scene?: Scene;
  /** The service map the default scene is built from. */
  readonly services?: ServiceMap;
  readonly timing?: ClusterTiming;
  now?(): Date;
}

/** Load of one workload, as drills set it. */
interface WorkloadLoad {
  runtime: Runtime;
  demandCores: number;
  memoryRatio: number;
  gcPauseMs: number;
  threads: number;
  blockedThreads: number;
}

/** Kubelet-side state of a pod the API does not hold. */
interface PodSim {
  readonly workload: string;
  readonly createdAt: number;
  startAt: number;
  readyAt: number;
  deleteAt?: number;
  crashLoop: boolean;
  nextCrashAt?: number;
  readonly files: Map<string, Map<string, { size: number; at: Date; content?: string }>>;
}

type Obj = KubeObject;

const T = {
  namespaces: ObjectStore.typeOf('', 'namespaces'),
  nodes: ObjectStore.typeOf('', 'nodes'),
  pods: ObjectStore.typeOf('', 'pods'),
  events: ObjectStore.typeOf('', 'events'),
  secrets: ObjectStore.typeOf('', 'secrets'),
  deployments: ObjectStore.typeOf('apps', 'deployments'),
  replicasets: ObjectStore.typeOf('apps', 'replicasets'),
  hpas: ObjectStore.typeOf('autoscaling', 'horizontalpodautoscalers'),
};

export { T as TYPES };

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An int-or-percent of `total` (k8s.io/apimachinery intstr.GetScaledValueFromIntOrPercent). */
function scaled(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value ?? ''));
  if (!m) return Number(value) || 0;
  const v = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(v) : Math.floor(v);
}

/** The template without the pod-template-hash label (what equalIgnoreHash compares). */
function templateKey(template: unknown): string {
  const t = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown } };
  if (t.metadata?.labels) delete t.metadata.labels[HASH_LABEL];
  if (t.metadata) delete t.metadata.creationTimestamp;
  return canonical(t);
}

function revisionOf(o: Obj): number {
  return Number(o.metadata.annotations?.[REVISION] ?? 0) || 0;
}

function ownedBy(o: Obj, owner: Obj): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);
}

function ownerRef(owner: Obj) {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid as string, controller: true, blockOwnerDeletion: true };
}

function podReady(p: Obj): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

function condition(type: string, status: string, reason: string, message: string, prev: { type: string; status: string; lastTransitionTime?: string }[] | undefined, at: string, withUpdate = false) {
  const old = (prev ?? []).find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status ? old.lastTransitionTime ?? at : at;
  return { type, status, ...(withUpdate ? { lastUpdateTime: at } : {}), lastTransitionTime, reason, message };
}

export class KubeCluster {
  public readonly store: ObjectStore;
  public readonly now: () => Date;
  /** Errors the controllers met (a sandbox bug); tests assert there are none. */
  public readonly errors: Error[] = [];
  private readonly timing: Required<ClusterTiming>;
  private readonly load = new Map<string, WorkloadLoad>();
  private readonly pods = new Map<string, PodSim>();
  private readonly hpaHistory = new Map<string, { at: number; replicas: number }[]>();
  private lastHpaSync = 0;
  private lastRv = '';
  private lastTickAt = 0;
  private lastFullPass = 0;
  private lastGc = 0;
  private timer?: NodeJS.Timeout;
  private ipCounter = 10;
  private readonly nodeNames: string[] = [];

  public constructor(options: ClusterOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.store = new ObjectStore(this.now);
    this.timing = {
      tickMs: options.timing?.tickMs ?? 100,
      podStartSeconds: options.timing?.podStartSeconds ?? 0.5,
      podReadySeconds: options.timing?.podReadySeconds ?? 1,
      terminationSeconds: options.timing?.terminationSeconds ?? 0.3,
      hpaSyncSeconds: options.timing?.hpaSyncSeconds ?? 2,
      hpaDownscaleSeconds: options.timing?.hpaDownscaleSeconds ?? 300,
    };
    const scene = options.scene ?? (options.services ? exchangeScene(options.services) : { workloads: [], nodes: [], certificates: [] });
    this.build(scene);
  }

  /** Starts the controllers' loop. */
  public start(): this {
    if (!this.timer) {
      this.timer = setInterval(() => {
        try {
          this.tick();
        } catch (err) {
          // A controller bug must not stop the loop silently: kept for tests and drills to see.
          this.errors.push(err as Error);
        }
      }, this.timing.tickMs);
      this.timer.unref();
    }
    return this;
  }

  public stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private ms(): number {
    return this.now().getTime();
  }

  // -------------------------------------------------------------------------------------------
  // The scene
  // -------------------------------------------------------------------------------------------

  private build(scene: Scene): void {
    const now = this.ms();
    const created = iso(now - 90 * 86400e3);
    for (const ns of new Set(['default', 'kube-system', ...scene.workloads.map((w) => w.namespace), ...scene.certificates.map((c) => c.namespace)])) {
      this.store.create(T.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, creationTimestamp: created, labels: { 'kubernetes.io/metadata.name': ns } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    }
    for (const n of scene.nodes) {
      this.nodeNames.push(n.name);
      this.store.create(T.nodes, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: n.name,
          creationTimestamp: iso(now - 14 * 86400e3),
          labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'node.kubernetes.io/instance-type': n.instanceType, 'topology.kubernetes.io/zone': n.zone, 'eks.amazonaws.com/nodegroup': 'exchange-m6i' },
        },
        spec: { providerID: `aws:///${n.zone}/i-0${(fnv32a(n.name) >>> 0).toString(16).padStart(16, '0')}` },
        status: {
          capacity: { cpu: '16', memory: '65023368Ki', pods: String(n.pods), 'ephemeral-storage': '104845292Ki' },
          allocatable: { cpu: n.cpu, memory: n.memory, pods: String(n.pods), 'ephemeral-storage': '95551679124' },
          conditions: [
            { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: iso(now), lastTransitionTime: iso(now - 14 * 86400e3) },
            { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: iso(now), lastTransitionTime: iso(now - 14 * 86400e3) },
            { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: iso(now), lastTransitionTime: iso(now - 14 * 86400e3) },
            { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: iso(now), lastTransitionTime: iso(now - 14 * 86400e3) },
          ],
          addresses: [{ type: 'InternalIP', address: n.name.replace(/^ip-(\d+)-(\d+)-(\d+)-(\d+)\..*$/, '$1.$2.$3.$4') }, { type: 'Hostname', address: n.name }],
          nodeInfo: { kubeletVersion: 'v1.31.4-eks-aeac579', containerRuntimeVersion: 'containerd://1.7.25', osImage: 'Amazon Linux 2023.6.20250203', kernelVersion: '6.1.127-135.201.amzn2023.x86_64', operatingSystem: 'linux', architecture: 'amd64' },
        },
      });
    }
    for (const w of scene.workloads) this.buildWorkload(w, now);
    for (const c of scene.certificates) {
      const issued = selfSignedCertificate({ commonName: c.dnsNames[0] ?? c.name, dnsNames: c.dnsNames, notBefore: new Date(now - (90 - c.daysLeft) * 86400e3), notAfter: new Date(now + c.daysLeft * 86400e3) });
      this.store.create(T.secrets, {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: c.name, namespace: c.namespace, creationTimestamp: iso(now - (90 - c.daysLeft) * 86400e3), annotations: { 'cert-manager.io/issuer-name': 'letsencrypt-prod' } },
        data: { 'tls.crt': Buffer.from(issued.certificate).toString('base64'), 'tls.key': Buffer.from(issued.key).toString('base64') },
      });
    }
  }

  private template(w: SceneWorkload, tag: string): Record<string, unknown> {
    const p = w.profile;
    return {
      metadata: { labels: { app: w.deployment, 'app.kubernetes.io/name': w.deployment, 'app.kubernetes.io/part-of': 'exchange' } },
      spec: {
        containers: w.containers.map((name, i) => ({
          name,
          image: i === 0 ? `${p.image}:${tag}` : `${p.image}-${name}:${tag}`,
          ports: [{ containerPort: p.port, name: 'http', protocol: 'TCP' }],
          resources: { requests: { ...p.requests }, limits: { ...p.limits } },
          ...(p.runtime === 'jvm' ? { env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:+UseG1GC -XX:MaxRAMPercentage=75' }] } : {}),
          readinessProbe: { httpGet: { path: '/healthz/ready', port: p.port, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        })),
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        schedulerName: 'default-scheduler',
        securityContext: {},
      },
    };
  }

  private buildWorkload(w: SceneWorkload, now: number): void {
    const p = w.profile;
    const key = `${w.namespace}/${w.deployment}`;
    this.load.set(key, { runtime: p.runtime, demandCores: p.demandCores, memoryRatio: p.memoryRatio, gcPauseMs: p.gcPauseMs ?? 0, threads: p.threads ?? 0, blockedThreads: 0 });
    const first = now - (p.deployedHoursAgo[0] ?? 24) * 3600e3;
    const dep = this.store.create(T.deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: w.deployment, namespace: w.namespace, creationTimestamp: iso(first), labels: { app: w.deployment, 'app.kubernetes.io/part-of': 'exchange' }, annotations: { [REVISION]: String(p.history.length) } },
      spec: {
        replicas: p.replicas,
        selector: { matchLabels: { app: w.deployment } },
        template: this.template(w, p.history[p.history.length - 1] ?? 'latest'),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: p.strategy?.maxSurge ?? '25%', maxUnavailable: p.strategy?.maxUnavailable ?? '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
    });
    p.history.forEach((tag, i) => {
      const at = now - (p.deployedHoursAgo[i] ?? 1) * 3600e3;
      const last = i === p.history.length - 1;
      const rs = this.newReplicaSet(dep, this.template(w, tag), i + 1, last ? p.replicas : 0, iso(at));
      if (last) for (let n = 0; n < p.replicas; n++) this.createPod(rs, key, at + n * 20e3, true);
    });
    this.syncReplicaSets();
    this.syncDeployments();
    if (p.hpa) {
      this.store.create(T.hpas, {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: w.deployment, namespace: w.namespace, creationTimestamp: iso(first) },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.deployment }, minReplicas: p.hpa.min, maxReplicas: p.hpa.max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: p.hpa.targetCpuUtilization } } }] },
      });
    }
  }

  private newReplicaSet(dep: Obj, template: unknown, revision: number, replicas: number, createdAt?: string): Obj {
    const hash = safeEncode(String(fnv32a(templateKey(template))));
    const t = structuredClone(template) as { metadata: { labels: Record<string, string> } };
    t.metadata.labels = { ...t.metadata.labels, [HASH_LABEL]: hash };
    return this.store.create(T.replicasets, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${dep.metadata.name}-${hash}`,
        namespace: dep.metadata.namespace,
        ...(createdAt ? { creationTimestamp: createdAt } : {}),
        labels: { ...t.metadata.labels },
        annotations: { [REVISION]: String(revision), 'deployment.kubernetes.io/desired-replicas': String(dep.spec.replicas ?? 1), 'deployment.kubernetes.io/max-replicas': String((dep.spec.replicas ?? 1) + scaled(dep.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', dep.spec.replicas ?? 1, true)) },
        ownerReferences: [ownerRef(dep)],
      },
      spec: { replicas, selector: { matchLabels: { ...dep.spec.selector.matchLabels, [HASH_LABEL]: hash } }, template: t },
    });
  }

  private pickNode(): string {
    if (this.nodeNames.length === 0) return 'sandbox-node';
    const counts = new Map(this.nodeNames.map((n) => [n, 0]));
    for (const p of this.store.scan(T.pods)) if (p.spec?.nodeName) counts.set(p.spec.nodeName, (counts.get(p.spec.nodeName) ?? 0) + 1);
    return [...counts].sort((a, b) => a[1] - b[1])[0]?.[0] as string;
  }

  private createPod(rs: Obj, workload: string, createdAtMs: number, running: boolean): Obj {
    const name = `${rs.metadata.name}-${randomSuffix(5)}`;
    const template = rs.spec.template;
    const node = this.pickNode();
    const ip = `10.42.${Math.floor(this.ipCounter / 250) % 250}.${(this.ipCounter++ % 250) + 2}`;
    const crash = template.spec.containers.some((c: { image: string }) => /:(broken|crashloop)/.test(c.image));
    const sim: PodSim = { workload, createdAt: createdAtMs, startAt: createdAtMs + this.timing.podStartSeconds * 1000, readyAt: createdAtMs + (this.timing.podStartSeconds + this.timing.podReadySeconds) * 1000, crashLoop: crash, files: new Map() };
    const status = running && !crash ? this.runningStatus(template, sim, ip, node, true) : { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: iso(createdAtMs) }], qosClass: this.qosClass(template) };
    const pod = this.store.create(T.pods, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: rs.metadata.namespace, creationTimestamp: iso(createdAtMs), labels: { ...template.metadata.labels }, ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}), ownerReferences: [ownerRef(rs)] },
      spec: { ...structuredClone(template.spec), nodeName: node },
      status,
    });
    this.pods.set(`${pod.metadata.namespace}/${name}`, sim);
    return pod;
  }

  private qosClass(template: { spec: { containers: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] } }): string {
    const cs = template.spec.containers;
    const guaranteed = cs.every((c) => c.resources?.limits?.cpu && c.resources?.limits?.memory && (c.resources.requests?.cpu ?? c.resources.limits.cpu) === c.resources.limits.cpu && (c.resources.requests?.memory ?? c.resources.limits.memory) === c.resources.limits.memory);
    if (guaranteed) return 'Guaranteed';
    return cs.some((c) => c.resources?.requests || c.resources?.limits) ? 'Burstable' : 'BestEffort';
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private runningStatus(template: any, sim: PodSim, ip: string, node: string, ready: boolean, previous?: any): any {
    const started = iso(sim.startAt);
    const readyAt = iso(Math.max(sim.readyAt, sim.startAt));
    const nodeIp = node.replace(/^ip-(\d+)-(\d+)-(\d+)-(\d+)\..*$/, '$1.$2.$3.$4');
    const conditions = [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: started },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: iso(sim.createdAt) },
      { type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: ready ? readyAt : started, ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${template.spec.containers.map((c: { name: string }) => c.name).join(' ')}]` }) },
      { type: 'ContainersReady', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: ready ? readyAt : started, ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${template.spec.containers.map((c: { name: string }) => c.name).join(' ')}]` }) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: iso(sim.createdAt) },
    ];
    return {
      phase: 'Running',
      conditions,
      hostIP: nodeIp,
      hostIPs: [{ ip: nodeIp }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: iso(sim.createdAt),
      containerStatuses: template.spec.containers.map((c: { name: string; image: string }) => {
        const prev = previous?.containerStatuses?.find((s: { name: string }) => s.name === c.name);
        return {
          name: c.name,
          state: { running: { startedAt: started } },
          lastState: prev?.lastState ?? {},
          ready,
          restartCount: prev?.restartCount ?? 0,
          image: c.image,
          imageID: `${c.image.split(':')[0]}@sha256:${fnv32a(c.image).toString(16).padStart(8, '0').repeat(8)}`,
          containerID: `containerd://${fnv32a(`${c.name}${sim.startAt}`).toString(16).padStart(8, '0').repeat(8)}`,
          started: true,
        };
      }),
      qosClass: this.qosClass(template),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Controllers
  // -------------------------------------------------------------------------------------------

  /** One pass of every controller (the loop calls it; tests may call it to step deterministically). */
  public tick(): void {
    const now = this.ms();
    // Idle clusters cost nothing: the pod, ReplicaSet and deployment loops run when something was
    // written since the last pass, when a pod's start/ready/termination time came, and once a second.
    const rv = this.store.resourceVersion;
    const due = [...this.pods.values()].some((p) => [p.startAt, p.readyAt, p.deleteAt, p.nextCrashAt].some((at) => at !== undefined && at > this.lastTickAt && at <= now));
    if (rv !== this.lastRv || due || now - this.lastFullPass >= 1000) {
      this.syncPods();
      this.syncReplicaSets();
      this.syncDeployments();
      this.lastFullPass = now;
    }
    this.lastRv = rv;
    this.lastTickAt = now;
    if (now - this.lastHpaSync >= this.timing.hpaSyncSeconds * 1000) {
      this.lastHpaSync = now;
      this.syncHpas();
    }
    if (now - this.lastGc >= 5000) {
      this.lastGc = now;
      this.collectGarbage();
    }
  }

  private event(involved: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string, fieldPath?: string): void {
    const ns = involved.metadata.namespace ?? 'default';
    const existing = this.store.scan(T.events, { namespace: ns }).find((e) => (e.involvedObject as { uid?: string } | undefined)?.uid === involved.metadata.uid && e.reason === reason && e.message === message);
    const at = iso(this.ms());
    if (existing) {
      this.store.update(T.events, { ...existing, count: (Number(existing.count) || 1) + 1, lastTimestamp: at });
      return;
    }
    this.store.create(T.events, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${(fnv32a(`${reason}${message}${at}${Math.random()}`) >>> 0).toString(16).padStart(16, '0').slice(0, 16)}`, namespace: ns },
      involvedObject: { kind: involved.kind, namespace: ns, name: involved.metadata.name, uid: involved.metadata.uid, apiVersion: involved.apiVersion, resourceVersion: involved.metadata.resourceVersion, ...(fieldPath ? { fieldPath } : {}) },
      reason,
      message,
      source: { component, ...(component === 'kubelet' && involved.spec?.nodeName ? { host: involved.spec.nodeName } : {}) },
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? involved.spec?.nodeName ?? '' : '',
    });
  }

  private syncPods(): void {
    const now = this.ms();
    for (const stored of this.store.scan(T.pods)) {
      const id = `${stored.metadata.namespace}/${stored.metadata.name}`;
      // A shallow copy: the branches below replace status (or its lists), never the stored object's.
      const pod = { ...stored, status: { ...stored.status } } as Obj;
      const sim = this.pods.get(id);
      if (!sim) continue;
      if (pod.metadata.deletionTimestamp) {
        if (sim.deleteAt !== undefined && now >= sim.deleteAt) {
          this.store.delete(T.pods, pod.metadata.namespace, pod.metadata.name);
          this.pods.delete(id);
        }
        continue;
      }
      const template = { metadata: pod.metadata, spec: pod.spec };
      if (pod.status?.phase === 'Pending' && now >= sim.startAt) {
        if (sim.crashLoop) {
          sim.nextCrashAt = now + 2000;
          pod.status = { ...this.runningStatus(template, sim, `10.42.0.${(this.ipCounter++ % 250) + 2}`, pod.spec.nodeName, false), phase: 'Running' };
          pod.status.containerStatuses = pod.status.containerStatuses.map((s: Record<string, unknown>) => ({ ...s, state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${s.name} pod=${pod.metadata.name}` } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(sim.startAt), finishedAt: iso(now) } }, restartCount: 1, started: false }));
          this.store.update(T.pods, pod);
          this.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet', `spec.containers{${pod.spec.containers[0].name}}`);
          continue;
        }
        const ip = `10.42.${Math.floor(this.ipCounter / 250) % 250}.${(this.ipCounter++ % 250) + 2}`;
        pod.status = this.runningStatus(template, sim, ip, pod.spec.nodeName, false);
        this.store.update(T.pods, pod);
        for (const c of pod.spec.containers) {
          this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet', `spec.containers{${c.name}}`);
          this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
        }
        continue;
      }
      if (pod.status?.phase === 'Running' && sim.crashLoop && sim.nextCrashAt !== undefined && now >= sim.nextCrashAt) {
        sim.nextCrashAt = now + 2000;
        pod.status.containerStatuses = pod.status.containerStatuses.map((s: { restartCount: number }) => ({ ...s, restartCount: s.restartCount + 1, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(now - 1000), finishedAt: iso(now) } } }));
        this.store.update(T.pods, pod);
        continue;
      }
      if (pod.status?.phase === 'Running' && !sim.crashLoop && !podReady(pod) && now >= sim.readyAt) {
        pod.status = this.runningStatus(template, sim, pod.status.podIP, pod.spec.nodeName, true, pod.status);
        this.store.update(T.pods, pod);
      }
    }
  }

  /** Graceful deletion of a pod (DELETE on the API): Terminating now, gone after the termination delay. */
  public markPodDeleted(pod: Obj): Obj {
    const sim = this.pods.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (sim) sim.deleteAt = this.ms() + this.timing.terminationSeconds * 1000;
    else this.pods.set(`${pod.metadata.namespace}/${pod.metadata.name}`, { workload: '', createdAt: this.ms(), startAt: 0, readyAt: 0, crashLoop: false, files: new Map(), deleteAt: this.ms() + this.timing.terminationSeconds * 1000 });
    if (pod.metadata.deletionTimestamp) return pod;
    pod.metadata.deletionTimestamp = iso(this.ms() + 30000);
    (pod.metadata as Record<string, unknown>).deletionGracePeriodSeconds = 30;
    return this.store.update(T.pods, pod);
  }

  /** Deletes pods as the ReplicaSet controller ranks them: not ready before ready, newest first. */
  private scaleDownPods(rs: Obj, pods: readonly Obj[], count: number): void {
    const ranked = [...pods].sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)));
    for (const p of ranked.slice(0, count)) {
      const pod = structuredClone(p);
      const sim = this.pods.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
      if (sim) sim.deleteAt = this.ms() + this.timing.terminationSeconds * 1000;
      pod.metadata.deletionTimestamp = iso(this.ms() + 30000);
      (pod.metadata as Record<string, unknown>).deletionGracePeriodSeconds = 30;
      pod.status = { ...pod.status, conditions: (pod.status?.conditions ?? []).map((c: { type: string }) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False' } : c)) };
      this.store.update(T.pods, pod);
      this.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
    }
  }

  /** Garbage collection: ReplicaSets whose deployment is gone, pods whose ReplicaSet is gone, events older than an hour. */
  private collectGarbage(): void {
    for (const rs of this.store.scan(T.replicasets)) if (rs.metadata.ownerReferences?.some((r) => r.kind === 'Deployment') && !this.ownerDeployment(rs)) this.store.delete(T.replicasets, rs.metadata.namespace, rs.metadata.name);
    for (const pod of this.store.scan(T.pods)) {
      const ref = pod.metadata.ownerReferences?.find((r) => r.kind === 'ReplicaSet');
      const rs = ref ? this.store.find(T.replicasets, pod.metadata.namespace, ref.name) : undefined;
      if (ref && (!rs || rs.metadata.uid !== ref.uid)) {
        this.store.delete(T.pods, pod.metadata.namespace, pod.metadata.name);
        this.pods.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
      }
    }
    const cutoff = this.ms() - 3600e3;
    for (const e of this.store.scan(T.events)) if (Date.parse(String(e.lastTimestamp)) < cutoff) this.store.delete(T.events, e.metadata.namespace, e.metadata.name);
  }

  private syncReplicaSets(): void {
    for (const rs of this.store.list(T.replicasets)) {
      const pods = this.store.scan(T.pods, { namespace: rs.metadata.namespace }).filter((p) => ownedBy(p, rs));
      const active = pods.filter((p) => !p.metadata.deletionTimestamp);
      const want = rs.spec.replicas ?? 1;
      const dep = this.ownerDeployment(rs);
      const workload = dep ? `${dep.metadata.namespace}/${dep.metadata.name}` : `${rs.metadata.namespace}/${rs.metadata.name}`;
      if (active.length < want) {
        for (let i = active.length; i < want; i++) {
          const pod = this.createPod(rs, workload, this.ms(), false);
          this.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, 'replicaset-controller');
        }
      } else if (active.length > want) this.scaleDownPods(rs, active, active.length - want);
      const now = this.store.scan(T.pods, { namespace: rs.metadata.namespace }).filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp);
      const ready = now.filter(podReady).length;
      const status: Record<string, unknown> = { replicas: now.length, fullyLabeledReplicas: now.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation };
      // The API omits zero counts (omitempty), except replicas.
      for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[k] === 0) delete status[k];
      if (canonical(status) !== canonical(rs.status)) this.store.update(T.replicasets, { ...rs, status });
    }
  }

  private ownerDeployment(rs: Obj): Obj | undefined {
    const ref = rs.metadata.ownerReferences?.find((r) => r.kind === 'Deployment' && r.controller);
    if (!ref) return undefined;
    const d = this.store.find(T.deployments, rs.metadata.namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private setReplicas(rs: Obj, replicas: number, dep: Obj): void {
    const from = rs.spec.replicas ?? 0;
    if (from === replicas) return;
    const fresh = this.store.get(T.replicasets, rs.metadata.namespace, rs.metadata.name);
    fresh.spec.replicas = replicas;
    fresh.metadata.annotations = { ...fresh.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String(dep.spec.replicas ?? 1) };
    this.store.update(T.replicasets, fresh);
    rs.spec.replicas = replicas;
    // The deployment controller's message (pkg/controller/deployment/sync.go scaleReplicaSet).
    this.event(dep, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${replicas} from ${from}`, 'deployment-controller');
  }

  private syncDeployments(): void {
    for (const d of this.store.list(T.deployments)) {
      const all = this.store.list(T.replicasets, { namespace: d.metadata.namespace }).filter((rs) => ownedBy(rs, d));
      const desired = d.spec.replicas ?? 1;
      const key = templateKey(d.spec.template);
      let newRS = all.find((rs) => templateKey(rs.spec.template) === key);
      const maxRevision = Math.max(0, ...all.map(revisionOf));
      if (!d.spec.paused) {
        if (!newRS) {
          const initial = all.every((rs) => (rs.spec.replicas ?? 0) === 0) ? desired : 0;
          newRS = this.newReplicaSet(d, d.spec.template, maxRevision + 1, 0);
          all.push(newRS);
          if (initial > 0) this.setReplicas(newRS, initial, d);
        } else if (revisionOf(newRS) < maxRevision) {
          // Rolling back to an old template: its ReplicaSet takes the next revision, and keeps the old one in revision-history.
          const fresh = this.store.get(T.replicasets, newRS.metadata.namespace, newRS.metadata.name);
          const history = [fresh.metadata.annotations?.[REVISION_HISTORY], String(revisionOf(fresh))].filter(Boolean).join(',');
          fresh.metadata.annotations = { ...fresh.metadata.annotations, [REVISION]: String(maxRevision + 1), [REVISION_HISTORY]: history };
          newRS = this.store.update(T.replicasets, fresh);
        }
        this.roll(d, newRS, all.filter((rs) => rs !== newRS && rs.metadata.name !== newRS?.metadata.name), desired);
      } else if (newRS) {
        // Paused: no new ReplicaSet, but scaling still applies to the current one.
        const others = all.filter((rs) => rs.metadata.name !== newRS?.metadata.name && (rs.spec.replicas ?? 0) > 0);
        if (others.length === 0) this.setReplicas(newRS, desired, d);
      }
      this.writeDeploymentStatus(d, newRS);
      this.pruneHistory(d, newRS);
    }
  }

  private availableOf(rs: Obj): number {
    return this.store.scan(T.pods, { namespace: rs.metadata.namespace }).filter((p) => ownedBy(p, rs) && podReady(p)).length;
  }

  private roll(d: Obj, newRS: Obj, old: Obj[], desired: number): void {
    const strategy = d.spec.strategy ?? {};
    if (strategy.type === 'Recreate') {
      const running = old.filter((rs) => (rs.spec.replicas ?? 0) > 0);
      for (const rs of running) this.setReplicas(rs, 0, d);
      const oldPods = this.store.scan(T.pods, { namespace: d.metadata.namespace }).filter((p) => old.some((rs) => ownedBy(p, rs)));
      if (oldPods.length === 0) this.setReplicas(newRS, desired, d);
      return;
    }
    const maxSurge = scaled(strategy.rollingUpdate?.maxSurge ?? '25%', desired, true);
    let maxUnavailable = scaled(strategy.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const total = [newRS, ...old].reduce((s, rs) => s + (rs.spec.replicas ?? 0), 0);
    const current = newRS.spec.replicas ?? 0;
    if (current > desired) this.setReplicas(newRS, desired, d);
    else if (current < desired) {
      const up = Math.min(desired + maxSurge - total, desired - current);
      if (up > 0) this.setReplicas(newRS, current + up, d);
    }
    const running = old.filter((rs) => (rs.spec.replicas ?? 0) > 0).sort((a, b) => revisionOf(a) - revisionOf(b));
    if (running.length === 0) return;
    const minAvailable = desired - maxUnavailable;
    const replicasOf = (list: Obj[]) => list.reduce((s, rs) => s + (rs.spec.replicas ?? 0), 0);
    // Unhealthy old replicas go first (cleanupUnhealthyReplicas), as far as availability allows.
    const newUnavailable = Math.max(0, (newRS.spec.replicas ?? 0) - this.availableOf(newRS));
    let cleanup = replicasOf([newRS, ...old]) - minAvailable - newUnavailable;
    for (const rs of running) {
      if (cleanup <= 0) break;
      const unhealthy = Math.min(cleanup, (rs.spec.replicas ?? 0) - this.availableOf(rs));
      if (unhealthy > 0) {
        this.setReplicas(rs, (rs.spec.replicas ?? 0) - unhealthy, d);
        cleanup -= unhealthy;
      }
    }
    // Then as many available old replicas as keep minAvailable (scaleDownOldReplicaSetsForRollingUpdate).
    let scaleDown = this.availableOf(newRS) + running.reduce((s, rs) => s + this.availableOf(rs), 0) - minAvailable;
    for (const rs of running) {
      if (scaleDown <= 0) break;
      const n = Math.min(scaleDown, rs.spec.replicas ?? 0);
      if (n > 0) this.setReplicas(rs, (rs.spec.replicas ?? 0) - n, d);
      scaleDown -= n;
    }
  }

  /** Old ReplicaSets beyond spec.revisionHistoryLimit are deleted, oldest first. */
  private pruneHistory(d: Obj, newRS: Obj | undefined): void {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = this.store
      .list(T.replicasets, { namespace: d.metadata.namespace })
      .filter((rs) => ownedBy(rs, d) && rs.metadata.name !== newRS?.metadata.name && (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) this.store.delete(T.replicasets, rs.metadata.namespace, rs.metadata.name);
  }

  private writeDeploymentStatus(d: Obj, newRS: Obj | undefined): void {
    const fresh = this.store.get(T.deployments, d.metadata.namespace, d.metadata.name);
    const all = this.store.scan(T.replicasets, { namespace: d.metadata.namespace }).filter((rs) => ownedBy(rs, fresh));
    const desired = fresh.spec.replicas ?? 1;
    const sum = (f: (rs: Obj) => number) => all.reduce((s, rs) => s + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const updated = newRS ? all.find((rs) => rs.metadata.name === newRS.metadata.name)?.status?.replicas ?? 0 : 0;
    const ready = sum((rs) => rs.status?.readyReplicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const maxUnavailable = scaled(fresh.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false);
    const at = iso(this.ms());
    const prev = fresh.status?.conditions;
    const complete = updated === desired && replicas === desired && available >= desired;
    const rsName = newRS?.metadata.name ?? '';
    const oldProgressing = (prev ?? []).find((c: { type: string }) => c.type === 'Progressing');
    const counts = [replicas, updated, ready, available];
    const progressed = canonical(counts) !== canonical([fresh.status?.replicas ?? 0, fresh.status?.updatedReplicas ?? 0, fresh.status?.readyReplicas ?? 0, fresh.status?.availableReplicas ?? 0]);
    const sameRs = oldProgressing?.message?.includes(`"${rsName}"`);
    let progressing;
    if (fresh.spec.paused) progressing = condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', prev, at, true);
    else if (complete) progressing = oldProgressing?.reason === 'NewReplicaSetAvailable' && sameRs ? oldProgressing : condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`, prev, at, true);
    else if (oldProgressing?.reason === 'ProgressDeadlineExceeded' && sameRs && !progressed) progressing = oldProgressing;
    else if (progressed || !sameRs || oldProgressing?.reason !== 'ReplicaSetUpdated') progressing = condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, prev, at, true);
    else if (this.ms() - Date.parse(oldProgressing.lastUpdateTime) > (fresh.spec.progressDeadlineSeconds ?? 600) * 1000) progressing = condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, prev, at, true);
    else progressing = oldProgressing;
    const availableOk = available >= desired - maxUnavailable;
    const oldAvailable = (prev ?? []).find((c: { type: string }) => c.type === 'Available');
    const availableCond = oldAvailable && oldAvailable.status === (availableOk ? 'True' : 'False') ? oldAvailable : condition('Available', availableOk ? 'True' : 'False', availableOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', availableOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.', prev, at, true);
    const status: Record<string, unknown> = {
      observedGeneration: fresh.metadata.generation,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
      conditions: [availableCond, progressing],
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) if (status[k] === 0) delete status[k];
    const annotations = { ...fresh.metadata.annotations };
    if (newRS && !fresh.spec.paused) annotations[REVISION] = String(revisionOf(all.find((rs) => rs.metadata.name === newRS.metadata.name) ?? newRS));
    if (canonical(status) === canonical(fresh.status) && canonical(annotations) === canonical(fresh.metadata.annotations)) return;
    this.store.update(T.deployments, { ...fresh, metadata: { ...fresh.metadata, annotations }, status });
  }

  private syncHpas(): void {
    const now = this.ms();
    for (const h of this.store.scan(T.hpas)) {
      const ref = h.spec.scaleTargetRef;
      const d = ref?.kind === 'Deployment' ? this.store.find(T.deployments, h.metadata.namespace, ref.name) : undefined;
      const at = iso(now);
      const prev = h.status?.conditions;
      if (!d) {
        const status = { currentReplicas: 0, desiredReplicas: 0, conditions: [condition('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: deployments.apps "${ref?.name}" not found`, prev, at)] };
        if (canonical(status) !== canonical(h.status)) this.store.update(T.hpas, { ...h, status });
        continue;
      }
      const min = h.spec.minReplicas ?? 1;
      const max = h.spec.maxReplicas;
      const current = d.spec.replicas ?? 1;
      const load = this.load.get(`${d.metadata.namespace}/${d.metadata.name}`);
      const requestCores = parseQuantity(d.spec.template.spec.containers[0]?.resources?.requests?.cpu ?? '1');
      const readyPods = Math.max(1, d.status?.readyReplicas ?? current);
      const utilization = load ? Math.round((100 * load.demandCores) / (readyPods * requestCores)) : 0;
      const target = h.spec.metrics?.[0]?.resource?.target?.averageUtilization ?? 80;
      const ratio = utilization / target;
      let recommended = Math.abs(ratio - 1) <= 0.1 ? current : Math.ceil(readyPods * ratio);
      const history = (this.hpaHistory.get(h.metadata.uid as string) ?? []).filter((r) => now - r.at <= this.timing.hpaDownscaleSeconds * 1000);
      history.push({ at: now, replicas: recommended });
      this.hpaHistory.set(h.metadata.uid as string, history);
      // Scale-down stabilisation: the highest recommendation of the window.
      if (recommended < current) recommended = Math.min(current, Math.max(...history.map((r) => r.replicas)));
      const desired = Math.min(max, Math.max(min, recommended));
      let limited = condition('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range', prev, at);
      if (recommended > max) limited = condition('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count', prev, at);
      else if (recommended < min) limited = condition('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count', prev, at);
      let able = condition('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size', prev, at);
      let lastScaleTime = h.status?.lastScaleTime;
      if (desired !== current) {
        const fresh = this.store.get(T.deployments, d.metadata.namespace, d.metadata.name);
        fresh.spec.replicas = desired;
        this.store.update(T.deployments, fresh);
        lastScaleTime = at;
        able = condition('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`, prev, at);
        this.event(h, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${desired > current ? 'cpu resource utilization (percentage of request) above target' : 'All metrics below target'}`, 'horizontal-pod-autoscaler');
      }
      const status = {
        ...(lastScaleTime ? { lastScaleTime } : {}),
        currentReplicas: d.status?.replicas ?? current,
        desiredReplicas: desired,
        currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: utilization, averageValue: formatCpu((load?.demandCores ?? 0) / readyPods) } } }],
        conditions: [able, condition('ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)', prev, at), limited],
      };
      if (canonical(status) !== canonical(h.status)) this.store.update(T.hpas, { ...this.store.get(T.hpas, h.metadata.namespace, h.metadata.name), status });
    }
  }

  // -------------------------------------------------------------------------------------------
  // What exec and the metrics API read
  // -------------------------------------------------------------------------------------------

  private workloadOf(pod: Obj): { key: string; load?: WorkloadLoad } {
    const sim = this.pods.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    const key = sim?.workload ?? '';
    return { key, load: this.load.get(key) };
  }

  /** CPU (cores) and memory (bytes) a pod's container uses now. */
  public usage(pod: Obj, container: string): { cpu: number; memory: number } {
    const { load } = this.workloadOf(pod);
    const c = pod.spec.containers.find((x: { name: string }) => x.name === container) ?? pod.spec.containers[0];
    const limit = parseQuantity(c?.resources?.limits?.memory ?? c?.resources?.requests?.memory ?? '1Gi');
    const cpuLimit = c?.resources?.limits?.cpu ? parseQuantity(c.resources.limits.cpu) : Infinity;
    const dep = this.store.scan(T.pods, { namespace: pod.metadata.namespace }).filter((p) => this.workloadOf(p).key === this.workloadOf(pod).key && podReady(p)).length;
    const cpu = podReady(pod) && load ? Math.min(cpuLimit, load.demandCores / Math.max(1, dep)) : 0.01;
    // Pods differ a little, stably (the pod name seeds it), as real working sets do.
    const jitter = 0.97 + (fnv32a(pod.metadata.name) % 60) / 1000;
    return { cpu, memory: Math.min(limit, Math.round(limit * (load?.memoryRatio ?? 0.4) * jitter)) };
  }

  /** Runs a command in a pod's container as the kubelet would, or says why it cannot. */
  public exec(namespace: string, podName: string, container: string | undefined, argv: readonly string[]): ExecOutcome {
    const pod = this.store.get(T.pods, namespace, podName);
    const name = container ?? pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? pod.spec.containers[0]?.name;
    const spec = pod.spec.containers.find((c: { name: string }) => c.name === name);
    if (!spec) throw badRequest(`container ${name} is not valid for pod ${podName}`);
    const status = pod.status?.containerStatuses?.find((s: { name: string }) => s.name === name);
    if (!status?.state?.running) throw badRequest(`container not found ("${name}")`);
    const sim = this.pods.get(`${namespace}/${podName}`);
    const { load } = this.workloadOf(pod);
    let files = sim?.files.get(name);
    if (!files) {
      files = new Map();
      sim?.files.set(name, files);
    }
    const u = this.usage(pod, name);
    const state: ContainerState = {
      runtime: load?.runtime ?? 'jvm',
      files,
      memoryLimitBytes: parseQuantity(spec.resources?.limits?.memory ?? '1Gi'),
      memoryBytes: u.memory,
      cpuLimitCores: spec.resources?.limits?.cpu ? parseQuantity(spec.resources.limits.cpu) : undefined,
      cpuCores: u.cpu,
      startedAt: new Date(status.state.running.startedAt),
      gcPauseMs: load?.gcPauseMs ?? 0,
      threads: load?.threads ?? 0,
      blockedThreads: load?.blockedThreads ?? 0,
    };
    return runInContainer(state, argv, this.now());
  }

  // -------------------------------------------------------------------------------------------
  // Drills: what happens to the exchange
  // -------------------------------------------------------------------------------------------

  private deployment(namespace: string, name: string): Obj {
    return this.store.get(T.deployments, namespace, name);
  }

  /** CI/CD rolls out a new image tag (a new revision). */
  public deploy(namespace: string, name: string, tag: string): void {
    const d = this.deployment(namespace, name);
    d.spec.template.spec.containers = d.spec.template.spec.containers.map((c: { image: string }) => ({ ...c, image: `${c.image.split(':')[0]}:${tag}` }));
    this.store.update(T.deployments, d);
  }

  /** Sets how hard a workload works: total CPU demand, memory use, GC pause, threads. */
  public setLoad(namespace: string, name: string, load: Partial<Omit<WorkloadLoad, 'runtime'>>): void {
    const key = `${namespace}/${name}`;
    const current = this.load.get(key);
    if (!current) throw notFound('deployments', 'apps', name);
    this.load.set(key, { ...current, ...load });
  }

  public loadOf(namespace: string, name: string): Readonly<WorkloadLoad> | undefined {
    return this.load.get(`${namespace}/${name}`);
  }

  /**
   * The kernel OOM-kills the main container of `count` ready pods: restartCount + 1,
   * lastState.terminated OOMKilled (exit 137), a fresh /tmp, Ready again after the readiness delay
   * (after `backOffSeconds` in CrashLoopBackOff first, when given).
   * @param which only pods it accepts (the drill world: pods whose memory limit is below their working set)
   * @param options.backOffSeconds the kubelet's restart back-off before the container runs again
   *   (real: 10 s, doubling up to 5 min for a container that keeps dying). @default 0
   * @returns the names of the pods hit
   */
  public oomKill(namespace: string, name: string, count = 1, which: (pod: Obj) => boolean = () => true, options: { backOffSeconds?: number } = {}): string[] {
    const d = this.deployment(namespace, name);
    const selector = labelSelectorText(d.spec.selector);
    const pods = this.store.list(T.pods, { namespace, labelSelector: selector }).filter((p) => podReady(p) && which(p)).slice(0, count);
    const now = this.ms();
    const backOff = (options.backOffSeconds ?? 0) * 1000;
    for (const pod of pods) {
      const sim = this.pods.get(`${namespace}/${pod.metadata.name}`);
      const c = pod.spec.containers[0];
      if (sim) {
        sim.files.delete(c.name);
        sim.startAt = now + backOff;
        sim.readyAt = now + backOff + this.timing.podReadySeconds * 1000;
      }
      // In back-off the container waits (not running, so no exec); then it runs again, not yet Ready.
      const state = backOff > 0 ? { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(backOff / 1000)}s restarting failed container=${c.name} pod=${pod.metadata.name}` } } : { running: { startedAt: iso(now) } };
      pod.status.containerStatuses = pod.status.containerStatuses.map((s: { name: string; restartCount: number; state: { running?: { startedAt: string } } }) =>
        s.name === c.name ? { ...s, ready: false, ...(backOff > 0 ? { started: false } : {}), restartCount: s.restartCount + 1, state, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: s.state.running?.startedAt ?? iso(now), finishedAt: iso(now), containerID: (s as { containerID?: string }).containerID } } } : s,
      );
      pod.status.conditions = pod.status.conditions.map((x: { type: string }) => (x.type === 'Ready' || x.type === 'ContainersReady' ? { ...x, status: 'False', lastTransitionTime: iso(now), reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]` } : x));
      this.store.update(T.pods, pod);
      if (backOff > 0) {
        this.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', 'kubelet', `spec.containers{${c.name}}`);
        continue;
      }
      this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet', `spec.containers{${c.name}}`);
      this.event(pod, 'Normal', 'Created', `Created container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
      this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet', `spec.containers{${c.name}}`);
    }
    return pods.map((p) => p.metadata.name);
  }

  /** Waits until `check` holds (the controllers keep running), or fails after `timeoutMs`. */
  public async until(check: () => boolean, timeoutMs = 10000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > end) throw new SandboxTimeoutError(timeoutMs);
      await new Promise((r) => setTimeout(r, this.timing.tickMs));
    }
  }

  /** True when the deployment's rollout is complete (as `kubectl rollout status` decides). */
  public rolledOut(namespace: string, name: string): boolean {
    const d = this.deployment(namespace, name);
    const s = d.status ?? {};
    const want = d.spec.replicas ?? 1;
    return (d.metadata.generation ?? 0) <= (s.observedGeneration ?? 0) && (s.updatedReplicas ?? 0) >= want && (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
  }

  /** Memory request/limit formatting for drills that set a limit. */
  public static memory(bytes: number): string {
    return formatMemory(bytes);
  }
}
