/** api_call's HTTP adapter against a local HTTP server: response recorded, redirects not followed, timeouts transient. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FetchHttp } from '../../../lib/actions/http/fetch-ops';
import { startRecorder, type HttpRecorder } from '../../helpers/http-recorder';

let http: HttpRecorder;
beforeAll(async () => {
  http = await startRecorder();
});
afterAll(async () => http.close());

describe('FetchHttp', () => {
  it('POSTs and records the status and body', async () => {
    http.respond(() => ({ status: 200, body: { gc: 'triggered', pause_ms: 42 } }));

    const r = await new FetchHttp().request('POST', `${http.url}/admin/gc`);

    expect(r).toEqual({ status: 200, body: '{"gc":"triggered","pause_ms":42}' });
    expect(http.to('/admin/gc')[0]!.method).toBe('POST');
  });

  it('keeps the first maxBody characters of a long body and says it was cut', async () => {
    http.respond(() => ({ status: 200, body: 'y'.repeat(5000) }));

    const r = await new FetchHttp({ maxBody: 100 }).request('GET', `${http.url}/admin/state`);

    expect(r).toEqual({ status: 200, body: 'y'.repeat(100), truncated: true });
  });

  it('does not follow a redirect (the allow-list checked this URL, not its target)', async () => {
    // prepare: an endpoint answering 302 with a Location elsewhere
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/admin/gc') res.writeHead(302, { location: '/admin/withdraw' }).end();
      else res.writeHead(200).end('followed');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      // act
      const r = await new FetchHttp().request('POST', `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/gc`);

      // assess
      expect(r.status).toBe(302);
      expect(hits).toEqual(['/admin/gc']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('times out as a transient error naming the URL', async () => {
    http.respond(() => new Promise((r) => setTimeout(() => r({ status: 200, body: 'late' }), 1500)));

    await expect(new FetchHttp({ timeoutMs: 200 }).request('POST', `${http.url}/admin/slow`)).rejects.toMatchObject({ name: 'TransientTargetError', target: `${http.url}/admin/slow`, message: expect.stringContaining('timed out after 200 ms') });
  });
});
