/**
 * Where check_certificates looks (seed scenario 7): ACM certificates bound to load balancers
 * (ListCertificates, DescribeCertificate NotAfter / InUseBy), Kubernetes TLS secrets (read by a
 * {@link TlsSecretReader}, parsed with node:crypto's X509Certificate), external domains (a TLS
 * handshake, the peer certificate), and IAM access keys (ListUsers, ListAccessKeys,
 * GetAccessKeyLastUsed). Each source is optional; the action reports the ones not configured.
 */
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import type { ACMClient } from '@aws-sdk/client-acm';
import type { IAMClient } from '@aws-sdk/client-iam';
import { ActionError, TransientTargetError } from '../errors';
import type { AccessKeyAge, CertificateListing, CertificateOps, FoundCertificate } from '../ports';

/**
 * What check_certificates needs from Kubernetes: the `kubernetes.io/tls` secrets, `data` as the
 * API returns it (base64 values; `tls.crt` holds the PEM chain). The Kubernetes adapter implements it.
 */
export interface TlsSecretReader {
  listTlsSecrets(): Promise<{ namespace: string; name: string; data: Record<string, string> }[]>;
}

export interface CertificateSourcesOptions {
  /** ACM in the region of the load balancers. */
  readonly acm?: Pick<ACMClient, 'send'>;
  readonly kube?: TlsSecretReader;
  /** `host` or `host:port` (default port 443) of the exchange's public endpoints. */
  readonly domains?: readonly string[];
  readonly iam?: Pick<IAMClient, 'send'>;
  /** Handshake timeout per domain. @default 5000 */
  readonly timeoutMs?: number;
  /** Extra CA for the TLS handshake (tests); certificates are read even when untrusted or expired. */
  readonly ca?: string;
}

/** The first certificate of a PEM chain: its expiry. */
export function pemNotAfter(pem: string, where: string): string {
  try {
    return new Date(new X509Certificate(pem).validTo).toISOString();
  } catch (err) {
    throw new ActionError(`check_certificates: ${where} does not hold a PEM certificate: ${(err as Error).message}`, { target: where, cause: err });
  }
}

/** The peer certificate's expiry after a handshake (rejectUnauthorized off: an expired certificate must still be read). */
export function peerNotAfter(endpoint: string, timeoutMs = 5000, ca?: string): Promise<string> {
  const [host, port] = endpoint.includes(':') ? [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))] : [endpoint, 443];
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: /^[\d.]+$/.test(host) ? undefined : host, rejectUnauthorized: false, ...(ca ? { ca } : {}), timeout: timeoutMs }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert?.valid_to) reject(new ActionError(`check_certificates: ${endpoint} presented no certificate`, { target: endpoint }));
      else resolve(new Date(cert.valid_to).toISOString());
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new TransientTargetError(`check_certificates: TLS handshake with ${endpoint} timed out after ${timeoutMs} ms`, { target: endpoint }));
    });
    socket.once('error', (err) => reject(new TransientTargetError(`check_certificates: TLS handshake with ${endpoint} failed: ${err.message}`, { target: endpoint, cause: err })));
  });
}

function awsFail(err: unknown, doing: string, target: string): ActionError {
  const name = (err as { name?: string }).name ?? 'Error';
  const message = `check_certificates: ${doing} ${target} failed: ${name}: ${(err as Error).message}`;
  return /Throttl|TooManyRequests|ServiceUnavailable|InternalFailure/.test(name) ? new TransientTargetError(message, { target, cause: err }) : new ActionError(message, { target, cause: err });
}

export class CertificateSources implements CertificateOps {
  public readonly sources: FoundCertificate['source'][];

  public constructor(private readonly o: CertificateSourcesOptions) {
    this.sources = [...(o.acm ? ['alb_certificates' as const] : []), ...(o.kube ? ['kubernetes_secrets' as const] : []), ...(o.domains?.length ? ['external_domains' as const] : [])];
  }

