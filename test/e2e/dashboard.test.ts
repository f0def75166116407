/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium, which .ci/run
 * installs): open it with the address npm start prints, watch an incident wait for approval,
 * approve the step from the page as the roster's holders of both roles, and see the timeline
 * advance and the graph's position move; the investigation (a constructed `investigation_completed`
 * event, issue 13's contract) shows ranked hypotheses with confidence bars, the trend's ETA and the
 * risk score; the outbox holds each approver's e-mail with their own signed links; the running
 * incident's report renders in progress, with its links; once the metrics recover the incident
 * resolves and its final report renders; an open breaker is reset from the page.
 * Without the token the page is read-only, and the page itself never carries the token.
 * Screenshots go to reports/screenshots/ (test artifacts); with SRE_AGENT_DOCS_SCREENSHOT=1 the
 * first also goes to docs/dashboard-investigation.png (the README's).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tripServiceBreaker } from '../../lib/breaker';
import { appendEvent } from '../../lib/incident';
import { expectNoDenials } from '../helpers/iam';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { alarmEvent } from '../helpers/events';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../reports/screenshots');
const DOCS_SHOT = process.env.SRE_AGENT_DOCS_SCREENSHOT === '1' ? path.resolve(__dirname, '../../docs/dashboard-investigation.png') : undefined;
const DB = 12;

// The page's own global, for the functions Playwright runs in the browser (tsconfig has no DOM lib:
// the code under test runs in Node).
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };

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

/** The optional LLM summary as `Conclude investigation` stores it beside the result (data.llmSummary). */
const LLM_SUMMARY = {
  model: 'anthropic.claude-3-haiku-20240307-v1:0',
  text: '大 Key 占用了大部分内存 (置信度 72%)。\n\nBig keys hold most of the memory (confidence 72%).',
  generatedAt: '2026-12-07T12:16:02.000Z',
  label: 'LLM summary (Bedrock anthropic.claude-3-haiku-20240307-v1:0), advisory; decides nothing',
};

