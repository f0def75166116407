/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium, which .ci/run
 * installs): open it with the address npm start prints, watch an incident wait for approval,
 * approve the step from the page as the roster's holders of both roles, and see the timeline
 * advance and the graph's position move. Without the token the page is read-only, and the page
 * itself never carries the token. Screenshots go to reports/screenshots/ (test artifacts).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expectNoDenials } from '../helpers/iam';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { alarmEvent } from '../helpers/events';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../reports/screenshots');
const DB = 12;

// The page's own global, for the functions Playwright runs in the browser (tsconfig has no DOM lib:
// the code under test runs in Node).
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };

let dir: string;
let agent: RunningAgent;
let browser: Browser;
let redis: Redis;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: .ci/run installs Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-dashboard-'));
  redis = new Redis({ db: DB, lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  agent = await startLocal({ port: 0, dataDir: path.join(dir, 'data'), speedUp: 20, redisUrl: `redis://127.0.0.1:6379/${DB}`, iamCheck: true, log: () => undefined });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  if (agent) expectNoDenials(agent.engine);
  await redis?.quit();
  rmSync(dir, { recursive: true, force: true });
});

async function openPage(withToken: boolean): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${agent.url}/${withToken ? `#token=${agent.token}` : ''}`);
  return { page, errors };
}

const post = (p: string, body: unknown) => fetch(`${agent.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` }, body: JSON.stringify(body) });

describe('the dashboard', () => {
  it('serves a page that holds no token, under a CSP that allows only its own scripts', async () => {
    // act
    const res = await fetch(`${agent.url}/`);
    const html = await res.text();
    // assess
    expect(html).not.toContain(agent.token);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline\'; connect');
    expect((await fetch(`${agent.url}/assets/mermaid.min.js`)).status).toBe(200);
  });

  it('lets the approvers approve a waiting step from the page; the timeline advances and the position moves', async () => {
    // arrange: memory stays high after the cleanup → the scale-up waits for oncall_sre + team_lead
    await post('/api/metrics', [{ name: 'redis_memory_usage', value: 92 }, { name: 'redis_evicted_keys', value: 0 }]);
    const { page, errors } = await openPage(true);
    await post('/events', alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage'));
    await page.waitForSelector('[data-approve]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('#graph')?.getAttribute('data-current')?.startsWith('scale_redis_cluster'), undefined, { timeout: 30_000 });
    // The token left the address bar (kept for this tab only).
    expect(page.url()).not.toContain(agent.token);
    const before = await page.locator('#graph').getAttribute('data-current');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-waiting-for-approval.png') });
    const events = async () => page.locator('#timeline tbody tr').count();
    const eventsBefore = await events();

    // act: the on-call SRE approves, then the team lead
    const people = await page.locator('select[data-approval-person] option').allTextContents();
    expect(people).toEqual(['John Park (oncall_sre)', 'Chen Jie (team_lead)']);
    await page.selectOption('select[data-approval-person]', { label: 'John Park (oncall_sre)' });
    await page.click('[data-approve]');
    await page.waitForSelector('.approval .decided', { timeout: 10_000 });
    await page.selectOption('select[data-approval-person]', { label: 'Chen Jie (team_lead)' });
    await page.click('[data-approve]');

    // assess: no longer pending; the decisions are on the timeline; the graph moved on
    await page.waitForSelector('#approvals .empty', { timeout: 30_000 });
    await page.waitForFunction((was) => document.querySelector('#graph')?.getAttribute('data-current') !== was, before, { timeout: 30_000 });
    expect(await events()).toBeGreaterThan(eventsBefore);
    const summaries = (await page.locator('#timeline tbody tr td:nth-child(4)').allTextContents()).join('\n');
    expect(summaries).toMatch(/John Park/);
    expect(summaries).toMatch(/Chen Jie/);
    expect(await page.locator('#graph').getAttribute('data-visited')).toContain('scale_redis_cluster');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-after-approval.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('is read-only without the token: no Approve buttons, and it says how to sign in', async () => {
    // arrange: another incident waiting for approval
    await post('/api/metrics', [{ name: 'redis_memory_usage', value: 93 }]);
    // act
    const { page, errors } = await openPage(false);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    // assess
    expect(await page.locator('#auth').textContent()).toBe('read-only');
    expect(await page.locator('[data-approve]').count()).toBe(0);
    expect(await page.locator('[data-reset]').count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
