/**
 * The Kubernetes API sandbox: a simulated EKS cluster running the seed's exchange, served over
 * HTTP on 127.0.0.1 with real API semantics, kept honest by running the real kubectl against it.
 * For drills and tests only: nothing outside lib/local, lib/sandbox, bench/ and test/ imports it.
 */
export { startKubeSandbox, SANDBOX_HEADER, SANDBOX_VERSION, type KubeSandbox, type KubeSandboxOptions, type SandboxRequest, type SandboxWrite } from './server';
export { KubeCluster, REVISION, HASH_LABEL, TYPES, type ClusterTiming, type ClusterOptions } from './cluster';
export { exchangeScene, EXCHANGE_PROFILES, type Scene, type SceneWorkload, type WorkloadProfile } from './scene';
export { SandboxApiError } from './errors';
export { selfSignedCertificate } from './certs';