/** An investigation as lib/analysis (issue 13) records it: data.investigation of investigation_completed. */
const INVESTIGATION = {
  startedAt: new Date(Date.now() - 4000).toISOString(),
  completedAt: new Date().toISOString(),
  hypotheses: [
    { id: 'big-keys', statement: '大 Key 占用大部分内存', statementEn: 'Big keys under cache:session:* hold most of the memory', confidence: 0.72, evidence: [{ label: 'largest key', value: 'cache:session:9f2 (48 MB)', source: 'redis:memory usage' }], suggestion: '清理大 Key' },
    { id: 'traffic-growth', statement: '流量增长', statementEn: 'Traffic growth', confidence: 0.35, evidence: [] },
  ],
  trend: { metric: 'redis_memory_usage', threshold: 0.95, status: 'crossing', etaSeconds: 240, etaLowSeconds: 180, etaHighSeconds: 360, slopePerMinute: 0.0075, points: 12 },
  risk: { score: 0.72, level: 'HIGH', factors: { blast_radius: 0.6, reversibility: 0.8 }, suggestion: '建议先清理大 Key 再扩容' },
  similar: [],
  checks: [
    { name: 'redis:info', status: 'ok' },
    { name: 'kube:deployments', status: 'timed_out', error: 'no answer in 5 s' },
  ],
};

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
    const incidentId = (await page.locator('#incidents tbody tr').first().getAttribute('data-incident'))!;

    // The investigation as issue 13 writes it (constructed here): ranked, with bars, trend and risk.
    await appendEvent(agent.engine.doc, agent.engine.tables, incidentId, { at: new Date(), type: 'investigation_completed', summary: '调查完成: 大 Key 占用内存 (置信度 72%)', data: { investigation: INVESTIGATION, llmSummary: LLM_SUMMARY } });
    await page.waitForSelector('[data-hypothesis="big-keys"]', { timeout: 10_000 });
    expect(await page.locator('.hypotheses > li').evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-hypothesis'), li.getAttribute('data-confidence')]))).toEqual([
      ['big-keys', '72'],
      ['traffic-growth', '35'],
    ]);
    expect(await page.locator('[data-hypothesis="big-keys"] .bar .fill').evaluate((f) => (f as unknown as { style: { width: string } }).style.width)).toBe('72%');
    expect(await page.locator('[data-hypothesis="big-keys"]').textContent()).toContain('Big keys under cache:session:* hold most of the memory');
    expect(await page.locator('#investigation .trend').textContent()).toBe('Trend: redis_memory_usage reaches 0.95 in about 4 min, between 3 min and 6 min (12 points, +0.0075/min)');
    expect(await page.locator('#investigation .risk').textContent()).toContain('HIGH (0.72) — 建议先清理大 Key 再扩容');
    expect(await page.locator('#investigation .checks').textContent()).toBe('Checks without an answer: kube:deployments timed out (no answer in 5 s)');
    // The optional LLM summary: only with its label, in the panel and on the event's timeline row.
    expect(await page.locator('#investigation .llm-summary').textContent()).toBe(`${LLM_SUMMARY.label}: ${LLM_SUMMARY.text}`);
    await page.waitForSelector('#timeline tr[data-type="investigation_completed"] .llm-summary', { timeout: 10_000 });
    expect(await page.locator('#timeline tr[data-type="investigation_completed"] .llm-summary').first().textContent()).toBe(`${LLM_SUMMARY.label}: ${LLM_SUMMARY.text}`);

    // The outbox: one e-mail per approver, each with only their own signed links.
    // Who holds each role this week (the rotation file's weekly rotation).
    const holder = async (role: string) => (await agent.engine.oncall!.whoIs(role, new Date()))[0]!.name;
    const sre = await holder('oncall_sre');
    const lead = await holder('team_lead');
    await page.waitForFunction((name) => (document.querySelector('#outbox')?.textContent ?? '').includes(`email → ${name}`), lead, { timeout: 10_000 });
    const mails = await page.locator('#outbox details summary').allTextContents();
    expect(mails.filter((m) => m.includes(`email → ${sre} (oncall_sre)`))).toHaveLength(1);
    expect(mails.filter((m) => m.includes(`email → ${lead} (team_lead)`))).toHaveLength(1);
    const sreMail = (await page.locator('#outbox details', { hasText: `email → ${sre}` }).locator('pre').textContent())!;
    expect(sreMail).toContain(`${agent.url}/approvals/`);
    expect(sreMail).toContain(new URLSearchParams({ person: sre }).toString());
    expect(sreMail).not.toContain(new URLSearchParams({ person: lead }).toString());
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-waiting-for-approval.png') });
    if (DOCS_SHOT) await page.screenshot({ path: DOCS_SHOT });

    // The report of the running incident: built on demand, labelled in progress, linked in both languages and as JSON.
    await page.click('#report-button');
    await page.waitForFunction((id) => (document.querySelector('#report')?.textContent ?? '').includes(`事件报告: ${id} (进行中)`), incidentId, { timeout: 10_000 });
    expect(await page.locator('#report-links').textContent()).toBe('in progress: Markdown 中文 · Markdown English · JSON');
    expect(await page.locator('[data-report-link="en"]').getAttribute('href')).toBe(`/api/incidents/${incidentId}/report?format=md&lang=en`);
    const linked = await fetch(`${agent.url}${await page.locator('[data-report-link="json"]').getAttribute('href')}`);
    expect(((await linked.json()) as { inProgress: boolean }).inProgress).toBe(true);
    const events = async () => page.locator('#timeline tbody tr').count();
    const eventsBefore = await events();

    // act: the on-call SRE approves from the page
    const people = await page.locator('select[data-approval-person] option').allTextContents();
    expect(people).toEqual([`${sre} (oncall_sre)`, `${lead} (team_lead)`]);
    await page.selectOption('select[data-approval-person]', { label: `${sre} (oncall_sre)` });
    await page.click('[data-approve]');
    await page.waitForSelector('.approval .decided', { timeout: 10_000 });
    // The team lead chooses their name and starts typing a reason; the next poll re-renders the list
    // (a new select element). The choice, the reason and the focus survive it, so the click decides as
    // the lead, not as the first option a fresh select would show (a CI run once lost this race).
    await page.selectOption('select[data-approval-person]', { label: `${lead} (team_lead)` });
    await page.type('.approval input[aria-label="reason"]', 'big keys ');
    const oldSelect = await page.$('.approval select');
    await page.waitForFunction((old) => document.querySelector('.approval select') !== old, oldSelect, { timeout: 10_000 });
    await page.keyboard.type('checked');
    expect(await page.locator('select[data-approval-person] option:checked').textContent()).toBe(`${lead} (team_lead)`);
    expect(await page.inputValue('.approval input[aria-label="reason"]')).toBe('big keys checked');
    await page.click('[data-approve]');

    // assess: no longer pending; the decisions are on the timeline; the graph moved on
    await page.waitForSelector('#approvals .empty', { timeout: 30_000 });
    // (the memory comes down as the scale-up runs: the check after it will see the recovery)
    await post('/api/metrics', [{ name: 'redis_memory_usage', value: 50 }, { name: 'redis_evicted_keys', value: 0 }]);
    await page.waitForFunction((was) => document.querySelector('#graph')?.getAttribute('data-current') !== was, before, { timeout: 30_000 });
    expect(await events()).toBeGreaterThan(eventsBefore);
    const summaries = (await page.locator('#timeline tbody tr td:nth-child(4)').allTextContents()).join('\n');
    expect(summaries).toContain(sre);
    expect(summaries).toContain(lead);
    expect(summaries).toContain('big keys checked');
    expect(await page.locator('#graph').getAttribute('data-visited')).toContain('scale_redis_cluster');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-after-approval.png') });

    // act: the scale-up ran on the local replication group; the recovery check after it sees the memory down
    await page.waitForSelector('#timeline tr[data-type="report_written"]', { timeout: 90_000 });
    expect(await page.locator('#timeline tr[data-type="action"]', { hasText: 'local-redis' }).count()).toBeGreaterThan(0);
    await page.click('#report-button');

    // assess: closed in the list, its report rendered (Markdown → HTML, no raw HTML)
    await page.waitForSelector('#report h1, #report h2', { timeout: 10_000 });
    expect(await page.locator('#report').textContent()).toContain(incidentId);
    await page.waitForFunction((id) => document.querySelector(`tr[data-incident="${id}"] .status`)?.textContent === 'RESOLVED', incidentId, { timeout: 10_000 });
    // The final report replaces the in-progress one.
    await page.waitForFunction((id) => { const t = document.querySelector('#report')?.textContent ?? ''; return t.includes(`事件报告: ${id}`) && !t.includes('进行中'); }, incidentId, { timeout: 10_000 });
    expect(await page.locator('#report-links').textContent()).toBe('Markdown 中文 · Markdown English · JSON');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-report.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('resets an open breaker from the page', async () => {
    // arrange
    await tripServiceBreaker(agent.engine.doc, agent.engine.tables, {}, new Date(), { service: 'order-consumer', reason: 'three failed remediations in an hour (test)' });
    const { page, errors } = await openPage(true);
    await page.waitForSelector('[data-reset="order-consumer"]', { timeout: 10_000 });
    const row = page.locator('#breakers tr', { has: page.locator('[data-reset="order-consumer"]') });
    expect(await row.locator('.breaker').textContent()).toBe('OPEN');
    // act
    await page.click('[data-reset="order-consumer"]');
    // assess
    await page.waitForSelector('[data-reset="order-consumer"]', { state: 'detached', timeout: 10_000 });
    const breakers = (await (await fetch(`${agent.url}/api/breakers`)).json()) as { service?: string; state: string }[];
    expect(breakers.find((b) => b.service === 'order-consumer')?.state).toBe('CLOSED');
    expect(await page.locator('#error').textContent()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

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
