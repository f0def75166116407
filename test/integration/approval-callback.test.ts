/**
 * The signed-link approval page (lib/approval/callback.ts) on real approval records in dynalite
 * (in-process, in memory; fresh tables per test) with recording fakes for SendTaskSuccess /
 * SendTaskFailure and the timeline; then the same page served over HTTP by the local server on a
 * LocalEngine in memory.
 */
import { approvalPage, type ApprovalPage, type ApprovalPageDeps } from '../../lib/approval/callback';
import { buildApprovalLinks, signApprovalLink, type SigningKey } from '../../lib/approval/links';
import { findApprovalForStep, getApproval, requestApproval, type ApprovalRecord, type NewApproval } from '../../lib/approval/store';
import { getTimeline, openOrJoinIncident, type NewTimelineEvent } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { LocalEngine } from '../../lib/local/engine';
import { testRoster } from '../helpers/roster';
import { localApprovalLinks, startServer, type LocalServer } from '../../lib/local/server';

const KEY: SigningKey = async () => Buffer.alloc(32, 42);
const BASE = 'https://approvals.example.test';
const ASKED_AT = new Date('2026-02-09T14:17:00.000Z');
const LATER = new Date('2026-02-09T14:18:00.000Z');
const TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAbH4+/level2/token==';

const APPROVAL: NewApproval = {
  incidentId: 'INC-20260209-001',
  step: 'rollback_matching_engine',
  action: 'kubectl_rollout_undo',
  level: 2,
  approvers: ['oncall_sre', 'matching_engine_owner'],
  minApprovals: 2,
  taskToken: TOKEN,
  timeoutSeconds: 600,
  totalSeconds: 600 + 900 + 1800,
  message: 'Roll back matching-engine v2.3.1 → v2.3.0: P99 <b>350ms</b> since deploy',
  risk: 'HIGH',
  binding: { action: 'kubectl_rollout_undo', paramsHash: 'a'.repeat(64), target: 'service:matching-engine' },
  params: { deployment: 'matching-engine' },
};

interface Calls {
  readonly success: { token: string; output: unknown }[];
  readonly failure: { token: string; error: string; cause: string }[];
  readonly events: { incidentId: string; event: NewTimelineEvent }[];
}

let dynamo: LocalDynamo;
let tables: { incidents: string; breakers: string; approvals: string };
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
});

afterAll(async () => {
  await dynamo.stop();
});

beforeEach(async () => {
  tableCount += 1;
  tables = { incidents: `incidents-${tableCount}`, breakers: `breakers-${tableCount}`, approvals: `approvals-${tableCount}` };
  await createTables(dynamo.client, tables);
});

/** Page dependencies on dynalite with recording fakes, and what they recorded. */
function harness(options: { now?: Date; sendTaskSuccess?: ApprovalPageDeps['sendTaskSuccess'] } = {}): { deps: ApprovalPageDeps; calls: Calls } {
  const calls: Calls = { success: [], failure: [], events: [] };
  const deps: ApprovalPageDeps = {
    doc: dynamo.doc,
    tables,
    key: KEY,
    now: () => options.now ?? LATER,
    oncall: testRoster({ oncall_sre: ['john', '<script>alert("x")</script>'], matching_engine_owner: ['mei'] }),
    sendTaskSuccess: options.sendTaskSuccess ?? ((token, output) => void calls.success.push({ token, output })),
    sendTaskFailure: (token, error, cause) => void calls.failure.push({ token, error, cause }),
    record: async (incidentId, event) => void calls.events.push({ incidentId, event }),
    from: { sourceIp: '203.0.113.7', userAgent: 'Mozilla/5.0 (approval test)' },
  };
  return { deps, calls };
}

function queryOf(url: string): Record<string, string> {
  const u = new URL(url);
  return { ...Object.fromEntries(u.searchParams), id: decodeURIComponent(u.pathname.split('/').at(-1) ?? '') };
}

const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[e]!);

/** The hidden fields of the page's form, as a browser would post them. */
function formOf(html: string): URLSearchParams {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, unescape(m[2]!));
  return form;
}

function get(url: string, deps: ApprovalPageDeps): Promise<ApprovalPage> {
  return approvalPage('GET', queryOf(url), undefined, deps);
}