  public async list(sources: readonly string[]): Promise<CertificateListing> {
    const out: FoundCertificate[] = [];
    const unreadable: CertificateListing['unreadable'][number][] = [];
    if (sources.includes('alb_certificates') && this.o.acm) out.push(...(await this.acm(this.o.acm)));
    if (sources.includes('kubernetes_secrets') && this.o.kube) out.push(...(await this.kubeSecrets(this.o.kube)));
    if (sources.includes('external_domains') && this.o.domains?.length) {
      // Per domain: one endpoint down must not hide the expiry of the others.
      const read = await Promise.allSettled(this.o.domains.map((d) => peerNotAfter(d, this.o.timeoutMs, this.o.ca)));
      read.forEach((r, i) => {
        const d = this.o.domains![i] as string;
        if (r.status === 'fulfilled') out.push({ name: d, source: 'external_domains', id: d, notAfter: r.value });
        else unreadable.push({ name: d, source: 'external_domains', error: (r.reason as Error).message, transient: r.reason instanceof TransientTargetError });
      });
      // Nothing read at all is a failure of the check (retried when transient), not an all-clear.
      const first = read.find((r) => r.status === 'rejected');
      if (out.length === 0 && first) throw first.reason;
    }
    return { certificates: out, unreadable };
  }

  private async acm(acm: Pick<ACMClient, 'send'>): Promise<FoundCertificate[]> {
    const { ListCertificatesCommand, DescribeCertificateCommand, KeyAlgorithm } = await import('@aws-sdk/client-acm');
    // Without Includes.keyTypes ACM lists only RSA_1024/RSA_2048 certificates: an ECDSA or RSA_4096
    // certificate on a load balancer would never be checked.
    // https://docs.aws.amazon.com/acm/latest/APIReference/API_Filters.html
    const keyTypes = Object.values(KeyAlgorithm);
    const arns: string[] = [];
    let next: string | undefined;
    do {
      let page;
      try {
        page = await acm.send(new ListCertificatesCommand({ Includes: { keyTypes }, NextToken: next, MaxItems: 100 }));
      } catch (err) {
        throw awsFail(err, 'ListCertificates in', 'ACM');
      }
      arns.push(...(page.CertificateSummaryList ?? []).flatMap((c) => (c.CertificateArn ? [c.CertificateArn] : [])));
      next = page.NextToken;
    } while (next);
    const out: FoundCertificate[] = [];
    for (const arn of arns) {
      let cert;
      try {
        cert = (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
      } catch (err) {
        throw awsFail(err, 'DescribeCertificate', arn);
      }
      // Only certificates a load balancer serves: the seed's "ALB 上绑定的 ACM 证书".
      const albs = (cert?.InUseBy ?? []).filter((r) => r.includes(':elasticloadbalancing:'));
      if (!cert?.NotAfter || albs.length === 0) continue;
      out.push({ name: cert.DomainName ?? arn, source: 'alb_certificates', id: arn, notAfter: new Date(cert.NotAfter).toISOString(), inUseBy: albs });
    }
    return out;
  }

  private async kubeSecrets(kube: TlsSecretReader): Promise<FoundCertificate[]> {
    const secrets = await kube.listTlsSecrets();
    return secrets.flatMap((s) => {
      const crt = s.data['tls.crt'];
      if (!crt) return [];
      const where = `secret ${s.namespace}/${s.name}`;
      return [{ name: `${s.namespace}/${s.name}`, source: 'kubernetes_secrets' as const, id: `${s.namespace}/${s.name}`, notAfter: pemNotAfter(Buffer.from(crt, 'base64').toString('utf8'), where) }];
    });
  }

  public async accessKeys(): Promise<AccessKeyAge[]> {
    const iam = this.o.iam;
    if (!iam) return [];
    const { ListUsersCommand, ListAccessKeysCommand, GetAccessKeyLastUsedCommand } = await import('@aws-sdk/client-iam');
    const out: AccessKeyAge[] = [];
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await iam.send(new ListUsersCommand({ Marker: marker }));
      } catch (err) {
        throw awsFail(err, 'ListUsers in', 'IAM');
      }
      for (const u of page.Users ?? []) {
        if (!u.UserName) continue;
        let keys;
        try {
          keys = await iam.send(new ListAccessKeysCommand({ UserName: u.UserName }));
        } catch (err) {
          throw awsFail(err, 'ListAccessKeys of', u.UserName);
        }
        for (const k of keys.AccessKeyMetadata ?? []) {
          if (k.Status !== 'Active' || !k.AccessKeyId || !k.CreateDate) continue;
          const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.AccessKeyId })).catch((err: unknown) => {
            throw awsFail(err, 'GetAccessKeyLastUsed of', k.AccessKeyId as string);
          });
          const last = used.AccessKeyLastUsed?.LastUsedDate;
          out.push({ user: u.UserName, accessKeyId: k.AccessKeyId, createdAt: new Date(k.CreateDate).toISOString(), ...(last ? { lastUsedAt: new Date(last).toISOString() } : {}) });
        }
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    return out;
  }
}
