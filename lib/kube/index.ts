/**
 * The Kubernetes adapter: KubeOps (lib/actions/ports.ts) over @kubernetes/client-node, for a
 * kubeconfig (any cluster, or the sandbox) or an EKS cluster reached with an IAM token. Only the
 * Kubernetes actions' entries load it (lazily), so the client stays out of every other bundle.
 */
export { ClientNodeKubeOps, createKubeOps, deploymentState, hpaState, kubeConfigFromFile, kubeConfigFromString, type KubeOpsOptions } from './client';
export { eksKubeConfig, eksToken, TOKEN_LIFETIME_SECONDS, TOKEN_REFRESH_MARGIN_SECONDS, type EksKubeConfigOptions, type EksToken } from './eks';
export { deploysOf, headroomOf, podHealthOf } from './diagnostics';
export { equalIgnoreHash, pickUndoReplicaSet, rolloutStatus, undoAnnotations, undoPatch, REVISION, RESTARTED_AT } from './rollout';
