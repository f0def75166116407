/**
 * The operations actions need from systems reached through an adapter (Kubernetes, AWS services,
 * notification channels, ticketing). Real adapters implement them (lib/kube for Kubernetes, which
 * the drill sandbox serves as a cluster would); `ctx.targets.<name>` carries the one configured.
 */

/** A namespaced Kubernetes object. Every Kubernetes error names its target as `namespace/name`. */
export interface KubeRef {
  readonly namespace: string;
  readonly name: string;
}

/** One container of a pod template, with its resources in base units (cores, bytes). */
export interface ContainerSpecState {
  readonly name: string;
  readonly image: string;
  readonly cpuRequest?: number;
  readonly cpuLimit?: number;
  readonly memoryRequestBytes?: number;
  readonly memoryLimitBytes?: number;
}

export interface DeploymentState {
  readonly namespace: string;
  readonly name: string;
  /** spec.replicas: what the deployment asks for. */
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  readonly availableReplicas: number;
  readonly paused: boolean;
  /** deployment.kubernetes.io/revision. */
  readonly revision: number;
  readonly generation: number;
  readonly observedGeneration: number;
  readonly resourceVersion: string;
  readonly containers: readonly ContainerSpecState[];
  /** Image of the first container. */
  readonly image?: string;
  /** Memory limit of the first container in bytes, when set. */
  readonly memoryLimitBytes?: number;
  /** spec.template's kubectl.kubernetes.io/restartedAt, when a restart stamped it. */
  readonly restartedAt?: string;
  readonly strategy: { readonly type: string; readonly maxSurge?: string | number; readonly maxUnavailable?: string | number };
}

export interface HpaState {
  readonly namespace: string;
  /** The HorizontalPodAutoscaler's own name. */
  readonly name: string;
  /** The deployment it scales. */
  readonly deployment: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  /** True when the autoscaler wants more than maxReplicas (ScalingLimited / TooManyReplicas) or sits at it. */
  readonly atCeiling: boolean;
  /** Current and target CPU utilisation (percent of requests), when the HPA scales on CPU. */
  readonly cpuUtilization?: number;
  readonly targetCpuUtilization?: number;
  readonly resourceVersion: string;
}

/** What a mutating Kubernetes call returns: the state before, the server's dry-run answer, the state after. */
export interface KubeChange<T> {
  readonly before: T;
  /** The object as the server's dryRun=All answered for the same request (validated, not persisted). */
  readonly dryRun: T;
  readonly after: T;
  /** 409 Conflicts met and retried (another writer changed the object between read and write). */
  readonly conflictsRetried: number;
  /** The (re-)read object already was as asked, so nothing was written (`before` = `after`). */
  readonly unchanged?: boolean;
}

/** How a restart's rollout went. */
export interface RolloutProgress {
  readonly complete: boolean;
  readonly updatedReplicas: number;
  readonly readyReplicas: number;
  readonly desiredReplicas: number;
  /** New pods in the order they became Ready. */
  readonly podsReady: readonly string[];
  readonly seconds: number;
}

/** The revision a rollback returns to, fixed at the first attempt (a retry must not undo the undo). */
export interface UndoPlan {
  readonly fromRevision: number;
  readonly toRevision: number;
  /** The ReplicaSet whose pod template the deployment gets back. */
  readonly replicaSet: string;
  readonly image?: string;
}

