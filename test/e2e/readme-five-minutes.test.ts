/**
 * The README's "Try it in five minutes", as a newcomer follows it: the engine as `npm start --
 * --speed-up 10` runs it (in memory, the Kubernetes sandbox, the outbox on), the three CLI
 * commands, the dashboard in Debian's chromium with the address npm start prints. The incident
 * waits for the on-call SRE's approval of enable_rate_limiting; `sre-agent approvals` and the
 * outbox carry that person's signed links; the page approves it; the rate limit is set; no breaker
 * opened on the way (the README's example once opened the data-collection breaker). With
 * SRE_AGENT_DOCS_SCREENSHOT=1 the page waiting for approval becomes docs/dashboard.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { run } from '../../bin/cli';
import { startLocal, type RunningAgent } from '../../lib/local/main';
import { expectNoDenials } from '../helpers/iam';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '../../reports/screenshots');
const DOCS_SHOT = process.env.SRE_AGENT_DOCS_SCREENSHOT === '1' ? path.resolve(__dirname, '../../docs/dashboard.png') : undefined;

declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };

let agent: RunningAgent;
let browser: Browser;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(['node', 'sre-agent', ...args, '--url', agent.url], { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: .ci/run installs Debian's chromium (apt-get install chromium), or set CHROMIUM_PATH`);
  mkdirSync(SHOTS, { recursive: true });
  agent = await startLocal({ port: 0, speedUp: 10, iamCheck: true, log: () => undefined });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await agent?.stop();
  if (agent) expectNoDenials(agent.engine);
});

describe('README: try it in five minutes', () => {
  it('traffic-surge: the scale-ups run, the rate limit waits for the on-call SRE, who approves it from the dashboard', async () => {
    // act: the README's commands
    expect((await cli('metric', 'put', 'api_latency_p99', '350', '--service', 'trading-api')).code).toBe(0);
    expect((await cli('metric', 'put', 'api_request_rate', '42000', '--service', 'trading-api')).code).toBe(0);
    const alarm = await cli('alarm', 'traffic-surge');
    expect(alarm).toMatchObject({ code: 0, err: '' });
    const incidentId = (JSON.parse(alarm.out) as { results: { incidentId: string }[] }).results[0]!.incidentId;
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${agent.url}/#token=${agent.token}`);

    // assess: waiting for the on-call SRE, with the links where the README says
    await page.waitForSelector('[data-approval] [data-approve]', { timeout: 60_000 });
    const sre = (await agent.engine.oncall!.whoIs('oncall_sre', new Date()))[0]!.name;
    expect(await page.locator('[data-approval] strong').textContent()).toBe('enable_rate_limiting');
    const approvals = await cli('approvals');
    expect(approvals.out).toContain(`step enable_rate_limiting: 1 of oncall_sre`);
    expect(approvals.out).toContain(`${sre} (oncall_sre)`);
    expect(approvals.out).toMatch(new RegExp(`approve: ${agent.url.replace(/[.]/g, '\\.')}/approvals/[0-9a-f-]{36}\\?person=`));
    const pendingJson = JSON.parse((await cli('approvals', '--json')).out) as { step: string; mayDecide: { person: string; role: string; approveUrl: string; rejectUrl: string }[] }[];
    expect(pendingJson).toEqual([expect.objectContaining({ step: 'enable_rate_limiting', mayDecide: [expect.objectContaining({ person: sre, role: 'oncall_sre', approveUrl: expect.stringContaining('decision=approve'), rejectUrl: expect.stringContaining('decision=reject') })] })]);
    await page.waitForFunction((name) => (document.querySelector('#outbox')?.textContent ?? '').includes(`email → ${name}`), sre, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('#graph')?.getAttribute('data-current')?.startsWith('enable_rate_limiting: approval'), undefined, { timeout: 30_000 });
    const timeline = (await page.locator('#timeline tbody tr td:nth-child(4)').allTextContents()).join('\n');
    expect(timeline).toMatch(/HPA trading\/trading-api maxReplicas 20 → 40/);
    expect(timeline).toContain('kept in the local outbox (OUT-');
    expect(timeline).not.toContain('not configured');
    await page.screenshot({ path: path.join(SHOTS, 'readme-waiting-for-approval.png') });
    if (DOCS_SHOT) await page.screenshot({ path: DOCS_SHOT });

    // act: approve from the page as this week's on-call SRE
    await page.selectOption('select[data-approval-person]', { label: `${sre} (oncall_sre)` });
    await page.click('[data-approve]');

    // assess: the rate limit is set, and no breaker opened on the way
    await page.waitForFunction(() => [...(document as unknown as { querySelectorAll(s: string): { textContent: string }[] }).querySelectorAll('#timeline tr[data-type="action"]')].some((r) => r.textContent.includes('rate_limit_enabled=true')), undefined, { timeout: 30_000 });
    const breakers = (await (await fetch(`${agent.url}/api/breakers`)).json()) as { scope: string; state: string }[];
    expect(breakers.filter((b) => b.state !== 'CLOSED')).toEqual([]);
    await page.screenshot({ path: path.join(SHOTS, 'readme-approved.png') });
    expect(errors).toEqual([]);
    expect(incidentId).toMatch(/^INC-\d{8}-\d{3}$/);
    await page.close();
  }, 150_000);
});
