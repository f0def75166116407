/**
 * Attacks on the local engine's HTTP API (`npm start`, here `startLocal` on a data folder): another
 * local process or a web page trying to approve, reset breakers, put metrics or inject events;
 * DNS rebinding; cross-site form posts; and bad input that answered 500 before (issue 9).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listDeadLetters } from '../../lib/runtime/intake';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { readApiToken } from '../../lib/local/api-token';
import { alarmEvent } from '../helpers/events';

let agent: RunningAgent;
let dataDir: string;

beforeAll(async () => {
  dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'sre-agent-api-')), 'data');
  agent = await startLocal({ port: 0, dataDir, speedUp: 600, log: () => undefined });
});

afterAll(async () => {
  await agent.stop();
  rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

/** A raw HTTP request (fetch will not send a forged Host header). */
function raw(method: string, pathname: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  const url = new URL(agent.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: pathname, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const own = () => ({ host: new URL(agent.url).host });
const json = (extra: Record<string, string> = {}) => ({ ...own(), 'content-type': 'application/json', ...extra });
const bearer = () => ({ authorization: `Bearer ${agent.token}` });

describe('the local API under attack', () => {
  it.each([
    ['POST', '/api/breakers/reset', '{}'],
    ['POST', '/api/metrics', '{"name":"api_latency_p99","value":1}'],
    ['POST', '/events', JSON.stringify(alarmEvent('sre-agent/traffic-surge/trading-api'))],
    ['POST', '/api/approvals/00000000-0000-4000-8000-000000000000/approve', '{"as":"x","role":"oncall_sre"}'],
    ['POST', '/api/incidents/INC-20260209-001/resolve', '{"as":"x","reason":"y"}'],
    // Reads that hand out signed approval links: holding one is deciding as its person.
    ['GET', '/api/outbox', undefined],
    ['GET', '/api/outbox?channel=email', undefined],
    ['GET', '/api/approvals/pending', undefined],
    ['GET', '/api/approvals/pending/', undefined],
  ])('refuses %s %s without the token (401), and with a wrong one', async (method, pathname, body) => {
    expect((await raw(method, pathname, json(), body)).status).toBe(401);
    expect((await raw(method, pathname, json({ authorization: 'Bearer not-the-token' }), body)).status).toBe(401);
    expect((await raw(method, pathname, json({ 'x-sre-agent-token': `${agent.token}x` }), body)).status).toBe(401);
  });

  // Only the signed-link pages go without the token: a path that starts like them but is read as another route must not.
  it.each([
    ['/approvals/../api/breakers/reset'],
    ['/approvals/%2e%2e/api/breakers/reset'],
    ['/approvals/x/..%2f..%2fapi/breakers/reset'],
    ['/approvals\\..\\api/breakers/reset'],
    ['//approvals/../api/breakers/reset'],
  ])('refuses POST %s without the token: the path is judged as it is routed', async (pathname) => {
    const res = await raw('POST', pathname, json(), JSON.stringify({ actor: 'attacker' }));
    expect([401, 404]).toContain(res.status);
    expect(res.body).not.toContain('is CLOSED');
  });

  it('refuses an approval form posted from an opaque origin (Origin: null: a sandboxed frame or a redirect)', async () => {
    const res = await raw('POST', '/approvals/00000000-0000-4000-8000-000000000000', { ...own(), origin: 'null', 'content-type': 'application/x-www-form-urlencoded' }, 'person=a');
    expect(res.status).toBe(403);
  });

  it('never hands the token to a reader: the dashboard page and its assets carry none (any local process can GET them)', async () => {
    for (const p of ['/', '/assets/dashboard.js', '/assets/dashboard.css', '/api/dashboard', '/api/incidents', '/api/approvals', '/api/executions']) {
      const res = await raw('GET', p, own());
      expect({ p, status: res.status }).toEqual({ p, status: 200 });
      expect(res.body).not.toContain(agent.token);
    }
  });

  it('refuses a text/plain POST (what a cross-site form or beacon can send without a preflight) with 415', async () => {
    const res = await raw('POST', '/api/breakers/reset', { ...own(), ...bearer(), 'content-type': 'text/plain' }, '{}');
    expect(res.status).toBe(415);
  });

  it.each([
    ['evil.example:8787'],
    ['evil.example'],
    ['127.0.0.1.nip.io'],
    ['localhost.evil.example'],
  ])('refuses a request whose Host is %j (DNS rebinding), reads included', async (host) => {
    expect((await raw('GET', '/api/incidents', { host })).status).toBe(421);
    expect((await raw('GET', '/', { host })).status).toBe(421);
    expect((await raw('POST', '/api/breakers/reset', { host, 'content-type': 'application/json', ...bearer() }, '{}')).status).toBe(421);
  });

  it('takes a state-changing request with the token, the right type and its own Host', async () => {
    const res = await raw('POST', '/api/breakers/reset', { ...json(), ...bearer() }, JSON.stringify({ actor: 'test' }));
    expect(res.status).toBe(200);
  });

  it('serves the signed-link pages without the token, but refuses a decision posted from another origin', async () => {
    const page = await raw('GET', '/approvals/00000000-0000-4000-8000-000000000000?person=a&role=b&decision=approve&expires=1&sig=x', own());
    expect(page.status).not.toBe(401);
    const foreign = await raw('POST', '/approvals/00000000-0000-4000-8000-000000000000', { ...own(), origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, 'person=a');
    expect(foreign.status).toBe(403);
    expect(foreign.body).toContain('Nothing was changed');
    const crossSite = await raw('POST', '/approvals/00000000-0000-4000-8000-000000000000', { ...own(), 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' }, 'person=a');
    expect(crossSite.status).toBe(403);
  });

  it('keeps the data folder 0700 and its files 0600, the token among them', async () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const token = path.join(dataDir, 'api-token');
    expect(statSync(token).mode & 0o777).toBe(0o600);
    expect(readApiToken(token)).toBe(agent.token);
    for (const entry of readdirSync(dataDir, { recursive: true, withFileTypes: true })) {
      const p = path.join(entry.parentPath, entry.name);
      if (entry.isDirectory()) expect([p, statSync(p).mode & 0o077]).toEqual([p, 0]);
    }
  });

  describe('bad input becomes a dead letter with its reason, never a 500', () => {
    it('an event nested 100,000 levels deep', async () => {
      const body = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
      const res = await raw('POST', '/events', { ...json(), ...bearer() }, `{"detail":${body}}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ results: [{ outcome: 'dead_letter', reason: expect.stringContaining('nested more than 32 levels') }] });
      const letters = await listDeadLetters(agent.engine.doc, agent.engine.tables);
      expect(letters.some((l) => l.reason.includes('nested more than 32 levels'))).toBe(true);
    });

    it('a 5,000-character service name', async () => {
      const event = alarmEvent(`sre-agent/traffic-surge/${'a'.repeat(5000)}`);
      const res = await raw('POST', '/events', { ...json(), ...bearer() }, JSON.stringify(event));
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).results[0]).toMatchObject({ outcome: 'dead_letter' });
      const shorter = alarmEvent(`sre-agent/traffic-surge/${'a'.repeat(200)}`);
      const again = await raw('POST', '/events', { ...json(), ...bearer() }, JSON.stringify(shorter));
      expect(JSON.parse(again.body).results[0]).toMatchObject({ outcome: 'dead_letter', reason: expect.stringContaining('at most 63 characters') });
    });

    it('a deep body on another JSON route is a 400, not a 500', async () => {
      const res = await raw('POST', '/api/metrics', { ...json(), ...bearer() }, `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
      expect(res.status).toBe(400);
    });
  });
});
