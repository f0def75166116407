/**
 * Nothing stuck after a crash: `sre-agent start` runs as a child process on a data folder with a
 * real Redis target; redis-memory-pressure reaches its scale-up approval (AWAITING_APPROVAL);
 * the process is killed with SIGKILL; a new engine on the same folder hands the incident to
 * people (ESCALATED, LocalEngineRestarted), expires its approval, and the next alarm opens a
 * new incident instead of joining the dead one. On the old code the incident stayed
 * AWAITING_APPROVAL for ever and new alarms joined it and started nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { findApprovalForStep } from '../../lib/approval/store';
import { getIncident, getTimeline } from '../../lib/incident';
import { startLocal } from '../../lib/local/main';
import { readApiToken } from '../../lib/local/api-token';
import { alarmEvent } from '../helpers/events';

const REPO = path.resolve(__dirname, '../..');
const DB = 11;
const RUN = `crash-${process.pid}`;
let dir: string;
let child: ChildProcess | undefined;
let redis: Redis;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-crash-'));
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: DB });
  for (let i = 0; i < 3; i += 1) await redis.set(`cache:${RUN}:${i}`, 'x');
});

afterAll(async () => {
  child?.kill('SIGKILL');
  const keys = await redis.keys(`*${RUN}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `sre-agent start` and resolves with its URL once its banner says where it listens. */
function startChild(dataDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [path.join(REPO, 'bin/sre-agent-cli.js'), 'start', '--data-dir', dataDir, '--port', '0', '--redis', `redis://127.0.0.1:6379/${DB}`], {
      cwd: REPO,
      env: { ...process.env, SRE_AGENT_PAGERDUTY_ROUTING_KEY: '', SRE_AGENT_SLACK_WEBHOOK_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c) => {
      out += String(c);
      const m = /local engine at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (c) => (out += String(c)));
    child.on('exit', (code) => reject(new Error(`sre-agent start exited (${code}) before listening:\n${out}`)));
  });
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a local engine killed mid-incident', () => {
  it('hands the incident to people on restart, expires its approval, and lets the next alarm open a new incident', async () => {
    // prepare: the engine, an alarm, memory that stays high → the scale-up waits for approval
    const dataDir = path.join(dir, 'data');
    const url = await startChild(dataDir);
    const token = readApiToken(path.join(dataDir, 'api-token'))!;
    const post = (p: string, body: unknown) => fetch(`${url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    await post('/api/metrics', { name: 'redis_memory_usage', value: 92 });
    const opened = (await (await post('/events', alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage'))).json()) as { results: { incidentId: string }[] };
    const id = opened.results[0]!.incidentId;
    await until(async () => {
      const res = (await (await fetch(`${url}/api/incidents/${id}`)).json()) as { incident: { status: string } };
      return res.incident.status === 'AWAITING_APPROVAL' ? true : undefined;
    }, 'the scale-up approval');
    // act: kill -9, then start again on the same folder
    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    const agent = await startLocal({ port: 0, dataDir, speedUp: 1, redisUrl: `redis://127.0.0.1:6379/${DB}`, log: () => undefined });
    try {
      // assess: handed to people, approval expired, reported at start
      const { engine } = agent;
      expect(engine.reconciled?.escalated).toEqual([id]);
      const incident = await getIncident(engine.doc, engine.tables, id);
      expect(incident.status).toBe('ESCALATED');
      const events = await getTimeline(engine.doc, engine.tables, id);
      expect(events.find((e) => e.type === 'status_changed' && e.summary.startsWith('AWAITING_APPROVAL → ESCALATED'))?.summary).toContain('LocalEngineRestarted');
      expect(await findApprovalForStep(engine.doc, engine.tables, id, 'scale_redis_cluster')).toMatchObject({ status: 'EXPIRED', closedReason: expect.stringContaining('LocalEngineRestarted') });
      // The next alarm opens a new incident (under the breakers' rules), and its execution starts.
      const next = (await (await fetch(`${agent.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` }, body: JSON.stringify(alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage', { at: new Date(Date.now() + 1000) })) })).json()) as { results: { outcome: string; incidentId: string }[] };
      expect(next.results[0]).toMatchObject({ outcome: 'started' });
      expect(next.results[0]!.incidentId).not.toBe(id);
    } finally {
      await agent.stop();
    }
  }, 60_000);
});
