/**
 * check_certificates (seed scenario 7) on certificates generated here, expiring in 5, 20 and 60
 * days: served by local TLS servers (external domains), held in Kubernetes TLS secrets (a reader
 * at the TlsSecretReader boundary), and described by ACM and IAM (aws-sdk-client-mock with their
 * documented shapes).
 */
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ACMClient, DescribeCertificateCommand, KeyAlgorithm, ListCertificatesCommand, type ListCertificatesCommandInput } from '@aws-sdk/client-acm';
import { GetAccessKeyLastUsedCommand, IAMClient, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { generate } from 'selfsigned';
import { action } from '../../lib/actions/check_certificates';
import { CertificateSources, type TlsSecretReader } from '../../lib/actions/certificates/sources';
import { actionContext } from '../helpers/action-context';

const DAY = 86_400_000;
const acmMock = mockClient(ACMClient);
const iamMock = mockClient(IAMClient);
const params = { sources: ['kubernetes_secrets', 'alb_certificates', 'external_domains'] as ('kubernetes_secrets' | 'alb_certificates' | 'external_domains')[], warning_threshold: '30d', critical_threshold: '7d' };

/** A certificate for `name` valid from yesterday until `days` days (and one hour) from now. */
async function certificate(name: string, days: number): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: name }], { keyType: 'ec', notBeforeDate: new Date(Date.now() - DAY), notAfterDate: new Date(Date.now() + days * DAY + 3_600_000), algorithm: 'sha256' });
  return { cert: pems.cert, key: pems.private };
}