export interface ExecResult {
  readonly pod: string;
  readonly container: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** One rollout of a deployment (a ReplicaSet revision) within a window. */
export interface DeployRecord {
  readonly namespace: string;
  readonly deployment: string;
  readonly revision: number;
  readonly replicaSet: string;
  /** When the rollout started (the ReplicaSet's creation, or its scale-up when a rollback reused it). */
  readonly at: string;
  /** What changed against the revision before: a new image, another template change, a restart, a rollback. */
  readonly change: 'image' | 'config' | 'restart' | 'rollback' | 'initial';
  readonly images: readonly string[];
  readonly previousImages: readonly string[];
}

export interface PodHealth {
  readonly namespace: string;
  readonly deployment: string;
  readonly pods: readonly {
    readonly name: string;
    readonly ready: boolean;
    readonly phase: string;
    readonly restarts: number;
    readonly lastTermination?: { readonly reason: string; readonly exitCode: number; readonly finishedAt: string };
  }[];
  /**
   * Container restarts within the window: exact for pods created in it, at least one for an older
   * pod whose last termination falls in it (the API keeps only the last termination).
   */
  readonly restartsInWindow: number;
  /** True when `restartsInWindow` is a lower bound (see above). */
  readonly restartsLowerBound: boolean;
  /** Pods whose last termination in the window was OOMKilled. */
  readonly oomKilledInWindow: number;
  readonly readyPods: number;
  readonly desiredReplicas: number;
}

export interface NodeHeadroom {
  readonly nodes: readonly { readonly name: string; readonly ready: boolean; readonly cpuFree: number; readonly memoryFreeBytes: number; readonly podsFree: number }[];
  /** Totals over schedulable, ready nodes: allocatable minus the requests of the pods on them. */
  readonly cpuAllocatable: number;
  readonly cpuRequested: number;
  readonly memoryAllocatableBytes: number;
  readonly memoryRequestedBytes: number;
  /** How many more pods of the given deployment fit on the nodes (by requests), when one was named. */
  readonly podsThatFit?: number;
}

export interface PodUsage {
  readonly pod: string;
  readonly container: string;
  readonly cpuCores: number;
  readonly memoryBytes: number;
  readonly cpuLimit?: number;
  readonly memoryLimitBytes?: number;
}


/**
 * Kubernetes (EKS or any cluster from a kubeconfig): `ctx.targets.kube`. Deployments are named by
 * namespace and name (the service map resolves a service to them). Every mutating call first asks
 * the server for a dry run (dryRun=All), then writes with the resourceVersion it read (409s are
 * re-read and retried), and returns the state before and after.
 */
export interface KubeOps {
  readDeployment(ref: KubeRef): Promise<DeploymentState>;
  /** The HorizontalPodAutoscaler that scales the deployment. @throws TargetNotFoundError when none does */
  readHpa(deployment: KubeRef): Promise<HpaState>;
  /**
   * Raises the HPA's maxReplicas to `maxReplicas`, never lowers it: when a read (the first, or the
   * one after a 409) finds it at least that high, nothing is written and the change is `unchanged`.
   * @throws TargetPausedError when the deployment is paused; TargetNotFoundError when no HPA scales it
   */
  patchHpaMax(deployment: KubeRef, maxReplicas: number): Promise<KubeChange<HpaState>>;
  /** Scale subresource. @throws InvalidParameterError when an HPA manages the deployment (it would undo the change) */
  scaleDeployment(ref: KubeRef, replicas: number): Promise<KubeChange<DeploymentState>>;
  /**
   * `kubectl rollout restart`: stamps spec.template's restartedAt annotation with `restartedAt`
   * (the same stamp on a retry starts no second rollout); `one_at_a_time` sets maxSurge 1 /
   * maxUnavailable 0 for the rollout and restores the deployment's strategy after it. Waits for
   * the rollout, each new pod Ready, at most `timeoutSeconds`.
   * @throws TargetPausedError for a paused deployment; RolloutTimeoutError when the rollout does not finish
   */
  restartDeployment(ref: KubeRef, options: { restartedAt: string; strategy: 'one_at_a_time' | 'rolling'; timeoutSeconds: number; originalStrategy?: DeploymentState['strategy'] }): Promise<KubeChange<DeploymentState> & { rollout: RolloutProgress }>;
  /** `kubectl rollout undo`'s choice: the ReplicaSet of `toRevision`, or of the revision before the current one. */
  planUndo(ref: KubeRef, toRevision?: number): Promise<UndoPlan>;
  /** Applies a plan as kubectl does (JSON patch of /spec/template without pod-template-hash); skipped when the template already matches. */
  undoDeployment(ref: KubeRef, plan: UndoPlan): Promise<KubeChange<DeploymentState> & { skipped: boolean }>;
  /**
   * Waits, at most `timeoutSeconds`, until the deployment is rolled out as `kubectl rollout status`
   * judges it, noting the new pods (of the ReplicaSet of its current template) as they turn Ready.
   */
  waitForRollout(ref: KubeRef, timeoutSeconds: number): Promise<RolloutProgress>;
  /**
   * JSON patch of spec.template.spec.containers[index].resources.limits.memory to `quantity` (e.g. `3Gi`).
   * @throws InvalidParameterError when the container at `index` is no longer `expectedName` (the one whose limit was read); nothing is written
   */
  setMemoryLimit(ref: KubeRef, container: number, quantity: string, expectedName: string): Promise<KubeChange<DeploymentState>>;
  /**
   * Runs a command in a ready pod of the deployment: `pod` when given (and still ready), else the
   * pod closest to its memory limit. @throws TargetNotFoundError when no such pod runs
   */
  exec(ref: KubeRef, command: readonly string[], options?: { container?: string; pod?: string; timeoutSeconds?: number }): Promise<ExecResult>;
  /** Rollouts of the deployments within the last `sinceSeconds`, newest first. */
  recentDeploys(refs: readonly KubeRef[], sinceSeconds: number, now?: Date): Promise<DeployRecord[]>;
  /** Pods of a deployment: readiness, restarts, OOMKilled terminations within the window. */
  podHealth(ref: KubeRef, sinceSeconds: number, now?: Date): Promise<PodHealth>;
  /** CPU and memory per pod from the metrics API (metrics-server). */
  podUsage(ref: KubeRef): Promise<PodUsage[]>;
  /** Allocatable minus requested on the nodes; with a deployment, how many more of its pods fit. */
  nodeHeadroom(forDeployment?: KubeRef): Promise<NodeHeadroom>;
  /** The kubernetes.io/tls secrets of every namespace, `data` base64 as the API returns it (check_certificates' TlsSecretReader). */
  listTlsSecrets(): Promise<{ namespace: string; name: string; data: Record<string, string> }[]>;
}

/**
 * Service configuration and feature flags (AWS Systems Manager Parameter Store, or the local
 * store in the data folder): `ctx.targets.config`. `null` deletes a key or flag (an undo of a
 * change that created it).
 */
export interface ConfigOps {
  /** Where the values live, for the timeline and errors (`ssm:/sre-agent`, a file path). */
  readonly name: string;
  get(service: string, key: string): Promise<string | undefined>;
  set(service: string, values: Readonly<Record<string, string | null>>): Promise<void>;
  setFlags(flags: Readonly<Record<string, boolean | null>>, service?: string): Promise<void>;
  getFlags(names: readonly string[], service?: string): Promise<Record<string, boolean | undefined>>;
}

/** HTTP admin endpoints inside the cluster: `ctx.targets.http`. */
export interface HttpOps {
  /** `truncated`: the adapter kept only the start of a longer body. */
  request(method: string, url: string, body?: unknown): Promise<{ status: number; body: string; truncated?: boolean }>;
}

/** Notification channels: `ctx.targets.notify` (defined with the channels, in lib/notify). */
export type { NotifyOps } from '../notify';

/** A ticket to open. */
export interface TicketRequest {
  readonly title: string;
  /** LOW | MEDIUM | HIGH | CRITICAL. */
  readonly priority: string;
  readonly description?: string;
  readonly assignee?: string;
  readonly incidentId: string;
  /** Tickets with the same key are one ticket while it is open (incident + subject, or one certificate). */
  readonly dedupeKey: string;
}

/** Tickets (Jira Cloud, a webhook, or kept with the incident): `ctx.targets.tickets`. */
export interface TicketOps {
  readonly name: string;
  /** Opens the ticket, or returns the open one with the same dedupeKey (`created: false`). */
  create(ticket: TicketRequest): Promise<{ id: string; url?: string; created: boolean }>;
}

/** One parameter of the DB parameter group an instance uses (or of the local server's globals). */
export interface RdsParameterState {
  /** The parameter group (AWS) or server (local) the value lives in. */
  readonly group: string;
  /** The number in force; a formula is resolved from the instance class. Undefined: not numeric or not set. */
  readonly value: number | undefined;
  readonly instance?: string;
  readonly instanceClass?: string;
  /** The value as the group holds it, e.g. `{DBInstanceClassMemory/12582880}`. */
  readonly raw?: string;
  /** `dynamic` parameters apply at once (ApplyMethod immediate); `static` ones only after a reboot. */
  readonly applyType?: 'dynamic' | 'static';
  /** False when RDS does not let this parameter be changed. */
  readonly modifiable?: boolean;
  /** AWS default parameter groups (`default.mysql8.0`) cannot be modified. */
  readonly defaultGroup?: boolean;
}

/** RDS parameter groups (AWS) or the server's globals (local MariaDB): `ctx.targets.rds`. */
export interface RdsOps {
  describeParameter(parameter: string): Promise<RdsParameterState>;
  /** Sets a dynamic parameter with immediate effect. */
  modifyParameter(group: string, parameter: string, value: number): Promise<void>;
}

/** A replication group as its service reports it. */
export interface ReplicationGroupState {
  readonly id: string;
  /** The node type the group runs (AWS keeps reporting the old one until a modification completes). */
  readonly nodeType: string;
  /** `available`, `modifying`, ... */
  readonly status: string;
  /** What AWS still has to apply (ReplicationGroup.PendingModifiedValues), when it lists anything. */
  readonly pending?: Readonly<Record<string, unknown>>;
  /** The local target: each Redis master's `maxmemory` in bytes (0 = no limit). */
  readonly maxmemory?: Readonly<Record<string, number>>;
}

/** ElastiCache replication groups: `ctx.targets.elasticache`. */
export interface ElastiCacheOps {
  describe(group?: string): Promise<ReplicationGroupState>;
  /** Moves the group to `nodeType` (applied immediately) and reads it back: what the service says now. */
  modifyNodeType(group: string, nodeType: string): Promise<ReplicationGroupState>;
}

/** A consumer group's state, as the kafka_admin action reads it. */
export interface KafkaGroupState {
  readonly group: string;
  /** Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  readonly state: string;
  readonly members: number;
  /** Sum over partitions of end offset − committed offset. */
  readonly lag: number;
  /** Lag change per second between the samples (> 0: growing). */
  readonly lagTrend: number;
  /** Partitions with lag whose committed offset did not move (+1 when lag has no member). */
  readonly errors: number;
  readonly unassignedPartitions: number;
  /** The consumer deployment and service (service map consumer_groups). */
  readonly deployment?: string;
  readonly service?: string;
  readonly partitions?: readonly { topic: string; partition: number; committed: number; end: number; lag: number }[];
  readonly memberDetails?: readonly { id: string; client: string; host: string; partitions: readonly string[] }[];
  readonly stuckPartitions?: readonly string[];
  readonly unassigned?: readonly string[];
}

/** Kafka admin (kafkajs, or MSK CloudWatch metrics): `ctx.targets.kafka`. */
export interface KafkaOps {
  describeGroup(group?: string): Promise<KafkaGroupState>;
}

/** One certificate found by a source. */
export interface FoundCertificate {
  /** Domain (ACM), namespace/name (Kubernetes secret), host:port (external domain). */
  readonly name: string;
  readonly source: 'alb_certificates' | 'kubernetes_secrets' | 'external_domains';
  /** ISO time the certificate expires. */
  readonly notAfter: string;
  /** ACM ARN, or the secret's / host's name. */
  readonly id?: string;
  /** Resources using it (ALB listeners for ACM). */
  readonly inUseBy?: readonly string[];
}

/** What {@link CertificateOps.list} found: one unreachable domain does not hide the others. */
export interface CertificateListing {
  readonly certificates: FoundCertificate[];
  readonly unreadable: readonly { readonly name: string; readonly source: FoundCertificate['source']; readonly error: string; readonly transient: boolean }[];
}

/** An IAM user's access key. */
export interface AccessKeyAge {
  readonly user: string;
  readonly accessKeyId: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

/** Certificates and keys (scenario 7): `ctx.targets.certificates`. */
export interface CertificateOps {
  /** Sources this target can read; the others are reported unchecked. */
  readonly sources: readonly FoundCertificate['source'][];
  /** The certificates read, and the ones that could not be read (a failed TLS handshake), each with why. */
  list(sources: readonly string[]): Promise<CertificateListing>;
  /** Active IAM access keys, when IAM is configured. */
  accessKeys?(): Promise<AccessKeyAge[]>;
}

/** Diagnostics collector (thread dump, runtime metrics): `ctx.targets.diagnostics`. */
export interface DiagnosticsOps {
  collect(service: string): Promise<{ threadDumpPath?: string; gcPauseSeconds?: number; cpu?: number; memory?: number; threads?: number }>;
}
