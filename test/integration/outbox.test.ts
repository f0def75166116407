/**
 * The local outbox (issue 14): what unconfigured channels would send is kept, e-mail one message
 * per person with only their own signed links; the links work; `GET /api/outbox` and
 * `GET /api/approvals/pending` hand out links only with the engine's token; the outbox survives
 * a restart of the engine on its data folder.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import type { Notification, Notifier } from '../../lib/notify';
import { getTimeline } from '../../lib/incident';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { Outbox, withOutbox } from '../../lib/local/outbox';
import type { PendingApproval } from '../../lib/local/server';
import { alarmEvent } from '../helpers/events';

const DB = 13;
const john = { name: 'John Park', handle: 'john.park', email: 'john.park@example.com' };
const chen = { name: 'Chen Jie', handle: 'chen.jie', email: 'chen.jie@example.com' };

const request: Notification = {
  kind: 'approval_request',
  incidentId: 'INC-20260209-001',
  title: 'Approval needed: scale_redis_cluster',
  message: 'Approve elasticache_modify?',
  severity: 'error',
  channels: ['slack', 'email'],
  recipients: [
    { role: 'oncall_sre', person: john, links: { approveUrl: 'http://127.0.0.1/approvals/a?person=John+Park&sig=J1', rejectUrl: 'http://127.0.0.1/approvals/a?person=John+Park&sig=J2' } },
    { role: 'team_lead', person: chen, links: { approveUrl: 'http://127.0.0.1/approvals/a?person=Chen+Jie&sig=C1', rejectUrl: 'http://127.0.0.1/approvals/a?person=Chen+Jie&sig=C2' } },
  ],
  at: new Date('2026-02-09T14:16:00Z'),
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-outbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('Outbox', () => {
  it('keeps an e-mail per person with only their own links, and a shared channel message with none', () => {
    // arrange
    const outbox = new Outbox();
    // act
    const email = outbox.keep(request, 'email');
    const slack = outbox.keep(request, 'slack');
    // assess
    expect(email.map((e) => e.to)).toEqual([['John Park (oncall_sre)'], ['Chen Jie (team_lead)']]);
    expect(email[0]!.text).toContain('sig=J1');
    expect(email[0]!.text).not.toContain('sig=C1');
    expect(email[1]!.links).toEqual([{ person: 'Chen Jie', role: 'team_lead', approveUrl: expect.stringContaining('sig=C1'), rejectUrl: expect.stringContaining('sig=C2') }]);
    expect(slack).toHaveLength(1);
    expect(slack[0]!.text).not.toMatch(/sig=/);
    expect(slack[0]!.links).toBeUndefined();
    expect(outbox.list().map((e) => e.id)).toEqual(['OUT-000003', 'OUT-000002', 'OUT-000001']);
    expect(outbox.list({ channel: 'email', incidentId: 'INC-20260209-001', limit: 1 }).map((e) => e.id)).toEqual(['OUT-000002']);
  });

  it('persists to its file (0600) and reloads, numbering on; a torn last line is skipped and named by file and line', () => {
    // arrange
    const file = path.join(dir, 'outbox.jsonl');
    new Outbox(file).keep(request, 'slack');
    appendFileSync(file, '{"id":"OUT-0000');
    const warnings: string[] = [];
    // act
    const again = new Outbox(file, (m) => warnings.push(m));
    const next = again.keep(request, 'pagerduty');
    // assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(again.list().map((e) => e.id)).toEqual(['OUT-000002', 'OUT-000001']);
    expect(next[0]!.id).toBe('OUT-000002');
    expect(warnings).toEqual([expect.stringMatching(/outbox\.jsonl:2: unreadable outbox entry skipped \(/)]);
  });
});

describe('withOutbox', () => {
  it('sends on the configured channels and keeps the others, each kept message an outcome that succeeded', async () => {
    // arrange
    const sent: Notification[] = [];
    const slackOnly: Notifier = { configured: ['slack'], send: async (n) => (sent.push(n), n.channels.map((channel) => ({ channel, ok: true, detail: 'posted (HTTP 200)' }))) };
    const outbox = new Outbox();
    // act
    const outcomes = await withOutbox(slackOnly, outbox).send(request);
    // assess
    expect(sent.map((n) => n.channels)).toEqual([['slack']]);
    expect(outcomes).toEqual([
      { channel: 'slack', ok: true, detail: 'posted (HTTP 200)' },
      { channel: 'email', ok: true, detail: 'kept in the local outbox (OUT-000001)', person: 'John Park' },
      { channel: 'email', ok: true, detail: 'kept in the local outbox (OUT-000002)', person: 'Chen Jie' },
    ]);
    expect(outbox.list({ channel: 'slack' })).toEqual([]);
  });
});

describe('the outbox of npm start', () => {
  let redis: Redis;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    redis = new Redis({ db: DB, lazyConnect: true });
    await redis.connect();
  });
  afterAll(async () => {
    await redis.quit();
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  const start = async () => {
    agent = await startLocal({ port: 0, dataDir: path.join(dir, 'data'), speedUp: 60, redisUrl: `redis://127.0.0.1:6379/${DB}`, log: () => undefined });
    return agent;
  };
  const api = (a: RunningAgent, p: string, init: RequestInit = {}, token: string | null = a.token) =>
    fetch(`${a.url}${p}`, { ...init, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) } });

  async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('keeps the approval request with working signed links, hands links out only with the token, and keeps them across a restart', async () => {
    // arrange: memory stays high after the cleanup → the scale-up waits for oncall_sre + team_lead
    await redis.flushdb();
    const a = await start();
    await api(a, '/api/metrics', { method: 'POST', body: JSON.stringify([{ name: 'redis_memory_usage', value: 92 }, { name: 'redis_evicted_keys', value: 0 }]) });
    const opened = (await (await api(a, '/events', { method: 'POST', body: JSON.stringify(alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage')) })).json()) as { results: { incidentId: string }[] };
    const id = opened.results[0]!.incidentId;
    const pending = await until(async () => {
      const list = (await (await api(a, '/api/approvals/pending')).json()) as PendingApproval[];
      return list.find((p) => p.incidentId === id && p.mayDecide.length >= 2);
    }, 'the scale-up approval');

    // assess: no token, no links
    expect((await api(a, '/api/outbox', {}, null)).status).toBe(401);
    expect((await api(a, '/api/approvals/pending', {}, null)).status).toBe(401);
    expect((await api(a, '/api/outbox?channel=fax')).status).toBe(400);

    // assess: the e-mail to each approver carries their own links, the same the pending list shows
    // The approval record is stored before its e-mails are sent, so the outbox may trail the pending list by a moment.
    type Email = { to: string[]; links?: { person: string; approveUrl: string }[]; kind: string };
    const requests = await until(async () => {
      const emails = (await (await api(a, `/api/outbox?incident=${id}&channel=email`)).json()) as Email[];
      const found = emails.filter((e) => e.kind === 'approval_request');
      return found.length >= pending.mayDecide.length ? found : undefined;
    }, 'the approval e-mails');
    // Who holds each role this week (playbooks/oncall.yaml rotates weekly).
    const holders = (await Promise.all(['oncall_sre', 'team_lead'].map(async (role) => (await a.engine.oncall!.whoIs(role, new Date())).map((p) => [`${p.name} (${role})`])))).flat();
    expect(requests.map((e) => e.to).sort()).toEqual(holders.sort());
    for (const d of pending.mayDecide) expect(requests.find((e) => e.links?.[0]?.person === d.person)?.links?.[0]?.approveUrl).toBe(d.approveUrl);

    // act: both approve through their links' confirmation forms (what a browser posts)
    const pages: string[] = [];
    for (const d of pending.mayDecide) {
      const link = new URL(d.approveUrl);
      const res = await fetch(`${a.url}${link.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: a.url }, body: link.searchParams.toString() });
      expect(res.status).toBe(200);
      pages.push(await res.text());
    }
    expect(pages[0]).toContain('The step still waits for 1 more approval(s)');
    expect(pages[1]).toContain('The step is approved: the playbook goes on.');
    // assess: the step ran (on the local replication group in front of --redis), nothing was "not configured"
    const events = await until(async () => {
      const t = await getTimeline(a.engine.doc, a.engine.tables, id);
      return t.some((e) => e.step === 'scale_redis_cluster' && e.type === 'action') ? t : undefined;
    }, 'the scale-up to run');
    expect(events.filter((e) => e.type.startsWith('notification') && e.summary.includes('not configured'))).toEqual([]);
    expect(events.some((e) => e.type === 'notification_sent' && e.summary.includes('kept in the local outbox'))).toBe(true);

    // act: restart on the same data folder
    const before = (await (await api(a, '/api/outbox?limit=1000')).json()) as { id: string }[];
    await a.stop();
    agent = undefined;
    const b = await start();
    // assess: everything is still there, newest first
    const after = (await (await api(b, '/api/outbox?limit=1000')).json()) as { id: string }[];
    expect(after.map((e) => e.id).slice(-before.length)).toEqual(before.map((e) => e.id));
    expect(readFileSync(path.join(dir, 'data', 'outbox.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(before.length);
  }, 90_000);
});
