/**
 * Reaching EKS: the bearer token is `aws eks get-token`'s (a presigned STS GetCallerIdentity URL
 * with the signed header x-k8s-aws-id), checked by decoding it and recomputing its SigV4
 * signature independently; DescribeCluster (aws-sdk-client-mock) gives endpoint and CA once; the
 * token is reused until five minutes before its fifteen are up.
 */
import { createHash, createHmac } from 'node:crypto';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { eksKubeConfig, eksToken } from '../../../lib/kube';

const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzE+/session==' };
const at = new Date('2026-02-09T14:15:00Z');

function decode(token: string): URL {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const body = token.slice('k8s-aws-v1.'.length);
  expect(body).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(body, 'base64url').toString('utf8'));
}

/** SigV4 query signature written out from the AWS documentation, to check the signer's. */
function expectedSignature(url: URL, cluster: string, region: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const params = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature').sort(([a], [b]) => (a < b ? -1 : 1));
  const canonicalQuery = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${url.host}`, `x-k8s-aws-id:${cluster}`, '', 'host;x-k8s-aws-id', createHash('sha256').update('').digest('hex')].join('\n');
  const date = url.searchParams.get('X-Amz-Date') as string;
  const scope = `${date.slice(0, 8)}/${region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date.slice(0, 8)), region), 'sts'), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('eksToken', () => {
  it('is k8s-aws-v1. + base64url of a presigned STS GetCallerIdentity URL that signs x-k8s-aws-id', async () => {
    // act
    const { token, expiresAt } = await eksToken({ clusterName: 'exchange-prod', region: 'ap-northeast-1', credentials, now: at });
    // assess
    const url = decode(token);
    expect(url.origin).toBe('https://sts.ap-northeast-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAIOSFODNN7EXAMPLE/20260209/ap-northeast-1/sts/aws4_request',
      'X-Amz-Date': '20260209T141500Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Security-Token': credentials.sessionToken,
    });
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'exchange-prod', 'ap-northeast-1'));
    expect(expiresAt.toISOString()).toBe('2026-02-09T14:30:00.000Z');
  });

  it('signs another cluster name differently: the token is bound to its cluster', async () => {
    const a = decode((await eksToken({ clusterName: 'exchange-prod', region: 'ap-northeast-1', credentials, now: at })).token);
    const b = decode((await eksToken({ clusterName: 'exchange-staging', region: 'ap-northeast-1', credentials, now: at })).token);
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
  });
});

describe('eksKubeConfig', () => {
  const eks = mockClient(EKSClient);
  const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');

  beforeEach(() => {
    eks.reset();
    eks.on(DescribeClusterCommand, { name: 'exchange-prod' }).resolves({ cluster: { name: 'exchange-prod', endpoint: 'https://ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com', certificateAuthority: { data: ca }, status: 'ACTIVE' } });
  });

  it('points at the endpoint and CA DescribeCluster returns, with a bearer token for the cluster', async () => {
    // prepare
    const source = eksKubeConfig({ clusterName: 'exchange-prod', eks: new EKSClient({ region: 'ap-northeast-1', credentials }), now: () => at });
    // act
    const kc = await source();
    // assess
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://ABCDEF.gr7.ap-northeast-1.eks.amazonaws.com', caData: ca, skipTLSVerify: false });
    const url = decode(kc.getCurrentUser()?.token as string);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
  });

  it('reuses the token for ten minutes, then signs a new one; DescribeCluster runs once', async () => {
    // prepare
    let now = at;
    const source = eksKubeConfig({ clusterName: 'exchange-prod', eks: new EKSClient({ region: 'ap-northeast-1', credentials }), now: () => now });
    // act
    const first = await source();
    now = new Date(at.getTime() + 9 * 60000);
    const nineMinutes = await source();
    now = new Date(at.getTime() + 10 * 60000 + 1000);
    const tenMinutes = await source();
    // assess
    expect(nineMinutes).toBe(first);
    expect(tenMinutes).not.toBe(first);
    expect(decode(tenMinutes.getCurrentUser()?.token as string).searchParams.get('X-Amz-Date')).toBe('20260209T142501Z');
    expect(eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
  });

  it('a cluster that does not exist is a TargetNotFoundError naming it', async () => {
    // prepare
    eks.on(DescribeClusterCommand, { name: 'nope' }).rejects(Object.assign(new Error('No cluster found for name: nope.'), { name: 'ResourceNotFoundException' }));
    const source = eksKubeConfig({ clusterName: 'nope', eks: new EKSClient({ region: 'ap-northeast-1', credentials }), now: () => at });
    // act, assess
    await expect(source()).rejects.toMatchObject({ name: 'TargetNotFoundError', message: expect.stringContaining('EKS cluster nope not found') });
  });

  it('a role without eks:DescribeCluster is a TargetAccessDeniedError (not retried as transient), and the next call asks again', async () => {
    // prepare
    eks.on(DescribeClusterCommand, { name: 'locked' }).rejects(Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: eks:DescribeCluster'), { name: 'AccessDeniedException' }));
    const source = eksKubeConfig({ clusterName: 'locked', eks: new EKSClient({ region: 'ap-northeast-1', credentials }), now: () => at });
    // act, assess
    await expect(source()).rejects.toMatchObject({ name: 'TargetAccessDeniedError', target: 'locked', message: expect.stringContaining('EKS DescribeCluster locked denied: User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized') });
    await expect(source()).rejects.toMatchObject({ name: 'TargetAccessDeniedError' });
    expect(eks.commandCalls(DescribeClusterCommand, { name: 'locked' })).toHaveLength(2);
  });
});
