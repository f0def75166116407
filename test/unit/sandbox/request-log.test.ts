/**
 * The Kubernetes sandbox's request log keeps the newest `requestLogLimit` requests: behind a long
 * `npm start` session it must not grow without bound.
 * @lane pure: an in-process sandbox of its own, no shared service.
 */
import { request } from 'node:https';
import { loadServiceMap } from '../../../lib/policy/files';
import { startKubeSandbox, type KubeSandbox } from '../../../lib/sandbox/kube';

/** GET `path` from the sandbox with its token, over its TLS; resolves with the status code. */
function get(sandbox: KubeSandbox, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${sandbox.url}${path}`, { ca: sandbox.ca, headers: { authorization: `Bearer ${sandbox.token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Kubernetes sandbox: request log', () => {
  let sandbox: KubeSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('keeps only the newest requestLogLimit requests, in order', async () => {
    // prepare
    sandbox = await startKubeSandbox({ services: loadServiceMap(), requestLogLimit: 3 });

    // act: five requests, told apart by their query
    for (let i = 1; i <= 5; i += 1) expect(await get(sandbox, `/version?n=${i}`)).toBe(200);

    // assess
    expect(sandbox.requests.map((r) => r.query)).toEqual(['?n=3', '?n=4', '?n=5']);
  });

  it('keeps every request below the limit (the default is 10,000)', async () => {
    sandbox = await startKubeSandbox({ services: loadServiceMap() });

    for (let i = 1; i <= 5; i += 1) await get(sandbox, `/version?n=${i}`);

    expect(sandbox.requests.map((r) => r.query)).toEqual(['?n=1', '?n=2', '?n=3', '?n=4', '?n=5']);
  });

  it.each([0, -1, 1.5])('refuses a requestLogLimit of %p', async (limit) => {
    await expect(startKubeSandbox({ services: loadServiceMap(), requestLogLimit: limit })).rejects.toThrow(`requestLogLimit must be a positive integer, got ${limit}`);
  });
});
