/**
 * Pieces of the Kubernetes API sandbox that kubectl does not reach one by one: certificates
 * Node's and OpenSSL's X.509 parsers accept every time, and the patch semantics (RFC 7386,
 * RFC 6902, strategic merge directives) on the shapes the actions and kubectl send.
 */
import { X509Certificate } from 'node:crypto';
import { jsonPatch, mergePatch, strategicMerge } from '../../../lib/sandbox/kube/patch';
import { selfSignedCertificate } from '../../../lib/sandbox/kube';

describe('selfSignedCertificate', () => {
  it('issues certificates that parse, verify and carry their expiry and names, every time', () => {
    const notAfter = new Date('2026-12-21T00:00:00Z');
    for (let i = 0; i < 200; i++) {
      const c = selfSignedCertificate({ commonName: 'wallet-service.wallet.svc', ipAddresses: ['127.0.0.1'], notBefore: new Date('2026-09-22T00:00:00Z'), notAfter });
      const x = new X509Certificate(c.certificate);
      expect(x.verify(x.publicKey)).toBe(true);
      expect(new Date(x.validTo).toISOString()).toBe(notAfter.toISOString());
      expect(x.subjectAltName).toBe('DNS:wallet-service.wallet.svc, IP Address:127.0.0.1');
    }
  });
});

describe('patches', () => {
  const deployment = { spec: { replicas: 4, template: { spec: { containers: [{ name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }] }, { name: 'sidecar', image: 's:1' }] } } } };

  it('a merge patch merges maps, deletes with null and replaces lists', () => {
    expect(mergePatch(deployment, { spec: { replicas: null, template: { spec: { containers: [{ name: 'x' }] } } } })).toEqual({ spec: { template: { spec: { containers: [{ name: 'x' }] } } } });
  });

  it('a strategic merge patch merges containers by name and env by name, and honours $setElementOrder and $patch: delete', () => {
    const out = strategicMerge(deployment, {
      spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }, { name: 'app', env: [{ name: 'B', value: '2' }] }] } } },
    }) as typeof deployment;
    expect(out.spec.template.spec.containers).toEqual([{ name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }]);
    const ordered = strategicMerge(deployment, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }], containers: [{ name: 'app', image: 'a:2' }] } } } }) as typeof deployment;
    expect(ordered.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['sidecar=s:1', 'app=a:2']);
  });

  it('a JSON patch applies all its operations or none, and a failed test stops it', () => {
    const ops = [
      { op: 'replace', path: '/spec/replicas', value: 8 },
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'sidecar' },
    ];
    expect(() => jsonPatch(deployment, ops)).toThrow(expect.objectContaining({ code: 422 }));
    expect(deployment.spec.replicas).toBe(4);
    expect((jsonPatch(deployment, [{ op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c' } }]) as typeof deployment).spec.template.spec.containers).toHaveLength(3);
  });
});
