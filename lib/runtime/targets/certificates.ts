/**
 * The `certificates` target: TLS endpoints (TLS_DOMAINS), ACM (CHECK_ACM=on), IAM access keys
 * (CHECK_IAM_KEYS=on) and the cluster's TLS secrets when a cluster is configured (the `kube`
 * target's own factory, so check_certificates carries the Kubernetes client).
 */
import { ACMClient } from '@aws-sdk/client-acm';
import { IAMClient } from '@aws-sdk/client-iam';
import { CertificateSources, type TlsSecretReader } from '../../actions/certificates/sources';
import { kubeTarget } from './kube';
import type { TargetFactory } from './types';

export const certificatesTarget: TargetFactory = async (wiring) => {
  const { env } = wiring;
  const kube = (wiring.wired.kube ?? (await kubeTarget(wiring))) as TlsSecretReader | undefined;
  if (!env.TLS_DOMAINS && env.CHECK_ACM !== 'on' && env.CHECK_IAM_KEYS !== 'on' && !kube) return undefined;
  return new CertificateSources({
    acm: env.CHECK_ACM === 'on' ? new ACMClient({}) : undefined,
    iam: env.CHECK_IAM_KEYS === 'on' ? new IAMClient({}) : undefined,
    domains: env.TLS_DOMAINS?.split(',').map((d) => d.trim()).filter(Boolean),
    ...(kube ? { kube } : {}),
  });
};
