/**
 * The sandbox's default scene: the seed's exchange (§1.2) as it would run on EKS, built from the
 * service map (playbooks/services.yaml) so namespaces, deployment and container names are the
 * ones the agent is configured with. Replica counts, HPAs, requests/limits and JVM settings are
 * those of a mid-size exchange on m6i.4xlarge nodes; a service without a profile below gets a
 * small JVM deployment.
 */
import type { ServiceMap } from '../../policy/services';

/** What runs in a workload's containers, which decides what exec finds there. */
export type Runtime = 'jvm' | 'go';

export interface WorkloadProfile {
  readonly replicas: number;
  readonly runtime: Runtime;
  /** Image repository; tags come from `history`. */
  readonly image: string;
  /** Image tags deployed over time, oldest first: each is a revision (the last one runs). */
  readonly history: readonly string[];
  /** How long ago each revision of `history` was rolled out, in hours (same length as history). */
  readonly deployedHoursAgo: readonly number[];
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu?: string; readonly memory: string };
  readonly hpa?: { readonly min: number; readonly max: number; readonly targetCpuUtilization: number };
  /** CPU the service uses in total, in cores (spread over its ready pods). */
  readonly demandCores: number;
  /** Working set of each pod as a share of its memory limit. */
  readonly memoryRatio: number;
  /** JVM: longest recent GC pause and live threads, as jcmd reports them. */
  readonly gcPauseMs?: number;
  readonly threads?: number;
  readonly port: number;
  readonly strategy?: { readonly maxSurge: string | number; readonly maxUnavailable: string | number };
}

const REGISTRY = '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/exchange';

/** Profiles of the seed's services. */
export const EXCHANGE_PROFILES: Readonly<Record<string, WorkloadProfile>> = {
  'trading-api': {
    replicas: 6,
    runtime: 'jvm',
    image: `${REGISTRY}/trading-api`,
    history: ['v2.2.4', 'v2.3.0', 'v2.3.1'],
    deployedHoursAgo: [24 * 9, 24 * 3, 26],
    requests: { cpu: '500m', memory: '1Gi' },
    limits: { cpu: '2', memory: '2Gi' },
    hpa: { min: 6, max: 20, targetCpuUtilization: 70 },
    demandCores: 1.6,
    memoryRatio: 0.62,
    gcPauseMs: 18,
    threads: 240,
    port: 8080,
  },
  'market-data-ws': {
    replicas: 8,
    runtime: 'go',
    image: `${REGISTRY}/market-data-ws`,
    history: ['v1.8.2', 'v1.9.0'],
    deployedHoursAgo: [24 * 12, 24 * 5],
    requests: { cpu: '1', memory: '1Gi' },
    limits: { cpu: '2', memory: '2Gi' },
    hpa: { min: 8, max: 32, targetCpuUtilization: 65 },
    demandCores: 3.6,
    memoryRatio: 0.4,
    port: 8443,
  },
  'matching-engine': {
    replicas: 3,
    runtime: 'jvm',
    image: `${REGISTRY}/matching-engine`,
    history: ['v5.11.3', 'v5.12.0'],
    deployedHoursAgo: [24 * 20, 24 * 6],
    requests: { cpu: '4', memory: '8Gi' },
    limits: { cpu: '4', memory: '8Gi' },
    demandCores: 6.3,
    memoryRatio: 0.71,
    gcPauseMs: 6,
    threads: 96,
    port: 8080,
    // One at a time: an order book replica is never taken out before its successor is ready.
    strategy: { maxSurge: 1, maxUnavailable: 0 },
  },
  'order-service': {
    replicas: 4,
    runtime: 'jvm',
    image: `${REGISTRY}/order-service`,
    history: ['v3.4.0', 'v3.4.1'],
    deployedHoursAgo: [24 * 15, 24 * 2],
    requests: { cpu: '1', memory: '2Gi' },
    limits: { cpu: '2', memory: '3Gi' },
    hpa: { min: 4, max: 12, targetCpuUtilization: 70 },
    demandCores: 1.8,
    memoryRatio: 0.55,
    gcPauseMs: 12,
    threads: 180,
    port: 8080,
  },
  'order-consumer': {
    replicas: 4,
    runtime: 'jvm',
    image: `${REGISTRY}/order-consumer`,
    history: ['v1.6.0', 'v1.6.2'],
    deployedHoursAgo: [24 * 30, 24 * 4],
    requests: { cpu: '500m', memory: '1Gi' },
    limits: { cpu: '1', memory: '1536Mi' },
    demandCores: 1.2,
    memoryRatio: 0.6,
    gcPauseMs: 9,
    threads: 64,
    port: 8080,
  },
  'wallet-service': {
    replicas: 3,
    runtime: 'jvm',
    image: `${REGISTRY}/wallet-service`,
    history: ['v4.0.7'],
    deployedHoursAgo: [24 * 21],
    requests: { cpu: '500m', memory: '1Gi' },
    limits: { cpu: '1', memory: '2Gi' },
    demandCores: 0.6,
    memoryRatio: 0.5,
    gcPauseMs: 10,
    threads: 120,
    port: 8080,
    strategy: { maxSurge: 1, maxUnavailable: 0 },
  },
  'settlement-service': {
    replicas: 2,
    runtime: 'jvm',
    image: `${REGISTRY}/settlement-service`,
    history: ['v2.1.0', 'v2.1.1'],
    deployedHoursAgo: [24 * 40, 24 * 10],
    requests: { cpu: '500m', memory: '1Gi' },
    limits: { cpu: '1', memory: '2Gi' },
    demandCores: 0.4,
    memoryRatio: 0.45,
    gcPauseMs: 15,
    threads: 90,
    port: 8080,
    strategy: { maxSurge: 1, maxUnavailable: 0 },
  },
};