const servers: tls.Server[] = [];
async function serve(pair: { cert: string; key: string }): Promise<string> {
  const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let soon: { cert: string; key: string };
let month: { cert: string; key: string };
let later: { cert: string; key: string };

beforeAll(async () => {
  [soon, month, later] = await Promise.all([certificate('api.exchange.test', 5), certificate('ws.exchange.test', 20), certificate('www.exchange.test', 60)]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});
beforeEach(() => {
  acmMock.reset();
  iamMock.reset();
});

const secrets = (pairs: Record<string, { cert: string }>): TlsSecretReader => ({
  listTlsSecrets: async () => Object.entries(pairs).map(([ref, p]) => ({ namespace: ref.split('/')[0]!, name: ref.split('/')[1]!, data: { 'tls.crt': Buffer.from(p.cert).toString('base64'), 'tls.key': 'c2VjcmV0' } })),
});

describe('check_certificates', () => {
  it('finds the external domains expiring within 30 days by a TLS handshake, soonest first, with levels', async () => {
    // prepare
    const domains = await Promise.all([serve(later), serve(month), serve(soon)]);
    const target = new CertificateSources({ domains });

    // act
    const result = await action.run({ ...params, sources: ['external_domains'] }, actionContext({ targets: { certificates: target }, now: () => new Date() }));

    // assess
    const expiring = result.outputs?.expiring_certs as { name: string; days_remaining: number; level: string }[];
    expect(expiring.map((c) => [c.name, c.days_remaining, c.level])).toEqual([[domains[2], 5, 'CRITICAL'], [domains[1], 20, 'WARNING']]);
    expect(result.outputs).toMatchObject({ cert_name: domains[2], days_remaining: 5, days: 5, unchecked_sources: [] });
  });

  it('reads Kubernetes TLS secrets (base64 PEM in tls.crt) with X509Certificate', async () => {
    const target = new CertificateSources({ kube: secrets({ 'trading/api-tls': soon, 'market-data/ws-tls': month, 'web/www-tls': later }) });

    const result = await action.run({ ...params, sources: ['kubernetes_secrets'] }, actionContext({ targets: { certificates: target }, now: () => new Date() }));

    expect((result.outputs?.expiring_certs as { name: string }[]).map((c) => c.name)).toEqual(['trading/api-tls', 'market-data/ws-tls']);
  });

  it('names the secret that does not hold a certificate', async () => {
    const target = new CertificateSources({ kube: { listTlsSecrets: async () => [{ namespace: 'trading', name: 'broken', data: { 'tls.crt': Buffer.from('not a certificate').toString('base64') } }] } });

    await expect(action.run(params, actionContext({ targets: { certificates: target } }))).rejects.toMatchObject({ name: 'ActionError', target: 'secret trading/broken' });
  });

  it('checks ACM certificates bound to load balancers only, of every key type and page, and reports the sources not configured', async () => {
    // prepare: ACM as documented lists only RSA_1024/RSA_2048 certificates unless Includes.keyTypes
    // names others, and pages with NextToken. An RSA certificate on an ALB expiring in 5 days, an
    // ECDSA (EC_prime256v1) one on an ALB in 6 days, one unused in 3 days.
    const now = new Date();
    const arn = (id: string): string => `arn:aws:acm:us-east-1:111122223333:certificate/${id}`;
    const catalogue = [
      { CertificateArn: arn('alb'), DomainName: 'api.exchange.test', KeyAlgorithm: KeyAlgorithm.RSA_2048 },
      { CertificateArn: arn('unused'), DomainName: 'old.exchange.test', KeyAlgorithm: KeyAlgorithm.RSA_2048 },
      { CertificateArn: arn('ecdsa'), DomainName: 'ws.exchange.test', KeyAlgorithm: KeyAlgorithm.EC_prime256v1 },
    ];
    acmMock.on(ListCertificatesCommand).callsFake((input: ListCertificatesCommandInput) => {
      const types: string[] = input.Includes?.keyTypes ?? [KeyAlgorithm.RSA_1024, KeyAlgorithm.RSA_2048];
      const listed = catalogue.filter((c) => types.includes(c.KeyAlgorithm));
      const at = Number(input.NextToken ?? 0);
      return { CertificateSummaryList: listed.slice(at, at + 1), ...(at + 1 < listed.length ? { NextToken: String(at + 1) } : {}) };
    });
    const alb = 'arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/trading/50dc6c495c0c9188';
    acmMock.on(DescribeCertificateCommand, { CertificateArn: arn('alb') }).resolves({ Certificate: { CertificateArn: arn('alb'), DomainName: 'api.exchange.test', NotAfter: new Date(now.getTime() + 5 * DAY + 3_600_000), Status: 'ISSUED', KeyAlgorithm: KeyAlgorithm.RSA_2048, InUseBy: [alb] } });
    acmMock.on(DescribeCertificateCommand, { CertificateArn: arn('ecdsa') }).resolves({ Certificate: { CertificateArn: arn('ecdsa'), DomainName: 'ws.exchange.test', NotAfter: new Date(now.getTime() + 6 * DAY + 3_600_000), Status: 'ISSUED', KeyAlgorithm: KeyAlgorithm.EC_prime256v1, InUseBy: [alb] } });
    acmMock.on(DescribeCertificateCommand, { CertificateArn: arn('unused') }).resolves({ Certificate: { DomainName: 'old.exchange.test', NotAfter: new Date(now.getTime() + 3 * DAY), InUseBy: [] } });
    const target = new CertificateSources({ acm: new ACMClient({ region: 'us-east-1' }) });

    // act
    const result = await action.run(params, actionContext({ targets: { certificates: target }, now: () => now }));

    // assess
    expect(result.outputs?.expiring_certs).toEqual([
      expect.objectContaining({ name: 'api.exchange.test', source: 'alb_certificates', days_remaining: 5, level: 'CRITICAL', inUseBy: [alb] }),
      expect.objectContaining({ name: 'ws.exchange.test', source: 'alb_certificates', days_remaining: 6, level: 'CRITICAL', inUseBy: [alb] }),
    ]);
    expect(acmMock.commandCalls(ListCertificatesCommand).map((c) => c.args[0].input.Includes?.keyTypes)).toEqual([Object.values(KeyAlgorithm), Object.values(KeyAlgorithm), Object.values(KeyAlgorithm)]);
    expect(result.outputs?.unchecked_sources).toEqual(['kubernetes_secrets', 'external_domains']);
    expect(result.summary).toContain('not checked (not configured): kubernetes_secrets, external_domains');
  });

  it('reports active IAM access keys older than 90 days (ListUsers, ListAccessKeys, GetAccessKeyLastUsed)', async () => {
    const now = new Date();
    acmMock.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
    iamMock.on(ListUsersCommand).resolves({ Users: [{ UserName: 'ci-deployer', UserId: 'AIDA1', Arn: 'arn:aws:iam::111122223333:user/ci-deployer', Path: '/', CreateDate: new Date('2024-01-01') }], IsTruncated: false });
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [
      { UserName: 'ci-deployer', AccessKeyId: 'AKIAOLD', Status: 'Active', CreateDate: new Date(now.getTime() - 120 * DAY) },
      { UserName: 'ci-deployer', AccessKeyId: 'AKIANEW', Status: 'Active', CreateDate: new Date(now.getTime() - 10 * DAY) },
      { UserName: 'ci-deployer', AccessKeyId: 'AKIAOFF', Status: 'Inactive', CreateDate: new Date(now.getTime() - 400 * DAY) },
    ] });
    iamMock.on(GetAccessKeyLastUsedCommand).resolves({ UserName: 'ci-deployer', AccessKeyLastUsed: { LastUsedDate: new Date(now.getTime() - DAY), ServiceName: 's3', Region: 'us-east-1' } });
    const target = new CertificateSources({ acm: new ACMClient({ region: 'us-east-1' }), iam: new IAMClient({ region: 'us-east-1' }) });

    const result = await action.run(params, actionContext({ targets: { certificates: target }, now: () => now }));

    expect(result.outputs?.stale_access_keys).toEqual([{ user: 'ci-deployer', access_key_id: 'AKIAOLD', age_days: 120, last_used: expect.any(String) }]);
    expect(result.summary).toContain('1 IAM access key(s) older than 90 d');
  });

  it('fails with TargetNotConfiguredError when none of the sources is configured', async () => {
    await expect(action.run(params, actionContext({ targets: { certificates: new CertificateSources({}) } }))).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
    await expect(action.run(params, actionContext())).rejects.toMatchObject({ name: 'TargetNotConfiguredError' });
  });

  it('records a failed handshake per domain and still reports the others', async () => {
    // prepare: one endpoint down beside two that answer
    const domains = [await serve(soon), '127.0.0.1:1', await serve(later)];
    const target = new CertificateSources({ domains, timeoutMs: 2000 });

    // act
    const result = await action.run({ ...params, sources: ['external_domains'] }, actionContext({ targets: { certificates: target }, now: () => new Date() }));

    // assess
    expect((result.outputs?.expiring_certs as { name: string }[]).map((c) => c.name)).toEqual([domains[0]]);
    expect(result.outputs?.unreadable_certificates).toEqual([{ name: '127.0.0.1:1', source: 'external_domains', error: expect.stringContaining('TLS handshake with 127.0.0.1:1 failed'), transient: true }]);
    expect(result.summary).toContain('could not read 127.0.0.1:1');
  });

  it('names the domain whose handshake fails when it is the only one (retried as transient)', async () => {
    const target = new CertificateSources({ domains: ['127.0.0.1:1'], timeoutMs: 2000 });

    await expect(action.run({ ...params, sources: ['external_domains'] }, actionContext({ targets: { certificates: target } }))).rejects.toMatchObject({ name: 'TransientTargetError', target: '127.0.0.1:1' });
  });
});
