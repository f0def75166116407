/**
 * The operations actions need from systems that have no local server here (Kubernetes, AWS
 * services, notification channels, ticketing). Real adapters and the drill sandbox implement
 * them; `ctx.targets.<name>` carries the one configured.
 */

export interface HpaState {
  readonly name: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

export interface DeploymentState {
  readonly name: string;
  readonly replicas: number;
  readonly paused: boolean;
  readonly revision: number;
  readonly image?: string;
  /** Memory limit of the first container in bytes, when set. */
  readonly memoryLimitBytes?: number;
}

/** Kubernetes (EKS): `ctx.targets.kube`. */
export interface KubeOps {
  readHpa(deployment: string): Promise<HpaState>;
  patchHpaMax(deployment: string, maxReplicas: number): Promise<HpaState>;
  readDeployment(deployment: string): Promise<DeploymentState>;
  scaleDeployment(deployment: string, replicas: number): Promise<DeploymentState>;
  /** `kubectl rollout restart`: stamps the restartedAt annotation. */
  restartDeployment(deployment: string, options: { maxUnavailable: number }): Promise<DeploymentState>;
  /** `kubectl rollout undo`: back to `toRevision`, or the previous one. */
  undoDeployment(deployment: string, toRevision?: number): Promise<{ from: number; to: number }>;
  setMemoryLimit(deployment: string, container: number, bytes: number): Promise<DeploymentState>;
  exec(deployment: string, command: readonly string[]): Promise<{ stdout: string; stderr: string; pod: string }>;
  /** Deploys of a service within the window, newest first. */
  recentDeploys(deployment: string, sinceSeconds: number): Promise<{ revision: number; at: string; image?: string }[]>;
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
  request(method: string, url: string, body?: unknown): Promise<{ status: number; body: string }>;
}

/** Notification channels: `ctx.targets.notify`. */
export interface NotifyOps {
  send(channel: string, message: { severity: string; title: string; text: string; incidentId: string }): Promise<{ ok: boolean; detail?: string }>;
}

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

/** ElastiCache replication groups: `ctx.targets.elasticache`. */
export interface ElastiCacheOps {
  describe(group?: string): Promise<{ id: string; nodeType: string; status: string }>;
  modifyNodeType(group: string, nodeType: string): Promise<void>;
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
  list(sources: readonly string[]): Promise<FoundCertificate[]>;
  /** Active IAM access keys, when IAM is configured. */
  accessKeys?(): Promise<AccessKeyAge[]>;
}

/** Diagnostics collector (thread dump, runtime metrics): `ctx.targets.diagnostics`. */
export interface DiagnosticsOps {
  collect(service: string): Promise<{ threadDumpPath?: string; gcPauseSeconds?: number; cpu?: number; memory?: number; threads?: number }>;
}