const DEFAULT_PROFILE: WorkloadProfile = {
  replicas: 2,
  runtime: 'jvm',
  image: `${REGISTRY}/service`,
  history: ['v1.0.0'],
  deployedHoursAgo: [24 * 7],
  requests: { cpu: '250m', memory: '512Mi' },
  limits: { cpu: '1', memory: '1Gi' },
  demandCores: 0.2,
  memoryRatio: 0.4,
  gcPauseMs: 8,
  threads: 60,
  port: 8080,
};

export interface SceneWorkload {
  readonly service: string;
  readonly namespace: string;
  readonly deployment: string;
  readonly containers: readonly string[];
  readonly profile: WorkloadProfile;
}

export interface SceneNode {
  readonly name: string;
  readonly zone: string;
  readonly instanceType: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
}

/** A TLS secret of the scene, with how many days its certificate has left. */
export interface SceneCertificate {
  readonly namespace: string;
  readonly name: string;
  readonly dnsNames: readonly string[];
  readonly daysLeft: number;
}

export interface Scene {
  readonly workloads: readonly SceneWorkload[];
  readonly nodes: readonly SceneNode[];
  readonly certificates: readonly SceneCertificate[];
}

/**
 * Six m6i.4xlarge nodes in three zones: allocatable as EKS reports it for that instance type
 * (16 vCPU → 15890m after system reservations; 64 GiB → about 57 GiB; 234 pods with prefix delegation).
 */
function exchangeNodes(): SceneNode[] {
  const zones = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
  return Array.from({ length: 6 }, (_, i) => ({
    name: `ip-10-42-${16 * (i % 3) + 10}-${100 + i}.ap-northeast-1.compute.internal`,
    zone: zones[i % 3] as string,
    instanceType: 'm6i.4xlarge',
    cpu: '15890m',
    memory: '59763336Ki',
    pods: 234,
  }));
}

/** The seed's exchange for the services of `map` that run on Kubernetes. */
export function exchangeScene(map: ServiceMap): Scene {
  const workloads = Object.values(map.services)
    .filter((s) => s.kubernetes)
    .map((s) => {
      const profile = EXCHANGE_PROFILES[s.name] ?? { ...DEFAULT_PROFILE, image: `${REGISTRY}/${s.deployment}` };
      return { service: s.name, namespace: s.namespace, deployment: s.deployment, containers: s.containers.length ? s.containers : [s.deployment], profile };
    });
  const ns = (service: string, fallback: string) => map.services[service]?.namespace ?? fallback;
  return {
    workloads,
    nodes: exchangeNodes(),
    certificates: [
      { namespace: ns('trading-api', 'trading'), name: 'api-exchange-tls', dnsNames: ['api.exchange.example', 'trade.exchange.example'], daysLeft: 21 },
      { namespace: ns('market-data-ws', 'market-data'), name: 'ws-exchange-tls', dnsNames: ['ws.exchange.example'], daysLeft: 74 },
      { namespace: ns('wallet-service', 'wallet'), name: 'wallet-mtls', dnsNames: ['wallet-service.wallet.svc'], daysLeft: 5 },
    ],
  };
}
