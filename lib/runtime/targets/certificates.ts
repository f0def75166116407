/**
 * The `certificates` target: TLS endpoints (TLS_DOMAINS), ACM (CHECK_ACM=on), IAM access keys
 * (CHECK_IAM_KEYS=on) and the cluster's TLS secrets when a cluster is configured (the `kube`
 * target's own factory, so check_certificates carries the Kubernetes client). The ACM and IAM SDK
 * packages load at their first call.
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { IAMClient } from '@aws-sdk/client-iam';
import { CertificateSources, type TlsSecretReader } from '../../actions/certificates/sources';
import { kubeTarget } from './kube';
import { lazyClient } from '../lazy-sdk';
import type { TargetFactory } from './types';

export const certificatesTarget: TargetFactory = async (wiring) => {
  const { env } = wiring;
  const kube = (wiring.wired.kube ?? (await kubeTarget(wiring))) as TlsSecretReader | undefined;
  if (!env.TLS_DOMAINS && env.CHECK_ACM !== 'on' && env.CHECK_IAM_KEYS !== 'on' && !kube) return undefined;
  return new CertificateSources({
    acm: env.CHECK_ACM === 'on' ? lazyClient<ACMClient>(async () => new (await import('@aws-sdk/client-acm')).ACMClient({})) : undefined,
    iam: env.CHECK_IAM_KEYS === 'on' ? lazyClient<IAMClient>(async () => new (await import('@aws-sdk/client-iam')).IAMClient({})) : undefined,
    domains: env.TLS_DOMAINS?.split(',').map((d) => d.trim()).filter(Boolean),
    ...(kube ? { kube } : {}),
  });
};