/** Opens the link and submits its form, as a person in a browser does. */
async function submit(url: string, deps: ApprovalPageDeps, reason?: string): Promise<ApprovalPage> {
  const form = formOf((await get(url, deps)).html);
  if (reason !== undefined) form.set('reason', reason);
  return approvalPage('POST', queryOf(url), form.toString(), deps);
}

async function links(record: ApprovalRecord, person: string, role: string) {
  return buildApprovalLinks(BASE, record, person, role, KEY);
}

const status = async (approvalId: string) => (await getApproval(dynamo.doc, tables, approvalId)).status;
const refusals = (calls: Calls) => calls.events.filter((e) => e.event.type === 'approval_refused').map((e) => e.event.data?.reason);

describe('approval page (lib/approval/callback.ts)', () => {
  describe('GET', () => {
    it('shows a confirmation form and never decides', async () => {
      // GIVEN
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const { approveUrl } = await links(record, 'john', 'oncall_sre');
      // WHEN
      const page = await get(approveUrl, deps);
      // THEN
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      for (const text of ['INC-20260209-001', 'rollback_matching_engine', 'kubectl_rollout_undo', 'HIGH', 'oncall_sre', 'matching_engine_owner', '<form method="post">']) expect(page.html).toContain(text);
      expect(page.html).toContain('P99 &lt;b&gt;350ms&lt;/b&gt;');
      expect(page.html).not.toContain(TOKEN);
      expect(await status(record.approvalId)).toBe('PENDING');
      expect(calls.success).toEqual([]);
      expect(calls.failure).toEqual([]);
      expect(calls.events).toEqual([
        {
          incidentId: 'INC-20260209-001',
          event: expect.objectContaining({ type: 'approval_viewed', step: 'rollback_matching_engine', data: expect.objectContaining({ person: 'john', role: 'oncall_sre', sourceIp: '203.0.113.7', userAgent: 'Mozilla/5.0 (approval test)' }) }),
        },
      ]);
    });

    it('escapes what the link and the record carry', async () => {
      // GIVEN a person name with markup
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps } = harness();
      const { approveUrl } = await links(record, '<script>alert("x")</script>', 'oncall_sre');
      // WHEN
      const page = await get(approveUrl, deps);
      // THEN
      expect(page.status).toBe(200);
      expect(page.html).not.toContain('<script>');
      expect(page.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    });

    it("shows the step's resolved parameters, its note and the investigation (hypotheses, trend, risk)", async () => {
      // GIVEN a request carrying what requestStepApproval stores
      const analysis = ['根因分析 1: 部署 matching-engine v2.3.1 后异常开始 (置信度 85%) — deploy trading/matching-engine v2.3.1 (image): 15 min before the anomaly', '趋势预测: matching_engine_latency_p99 将在 30 分钟 内达到 100ms', '风险评估 (rollback_matching_engine): HIGH (0.66), 建议回滚，需人工确认影响'];
      const record = await requestApproval(dynamo.doc, tables, { ...APPROVAL, params: { deployment: 'matching-engine', to_revision: 7 }, note: 'ElastiCache <扩容> 会有短暂的 failover', analysis }, ASKED_AT);
      // WHEN
      const page = await get((await links(record, 'john', 'oncall_sre')).approveUrl, harness().deps);
      // THEN
      expect(page.html).toMatch(/<th>Parameters<\/th><td><pre>\{\n {2}&quot;deployment&quot;: &quot;matching-engine&quot;,\n {2}&quot;to_revision&quot;: 7\n\}<\/pre>/);
      expect(page.html).toContain('<th>Note</th><td><strong>ElastiCache &lt;扩容&gt; 会有短暂的 failover</strong>');
      for (const line of analysis) expect(page.html).toContain(`<li>${line}</li>`);
      expect(page.html.indexOf('根因分析 1')).toBeLessThan(page.html.indexOf('趋势预测'));
    });

    it('shows a reason field on the reject link', async () => {
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const page = await get((await links(record, 'john', 'oncall_sre')).rejectUrl, harness().deps);
      expect(page.html).toMatch(/<textarea id="reason" name="reason" required/);
    });
  });

  describe('POST', () => {
    it('needs every approver role: the first approval keeps the step PENDING, the second releases the execution once', async () => {
      // GIVEN
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      // WHEN the on-call SRE approves
      const first = await submit((await links(record, 'john', 'oncall_sre')).approveUrl, deps);
      // THEN
      expect(first.status).toBe(200);
      expect(first.html).toContain('still waits for 1 more approval(s) (matching_engine_owner)');
      expect(await status(record.approvalId)).toBe('PENDING');
      expect(calls.success).toEqual([]);
      // WHEN the matching-engine owner approves
      const second = await submit((await links(record, 'mei', 'matching_engine_owner')).approveUrl, deps);
      // THEN
      expect(second.status).toBe(200);
      expect(second.html).toContain('The step is approved: the playbook goes on.');
      expect(await status(record.approvalId)).toBe('APPROVED');
      expect(calls.success).toEqual([
        {
          token: TOKEN,
          output: {
            approvalId: record.approvalId,
            decisions: [
              { role: 'oncall_sre', person: 'john', decision: 'approve', at: LATER.toISOString() },
              { role: 'matching_engine_owner', person: 'mei', decision: 'approve', at: LATER.toISOString() },
            ],
          },
        },
      ]);
      expect(calls.failure).toEqual([]);
      const decided = calls.events.filter((e) => e.event.type === 'approval_approved').map((e) => e.event);
      expect(decided).toEqual([
        expect.objectContaining({ actor: 'john', summary: expect.stringContaining('john (oncall_sre) approved rollback_matching_engine (1 of 2'), data: expect.objectContaining({ sourceIp: '203.0.113.7', via: 'link' }) }),
        expect.objectContaining({ actor: 'mei', summary: expect.stringContaining('mei (matching_engine_owner) approved rollback_matching_engine'), data: expect.objectContaining({ status: 'APPROVED' }) }),
      ]);
    });

    it('refuses a replay of the same POST and calls nothing again', async () => {
      // GIVEN a step approved by both roles
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      await submit((await links(record, 'john', 'oncall_sre')).approveUrl, deps);
      const { approveUrl } = await links(record, 'mei', 'matching_engine_owner');
      const form = formOf((await get(approveUrl, deps)).html).toString();
      await approvalPage('POST', queryOf(approveUrl), form, deps);
      expect(calls.success).toHaveLength(1);
      // WHEN the same request comes again
      const replay = await approvalPage('POST', queryOf(approveUrl), form, deps);
      // THEN
      expect(replay.status).toBe(409);
      expect(replay.html).toContain('This decision was already made');
      expect(replay.html).toContain('Nothing was changed.');
      expect(calls.success).toHaveLength(1);
      expect(calls.failure).toEqual([]);
      expect(refusals(calls)).toEqual(['replayed']);
      expect((await getApproval(dynamo.doc, tables, record.approvalId)).decisions).toHaveLength(2);
    });

    it('refuses a replay of the first role while the step still waits for the second', async () => {
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const { approveUrl } = await links(record, 'john', 'oncall_sre');
      await submit(approveUrl, deps);
      const again = await submit(approveUrl, deps);
      expect(again.status).toBe(409);
      expect(refusals(calls)).toEqual(['replayed', 'replayed']);
      expect((await getApproval(dynamo.doc, tables, record.approvalId)).decisions).toHaveLength(1);
    });

    it('rejects the step with the reason, and fails the waiting task with ApprovalRejectedError', async () => {
      // GIVEN
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      // WHEN
      const page = await submit((await links(record, 'john', 'oncall_sre')).rejectUrl, deps, 'GC pauses, not the deploy');
      // THEN
      expect(page.status).toBe(200);
      expect(await status(record.approvalId)).toBe('REJECTED');
      expect(calls.failure).toEqual([{ token: TOKEN, error: 'ApprovalRejectedError', cause: 'john (oncall_sre) rejected rollback_matching_engine: GC pauses, not the deploy' }]);
      expect(calls.success).toEqual([]);
      expect(calls.events.map((e) => e.event.type)).toEqual(['approval_viewed', 'approval_rejected_by']);
    });

    it('asks again for a rejection without a reason, changing nothing', async () => {
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const page = await submit((await links(record, 'john', 'oncall_sre')).rejectUrl, deps, '   ');
      expect(page.status).toBe(400);
      expect(page.html).toContain('Give a reason for the rejection');
      expect(await status(record.approvalId)).toBe('PENDING');
      expect(calls.failure).toEqual([]);
    });

    it('works from the form fields alone, without the query string', async () => {
      const record = await requestApproval(dynamo.doc, tables, { ...APPROVAL, minApprovals: 1 }, ASKED_AT);
      const { deps, calls } = harness();
      const { approveUrl } = await links(record, 'john', 'oncall_sre');
      const page = await approvalPage('POST', { id: record.approvalId }, formOf((await get(approveUrl, deps)).html).toString(), deps);
      expect(page.status).toBe(200);
      expect(calls.success).toHaveLength(1);
    });

    it('keeps the decision when the execution no longer waits, and says so', async () => {
      // GIVEN a task token that timed out
      const record = await requestApproval(dynamo.doc, tables, { ...APPROVAL, minApprovals: 1 }, ASKED_AT);
      const { deps, calls } = harness({
        sendTaskSuccess: () => {
          throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
        },
      });
      // WHEN
      const page = await submit((await links(record, 'john', 'oncall_sre')).approveUrl, deps);
      // THEN
      expect(page.status).toBe(200);
      expect(page.html).toContain('the playbook had stopped waiting (TaskTimedOut: Task Timed Out)');
      expect(await status(record.approvalId)).toBe('APPROVED');
      expect(calls.events.map((e) => e.event.type)).toEqual(['approval_viewed', 'approval_approved', 'approval_release_failed']);
    });
  });

  describe('refusals: a clear page, a timeline event, nothing changed', () => {
    it.each(['GET', 'POST'])('refuses an expired link (%s)', async (method) => {
      // GIVEN the approval window closed
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { approveUrl } = await links(record, 'john', 'oncall_sre');
      const form = formOf((await get(approveUrl, harness().deps)).html).toString();
      const { deps, calls } = harness({ now: new Date(record.expiresAt) });
      // WHEN
      const page = await approvalPage(method, queryOf(approveUrl), method === 'POST' ? form : undefined, deps);
      // THEN
      expect(page.status).toBe(410);
      expect(page.html).toContain('This approval link has expired');
      expect(await status(record.approvalId)).toBe('PENDING');
      expect(calls.success).toEqual([]);
      expect(calls.events).toEqual([{ incidentId: 'INC-20260209-001', event: expect.objectContaining({ type: 'approval_refused', data: expect.objectContaining({ reason: 'expired', method, sourceIp: '203.0.113.7' }) }) }]);
      expect(calls.events[0]!.event.actor).toBeUndefined();
    });

    it('refuses a tampered signature without showing the record', async () => {
      // GIVEN
      const record = await requestApproval(dynamo.doc, tables, { ...APPROVAL, minApprovals: 1 }, ASKED_AT);
      const { deps, calls } = harness();
      const form = formOf((await get((await links(record, 'john', 'oncall_sre')).approveUrl, deps)).html);
      const sig = form.get('sig')!;
      form.set('sig', (sig.startsWith('A') ? 'B' : 'A') + sig.slice(1));
      // WHEN
      const page = await approvalPage('POST', { id: record.approvalId }, form.toString(), deps);
      // THEN
      expect(page.status).toBe(403);
      expect(page.html).toContain('This approval link was altered');
      expect(page.html).not.toContain('kubectl_rollout_undo');
      expect(await status(record.approvalId)).toBe('PENDING');
      expect(calls.success).toEqual([]);
      expect(refusals(calls)).toEqual(['tampered']);
    });

    it('refuses a link whose person was changed', async () => {
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const query = { ...queryOf((await links(record, 'john', 'oncall_sre')).approveUrl), person: 'mallory' };
      const page = await approvalPage('GET', query, undefined, deps);
      expect(page.status).toBe(403);
      expect(calls.events.map((e) => e.event.data?.claimed)).toEqual([{ person: 'mallory', role: 'oncall_sre', decision: 'approve' }]);
    });

    it.each(['GET', 'POST'])('refuses a validly signed link for a role that is not an approver (%s)', async (method) => {
      // GIVEN a link signed for "dba", not an approver of this step
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const url = await signApprovalLink(BASE, { approvalId: record.approvalId, person: 'dave', role: 'dba', decision: 'approve', expires: Date.parse(record.expiresAt) }, KEY);
      const query = queryOf(url);
      const { id: _id, ...signed } = query;
      // WHEN
      const page = await approvalPage(method, query, method === 'POST' ? new URLSearchParams(signed).toString() : undefined, deps);
      // THEN
      expect(page.status).toBe(403);
      expect(page.html).toContain('role &quot;dba&quot; is not an approver of step &quot;rollback_matching_engine&quot; (approvers: oncall_sre, matching_engine_owner)');
      expect(await getApproval(dynamo.doc, tables, record.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
      expect(refusals(calls)).toEqual(['wrong_approver']);
    });

    it('refuses the other role once one role rejected the step', async () => {
      // GIVEN
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      await submit((await links(record, 'john', 'oncall_sre')).rejectUrl, deps, 'not the deploy');
      // WHEN
      const page = await submit((await links(record, 'mei', 'matching_engine_owner')).approveUrl, deps);
      // THEN
      expect(page.status).toBe(409);
      expect(page.html).toContain('This step was already decided');
      expect(page.html).toContain('rollback_matching_engine&quot; of INC-20260209-001 is already REJECTED');
      expect(calls.failure).toHaveLength(1);
      expect(calls.success).toEqual([]);
      expect(refusals(calls)).toEqual(['already_decided', 'already_decided']);
    });

    it('keeps one id through escalation: a level-2 link still decides after level 3 asked, and releases level 3\'s task', async () => {
      // GIVEN level 2 timed out and level 3 asked again for the same step (a new task token, more people paged)
      const level2 = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const oldLinks = await links(level2, 'john', 'oncall_sre');
      const level3 = await requestApproval(dynamo.doc, tables, { ...APPROVAL, level: 3, taskToken: 'level3-token', timeoutSeconds: 900, totalSeconds: 900 + 1800 }, new Date('2026-02-09T14:27:00.000Z'));
      const { deps, calls } = harness();
      // WHEN both roles approve with the links they got at level 2
      await submit(oldLinks.approveUrl, deps);
      const page = await submit((await links(level2, 'mei', 'matching_engine_owner')).approveUrl, deps);
      // THEN one approval, one id, decided, and the task that waits now (level 3's) is released
      expect(level3.approvalId).toBe(level2.approvalId);
      expect(level3).toMatchObject({ level: 3, taskToken: 'level3-token', expiresAt: level2.expiresAt });
      expect(page.status).toBe(200);
      expect(await findApprovalForStep(dynamo.doc, tables, APPROVAL.incidentId, APPROVAL.step)).toMatchObject({ approvalId: level2.approvalId, status: 'APPROVED', level: 3 });
      expect(calls.success.map((c) => c.token)).toEqual(['level3-token']);
    });

    it('refuses a signed link to an approval that does not exist, recording nothing', async () => {
      const { deps, calls } = harness();
      const url = await signApprovalLink(BASE, { approvalId: '00000000-0000-4000-8000-000000000000', person: 'john', role: 'oncall_sre', decision: 'approve', expires: LATER.getTime() + 60_000 }, KEY);
      const page = await get(url, deps);
      expect(page.status).toBe(404);
      expect(calls.events).toEqual([]);
    });

    it('refuses a malformed link with 400', async () => {
      const record = await requestApproval(dynamo.doc, tables, APPROVAL, ASKED_AT);
      const { deps, calls } = harness();
      const page = await approvalPage('GET', { id: record.approvalId, person: 'john' }, undefined, deps);
      expect(page.status).toBe(400);
      expect(page.html).toContain('This approval link is incomplete');
      expect(refusals(calls)).toEqual(['malformed']);
    });

    it('answers other methods with 405', async () => {
      const page = await approvalPage('DELETE', { id: 'x' }, undefined, harness().deps);
      expect(page).toMatchObject({ status: 405, headers: expect.objectContaining({ allow: 'GET, POST' }) });
    });
  });
});

describe('local server approval pages (HTTP)', () => {
  let engine: LocalEngine;
  let server: LocalServer;
  /** Who holds oncall_sre in the engine's roster now: a link decides only while its person does. */
  let john: string;

  beforeAll(async () => {
    engine = await new LocalEngine({ speedUp: 600 }).start();
    server = await startServer(engine, { port: 0 });
    john = (await engine.oncall!.whoIs('oncall_sre', new Date()))[0]!.name;
  });

  afterAll(async () => {
    await server.close();
    await engine.stop();
  });

  async function pendingApproval(step: string, approvers: string[]) {
    const { incident } = await openOrJoinIncident(engine.doc, engine.tables, {
      playbook: 'matching-engine-latency',
      service: `matching-engine-${step}`,
      severity: 'HIGH',
      alarm: { name: `sre-agent/matching-engine-latency/${step}` },
      detectedAt: new Date(),
      anomalyStartedAt: new Date(),
    });
    const { token, result } = engine.tokens.issue(60_000);
    const record = await requestApproval(engine.doc, engine.tables, { ...APPROVAL, incidentId: incident.id, step, approvers, minApprovals: approvers.length, taskToken: token }, new Date());
    return { record, result };
  }

  it('serves the confirmation page on GET and decides on the form POST, releasing the waiting task', async () => {
    // GIVEN an execution waiting on a task token
    const { record, result } = await pendingApproval('trigger_manual_gc', ['oncall_sre']);
    const { approveUrl } = await localApprovalLinks(engine, record, john, 'oncall_sre');
    expect(approveUrl.startsWith(`${server.url}/approvals/${record.approvalId}?`)).toBe(true);
    // WHEN
    const view = await fetch(approveUrl, { headers: { 'user-agent': 'approval-http-test' } });
    const html = await view.text();
    // THEN
    expect(view.status).toBe(200);
    expect(view.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(view.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain('<form method="post">');
    expect((await getApproval(engine.doc, engine.tables, record.approvalId)).status).toBe('PENDING');
    // WHEN the form is submitted
    const decided = await fetch(approveUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'approval-http-test' }, body: formOf(html).toString() });
    // THEN
    expect(decided.status).toBe(200);
    expect(await decided.text()).toContain('The step is approved');
    await expect(result).resolves.toEqual({ approvalId: record.approvalId, decisions: [expect.objectContaining({ role: 'oncall_sre', person: john, decision: 'approve' })] });
    const timeline = await getTimeline(engine.doc, engine.tables, record.incidentId);
    expect(timeline.filter((e) => e.type.startsWith('approval_')).map((e) => [e.type, e.data?.sourceIp, e.data?.userAgent])).toEqual([
      ['approval_viewed', '127.0.0.1', 'approval-http-test'],
      ['approval_approved', '127.0.0.1', 'approval-http-test'],
    ]);
    // WHEN the form is submitted again
    const replay = await fetch(approveUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formOf(html).toString() });
    // THEN
    expect(replay.status).toBe(409);
  });

  it('refuses a form posted as JSON with 415', async () => {
    const { record } = await pendingApproval('json_post', ['oncall_sre']);
    const { approveUrl } = await localApprovalLinks(engine, record, john, 'oncall_sre');
    const res = await fetch(approveUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(415);
    expect((await getApproval(engine.doc, engine.tables, record.approvalId)).status).toBe('PENDING');
  });

  it('keeps the JSON API of the CLI, with the same checks', async () => {
    // GIVEN
    const { record, result } = await pendingApproval('cli_reject', ['oncall_sre', 'dba']);
    const post = (path: string, body: unknown) => fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) });
    // WHEN an unknown role tries, then an approver rejects
    const wrong = await post(`/api/approvals/${record.approvalId}/approve`, { as: 'eve', role: 'team_lead' });
    const rejected = await post(`/api/approvals/${record.approvalId}/reject`, { as: 'zhao.min', role: 'dba', reason: 'max_connections is fine' });
    // THEN
    expect(wrong.status).toBe(409);
    expect(rejected.status).toBe(200);
    expect(await rejected.json()).toMatchObject({ status: 'REJECTED', step: 'cli_reject', incidentId: record.incidentId, released: true });
    // The roster's name is recorded (the API checked "zhao.min" holds dba now).
    await expect(result).rejects.toMatchObject({ name: 'ApprovalRejectedError', message: 'Zhao Min (dba) rejected cli_reject: max_connections is fine' });
  });

  it('refuses a link signed with another key as tampered', async () => {
    const { record } = await pendingApproval('foreign_key', ['oncall_sre']);
    const { approveUrl } = await buildApprovalLinks(server.url, record, john, 'oncall_sre', async () => Buffer.alloc(32, 1));
    const res = await fetch(approveUrl);
    expect(res.status).toBe(403);
  });
});
