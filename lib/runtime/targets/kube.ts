/**
 * The `kube` target: the EKS cluster named by EKS_CLUSTER_NAME (DescribeCluster + an IAM token),
 * or a kubeconfig file (KUBECONFIG) for a cluster outside EKS. Wired only by the entries of the
 * actions that declare `kube` (and by check_certificates' sources), so the Kubernetes client is
 * bundled with those functions and no other. The EKS SDK package loads at the first cluster call.
 */
import type { KubeOps } from '../../actions/ports';
import { createKubeOps, eksKubeConfig, kubeConfigFromFile } from '../../kube';
import { once } from '../lazy-sdk';
import type { TargetFactory } from './types';

/** The cluster of this function's environment, or undefined when none is configured (steps then fail "target not configured"). */
export function kubeTargetFromEnv(env: NodeJS.ProcessEnv = process.env): KubeOps | undefined {
  if (env.EKS_CLUSTER_NAME) return createKubeOps({ config: eksKubeConfig({ clusterName: env.EKS_CLUSTER_NAME, eks: once(async () => new (await import('@aws-sdk/client-eks')).EKSClient({})) }) });
  if (env.KUBECONFIG) return createKubeOps({ config: kubeConfigFromFile(env.KUBECONFIG) });
  return undefined;
}

export const kubeTarget: TargetFactory = async ({ env }) => kubeTargetFromEnv(env);
