/**
 * Reports on the local engine across a restart (README "Post-incident report", issue 14 local
 * side): `startLocal` on a data folder, a redis-memory-pressure incident from an alarm carrying
 * CloudWatch's evaluatedDatapoints; while it waits for an approval its report is built on demand
 * (in progress, not stored); once the agent sees the recovery it resolves it and stores the final
 * report; the engine stops and starts again on the same folder and serves that stored report
 * (Markdown zh-CN and en, JSON) unchanged. An incident left running at the stop is failed by the
 * stop (LocalEngineStopped); its stored report is served after the restart too.
 * Real Redis (DB 4) for the cleanup step, dynalite in the data folder, HTTP through the API.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import type { IncidentReportData } from '../../lib/report';
import { alarmEvent } from '../helpers/events';

const DB = 4;
const ALARM = 'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage';
const SPEED_UP = 200; // approval windows 10/15/30 min → 3/4.5/9 s

let dir: string;
let dataDir: string;
let agent: RunningAgent | undefined;
let redis: Redis;

const start = () => startLocal({ port: 0, dataDir, speedUp: SPEED_UP, redisUrl: `redis://127.0.0.1:6379/${DB}`, kube: false, log: () => undefined });

async function api<T = unknown>(method: 'GET' | 'POST', p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${agent!.url}${p}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${agent!.token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`);
  return (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T;
}

const putMemory = (percent: number) => api('POST', '/api/metrics', [{ name: 'redis_memory_usage', value: percent }, { name: 'redis_evicted_keys', value: 0 }]);

/** An incident's status and timeline, for a failure message. */
async function story(id: string): Promise<string> {
  const { incident, timeline } = await api<{ incident: { status: string }; timeline: { at: string; type: string; step?: string; summary: string }[] }>('GET', `/api/incidents/${id}`);
  return `${id} ${incident.status}:\n${timeline.map((e) => `  ${e.at.slice(11, 19)} ${e.type} ${e.step ?? ''} ${e.summary}`).join('\n')}`;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs: number, incidentId?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${incidentId ? `\n${await story(incidentId)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The alarm as CloudWatch sends it for `redis_memory_usage > 85%` over 3 of 4 one-minute periods: the first breach two minutes before the state change. */
function alarmWithDatapoints(at: Date) {
  const event = alarmEvent(ALARM, { at });
  const cw = (d: Date) => d.toISOString().replace('Z', '+0000');
  const period = (k: number) => new Date(Math.floor(at.getTime() / 60_000) * 60_000 - k * 60_000);
  const values = [0.93, 0.91, 0.88, 0.8]; // newest first
  event.detail.state.reason = `Threshold Crossed: 3 out of the last 4 datapoints [0.93, 0.91, 0.88] were greater than the threshold (0.85) (minimum 3 datapoints for OK -> ALARM transition).`;
  event.detail.state.reasonData = JSON.stringify({
    version: '1.0',
    queryDate: cw(at),
    startDate: cw(period(4)),
    statistic: 'Maximum',
    period: 60,
    recentDatapoints: values,
    threshold: 0.85,
    evaluatedDatapoints: values.map((value, i) => ({ timestamp: cw(period(i + 1)), sampleCount: 1, value })),
  });
  return { event, firstBreach: period(3).toISOString() };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-report-restart-'));
  dataDir = path.join(dir, 'data');
  redis = new Redis({ db: DB, lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  for (let i = 0; i < 20; i += 1) await redis.set(`cache:report-restart:${i}`, `v${i}`);
  await redis.set('session:report-restart:1', 'keep');
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  await redis?.flushdb();
  await redis?.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports on the local engine', () => {
  it('builds a running incident\'s report on demand, stores the final one, and serves it unchanged after a restart on the same data folder', async () => {
    // arrange: memory above 85%, then the alarm with its datapoints
    agent = await start();
    await putMemory(91);
    const at = new Date();
    const { event, firstBreach } = alarmWithDatapoints(at);
    const id = (await api<{ results: { incidentId: string }[] }>('POST', '/events', event)).results[0]!.incidentId;
    const reportFile = path.join(dataDir, 'reports', `${id}.json`);

    // act 1: while the scale-up waits for its approval, the report of the running incident
    await waitFor(async () => ((await api<{ incidentId: string; step: string }[]>('GET', '/api/approvals?status=PENDING')).some((a) => a.incidentId === id && a.step === 'scale_redis_cluster') ? true : undefined), 'the scale-up approval', 30_000, id);
    const running = await api<IncidentReportData>('GET', `/api/incidents/${id}/report?format=json`);
    const runningZh = await api<string>('GET', `/api/incidents/${id}/report`);
    const runningEn = await api<string>('GET', `/api/incidents/${id}/report?lang=en`);
    // assess 1: in progress, built from the stored state, not stored as the final report
    expect(running.inProgress).toBe(true);
    expect(['AWAITING_APPROVAL', 'ESCALATED']).toContain(running.overview.status);
    expect(running.remediation.actions.map((a) => a.step)).toEqual(['flush_expired_keys']);
    expect(runningZh).toContain(`## 事件报告: ${id} (进行中)\n> 事件仍在处理中 (状态 ${running.overview.status})`);
    expect(runningEn).toContain(`## Incident report: ${id} (in progress)\n> In progress (status ${running.overview.status})`);
    expect(runningEn).toContain('- MTTR (time to recover): n/a (not recovered)');
    expect(existsSync(reportFile)).toBe(false);

    // act 2: the memory comes down; the agent's next recovery check resolves the incident
    const resolved = await waitFor(async () => {
      await putMemory(40);
      const { incident, timeline } = await api<{ incident: { status: string }; timeline: { type: string }[] }>('GET', `/api/incidents/${id}`);
      return incident.status === 'RESOLVED' && timeline.some((e) => e.type === 'report_written') ? incident : undefined;
    }, 'the incident to resolve and its report to be written', 90_000, id);
    expect(resolved.status).toBe('RESOLVED');
    const json = await api<IncidentReportData>('GET', `/api/incidents/${id}/report?format=json`);
    const zh = await api<string>('GET', `/api/incidents/${id}/report?lang=zh-CN`);
    const en = await api<string>('GET', `/api/incidents/${id}/report?lang=en`);
    // a second incident, left running when the engine stops
    await putMemory(92);
    const second = (await api<{ results: { incidentId: string }[] }>('POST', '/events', alarmEvent(ALARM))).results[0]!.incidentId;
    await waitFor(async () => ((await api<{ incidentId: string }[]>('GET', '/api/approvals?status=PENDING')).some((a) => a.incidentId === second) ? true : undefined), 'the second incident to wait for its approval', 30_000, second);
    await agent.stop();
    agent = undefined;

    // act 3: the engine starts again on the same data folder
    agent = await start();
    const after = await api<IncidentReportData>('GET', `/api/incidents/${id}/report?format=json`);
    const afterZh = await api<string>('GET', `/api/incidents/${id}/report`);
    const afterEn = await api<string>('GET', `/api/incidents/${id}/report?lang=en`);
    const stopped = await api<IncidentReportData>('GET', `/api/incidents/${second}/report?format=json`);
    const stoppedEn = await api<string>('GET', `/api/incidents/${second}/report?lang=en`);

    // assess: the stored report, as it was before the restart (same build), with the facts of the run
    expect(JSON.parse(readFileSync(reportFile, 'utf8'))).toEqual(json);
    expect(after).toEqual(json);
    expect(afterZh).toBe(zh);
    expect(afterEn).toBe(en);
    expect(after.inProgress).toBe(false);
    expect(after.overview.status).toBe('RESOLVED');
    expect(after.remediation.actions.map((a) => `${a.step}: ${a.action}`)).toEqual(['flush_expired_keys: redis_command']);
    expect(after.metrics.mttdFrom).toEqual({ basis: 'first_breaching_datapoint', at: firstBreach });
    expect(after.metrics.mttdSeconds).toBe((Date.parse(after.overview.detectedAt) - Date.parse(firstBreach)) / 1000);
    expect(after.metrics.mttrSeconds).toBeGreaterThan(0);
    expect(afterZh).toMatch(new RegExp(`^## 事件报告: ${id}\\n`));
    expect(afterZh).toContain('确认恢复，关闭事件');
    expect(afterZh).toContain(`(自首个越过阈值的数据点 ${firstBreach.slice(11, 16)} UTC)`);
    expect(afterEn).toContain('Recovery confirmed, incident closed');
    expect(afterEn).toContain(`- MTTD (time to detect): ${Math.round(after.metrics.mttdSeconds! / 60)} min (from the first breaching datapoint, ${firstBreach.slice(11, 16)} UTC)`);
    expect(afterEn).not.toContain('in progress');
    // the incident the last process was working on: failed by the stop (LocalEngineStopped), closed, so its stored report
    expect(stopped.inProgress).toBe(false);
    expect(stopped.overview.status).toBe('FAILED');
    expect(JSON.parse(readFileSync(path.join(dataDir, 'reports', `${second}.json`), 'utf8'))).toEqual(stopped);
    expect(stoppedEn).toContain('Incident failed: AWAITING_APPROVAL → FAILED: playbook execution FAILED: LocalEngineStopped');
    // the second alarm had no datapoints (the AWS sample's reasonData): MTTD from startDate, said so
    expect(stopped.metrics.mttdFrom).toMatchObject({ basis: 'start_date', fallback: 'reasonData has no evaluatedDatapoints' });
  }, 240_000);
});
