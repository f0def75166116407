/**
 * Reaching an EKS cluster from a Lambda: DescribeCluster for the endpoint and CA, and a bearer
 * token as `aws eks get-token` makes it — "k8s-aws-v1." + base64url (no padding) of a presigned
 * STS GetCallerIdentity URL whose signed headers include `x-k8s-aws-id: <cluster>`. EKS accepts
 * the token for 15 minutes from its X-Amz-Date; it is reused until 5 minutes before that.
 * (Format: aws-iam-authenticator pkg/token; awscli customizations/eks/get_token.py.)
 */
import { createHash, createHmac } from 'node:crypto';
import type { EKSClient } from '@aws-sdk/client-eks';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';
import { KubeConfig } from '@kubernetes/client-node';
import { TargetAccessDeniedError, TargetNotFoundError, TransientTargetError } from '../actions/errors';

/** How long EKS honours a token after its X-Amz-Date. */
export const TOKEN_LIFETIME_SECONDS = 15 * 60;
/** A cached token is replaced when less than this is left. */
export const TOKEN_REFRESH_MARGIN_SECONDS = 5 * 60;
/** What awscli asks STS for (the URL itself; EKS then applies its own 15 minutes). */
const PRESIGN_EXPIRES_SECONDS = 60;

/** SHA-256 / HMAC-SHA-256 for SignatureV4 from node:crypto. */
class NodeSha256 implements Checksum {
  private hash;
  private readonly secret?: SourceData;
  public constructor(secret?: SourceData) {
    this.secret = secret;
    this.hash = secret ? createHmac('sha256', toBuffer(secret)) : createHash('sha256');
  }
  public update(data: Uint8Array): void {
    this.hash.update(data);
  }
  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  public reset(): void {
    this.hash = this.secret ? createHmac('sha256', toBuffer(this.secret)) : createHash('sha256');
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}

/** URI encoding as SigV4 canonicalises it (encodeURIComponent leaves !'()* alone). */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface EksToken {
  readonly token: string;
  /** When EKS stops accepting it (X-Amz-Date + 15 min). */
  readonly expiresAt: Date;
}

/**
 * A bearer token for `clusterName`, signed with `credentials` for STS in `region`.
 * @example await eksToken({ clusterName: 'exchange', region: 'ap-northeast-1', credentials })
 */
export async function eksToken(options: { clusterName: string; region: string; credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider; now?: Date }): Promise<EksToken> {
  const signer = new SignatureV4({ service: 'sts', region: options.region, credentials: options.credentials, sha256: NodeSha256, uriEscapePath: true, applyChecksum: false });
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signingDate = options.now ?? new Date();
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate },
  );
  const query = Object.entries(signed.query ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  const date = String(signed.query?.['X-Amz-Date'] ?? '');
  const issued = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  const issuedAt = issued ? Date.UTC(Number(issued[1]), Number(issued[2]) - 1, Number(issued[3]), Number(issued[4]), Number(issued[5]), Number(issued[6])) : signingDate.getTime();
  return { token: `k8s-aws-v1.${Buffer.from(url, 'utf8').toString('base64url')}`, expiresAt: new Date(issuedAt + TOKEN_LIFETIME_SECONDS * 1000) };
}

export interface EksKubeConfigOptions {
  readonly clusterName: string;
  /**
   * The EKS client, or a function that creates it at the first cluster call (a Lambda then loads
   * the SDK package there, not at cold start: `once(...)` of lib/runtime/lazy-sdk.ts).
   */
  readonly eks: EKSClient | (() => Promise<EKSClient>);
  /**
   * Credentials that sign the token.
   * @default the EKS client's own credential chain (the Lambda role)
   */
  readonly credentials?: AwsCredentialIdentityProvider;
  now?(): Date;
}

/**
 * KubeConfigs for an EKS cluster: DescribeCluster once per process (endpoint and CA do not change
 * under a running function), a fresh token whenever the cached one has less than five minutes left.
 */
export function eksKubeConfig(options: EksKubeConfigOptions): () => Promise<KubeConfig> {
  const now = options.now ?? (() => new Date());
  let cluster: Promise<{ endpoint: string; caData: string }> | undefined;
  let cached: { config: KubeConfig; expiresAt: Date } | undefined;
  const client = async () => (typeof options.eks === 'function' ? options.eks() : options.eks);
  const describe = async () => {
    const [eks, { DescribeClusterCommand }] = await Promise.all([client(), import('@aws-sdk/client-eks')]).catch((err: unknown) => {
      cluster = undefined;
      throw err;
    });
    let out;
    try {
      out = await eks.send(new DescribeClusterCommand({ name: options.clusterName }));
    } catch (err) {
      cluster = undefined;
      if ((err as Error).name === 'ResourceNotFoundException') throw new TargetNotFoundError(`EKS cluster ${options.clusterName} not found: ${(err as Error).message}`, { target: options.clusterName, cause: err });
      // A role without eks:DescribeCluster: retrying cannot help, the grant must be added.
      if ((err as Error).name === 'AccessDeniedException') throw new TargetAccessDeniedError(`EKS DescribeCluster ${options.clusterName} denied: ${(err as Error).message}`, { target: options.clusterName, cause: err });
      throw new TransientTargetError(`EKS DescribeCluster ${options.clusterName} failed: ${(err as Error).message}`, { target: options.clusterName, cause: err });
    }
    const endpoint = out.cluster?.endpoint;
    const caData = out.cluster?.certificateAuthority?.data;
    if (!endpoint || !caData) {
      cluster = undefined;
      throw new TransientTargetError(`EKS cluster ${options.clusterName} has no endpoint or CA yet (status ${out.cluster?.status ?? 'unknown'})`, { target: options.clusterName });
    }
    return { endpoint, caData };
  };
  return async () => {
    const at = now();
    if (cached && cached.expiresAt.getTime() - at.getTime() > TOKEN_REFRESH_MARGIN_SECONDS * 1000) return cached.config;
    cluster ??= describe();
    const { endpoint, caData } = await cluster;
    const eks = await client();
    const region = await eks.config.region();
    const token = await eksToken({ clusterName: options.clusterName, region, credentials: options.credentials ?? eks.config.credentials, now: at });
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: options.clusterName, server: endpoint, caData, skipTLSVerify: false }],
      users: [{ name: 'sre-agent', token: token.token }],
      contexts: [{ name: options.clusterName, cluster: options.clusterName, user: 'sre-agent' }],
      currentContext: options.clusterName,
    });
    cached = { config, expiresAt: token.expiresAt };
    return config;
  };
}
