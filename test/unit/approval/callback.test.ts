/**
 * The approval page (lib/approval/callback.ts) over an in-memory approval store built on the same
 * decision functions as the DynamoDB store (lib/approval/decision.ts): what each link, method and
 * form does, what it answers (status, title, headers, escaping), what goes on the timeline and
 * when the waiting task is released. Fast on purpose: `npm run mutate` runs these; the DynamoDB
 * path is test/integration/approval-callback.
 */
import { approvalPage, decideAndRelease, escapeHtml, PAGE_HEADERS, APPROVAL_REJECTED_ERROR, type ApprovalPageDeps, type ApprovalPageStore } from '../../../lib/approval/callback';
import { STATUS_NOTICE_ACTION } from '../../../lib/notify/status-page';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { decisionRefusal, statusAfter } from '../../../lib/approval/decision';
import { inMemoryKey, signApprovalLink, type LinkDecision } from '../../../lib/approval/links';
import { testRoster } from '../../helpers/roster';
import { ApprovalError, type ApprovalDecision, type ApprovalRecord } from '../../../lib/approval/store';

const NOW = new Date('2026-02-09T14:20:00.000Z');
const EXPIRES = '2026-02-09T15:20:00.000Z';
const key = inMemoryKey();

function record(over: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approvalId: 'apr-1',
    incidentId: 'INC-20260209-001',
    step: 'restart_engine',
    action: 'rolling_restart',
    level: 2,
    approvers: ['oncall_sre', 'team_lead'],
    minApprovals: 2,
    status: 'PENDING',
    decisions: [],
    createdAt: '2026-02-09T14:00:00.000Z',
    expiresAt: EXPIRES,
    taskToken: 'token-1',
    risk: 'HIGH',
    message: 'restart <b>now</b>',
    ...over,
  };
}

class MemoryStore implements ApprovalPageStore {
  public readonly records = new Map<string, ApprovalRecord>();
  /** Makes the next decide fail as a concurrent write would. */
  public conflict?: string;
  public constructor(...recs: ApprovalRecord[]) {
    for (const r of recs) this.records.set(r.approvalId, r);
  }
  public async locate(id: string) {
    const r = this.records.get(id);
    return r ? { incidentId: r.incidentId, step: r.step, current: r } : undefined;
  }
  public async decide(id: string, d: Omit<ApprovalDecision, 'at'>, now: Date): Promise<ApprovalRecord> {
    const rec = this.records.get(id);
    if (!rec) throw new ApprovalError(`no approval ${id}`);
    if (this.conflict) throw new ApprovalError(this.conflict);
    const refusal = decisionRefusal(rec as never, d, now);
    if (refusal) throw new ApprovalError(refusal);
    const decisions = [...rec.decisions, { ...d, at: now.toISOString() }];
    const next = { ...rec, decisions, status: statusAfter(rec, decisions) };
    this.records.set(id, next);
    return next;
  }
}

interface World {
  deps: ApprovalPageDeps;
  store: MemoryStore;
  events: { incidentId: string; type: string; summary: string; actor?: string; step?: string; data?: Record<string, unknown> }[];
  released: string[];
  warnings: string[];
}

function world(store = new MemoryStore(record()), over: Partial<ApprovalPageDeps> = {}): World {
  const events: World['events'] = [];
  const released: string[] = [];
  const warnings: string[] = [];
  return {
    store,
    events,
    released,
    warnings,
    deps: {
      doc: {} as never,
      tables: {} as never,
      key,
      store,
      now: () => NOW,
      // Everyone the links of this file name holds their role now (the roster's own refusals: test/adversarial/approval-roster.test.ts).
      oncall: testRoster({ oncall_sre: ['Li Na'], team_lead: ['Li Na', 'Wang Wei'], director: ['Li Na'] }),
      sendTaskSuccess: (token, output) => void released.push(`success ${token} ${JSON.stringify(output)}`),
      sendTaskFailure: (token, error, cause) => void released.push(`failure ${token} ${error} ${cause}`),
      record: async (incidentId, e) => void events.push({ incidentId, ...(e as Omit<World['events'][number], 'incidentId'>) }),
      from: { sourceIp: '203.0.113.9', userAgent: 'Mozilla/5.0 test' },
      warn: (message) => void warnings.push(message),
      ...over,
    },
  };
}

async function link(person: string, role: string, decision: LinkDecision, id = 'apr-1', expires = Date.parse(EXPIRES)): Promise<Record<string, string>> {
  const url = new URL(await signApprovalLink('https://approve.example', { approvalId: id, person, role, decision, expires }, key));
  return { ...Object.fromEntries(url.searchParams), id: decodeURIComponent(url.pathname.split('/').at(-1) ?? '') };
}

function form(q: Record<string, string>, reason?: string): string {
  const f = new URLSearchParams();
  for (const k of ['person', 'role', 'decision', 'expires', 'sig']) if (q[k] !== undefined) f.set(k, q[k]!);
  if (reason !== undefined) f.set('reason', reason);
  return f.toString();
}

const title = (html: string) => /<h1>(.*?)<\/h1>/.exec(html)?.[1];

describe('approvalPage', () => {
  it('answers GET with a confirmation form that decides nothing, and records the view without an actor', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('GET', q, undefined, w.deps);
    expect(page.status).toBe(200);
    expect(page.headers).toBe(PAGE_HEADERS);
    expect(title(page.html)).toBe('Approve step restart_engine?');
    expect(page.html).toContain('<form method="post">');
    expect(page.html).toContain(`<input type="hidden" name="sig" value="${q.sig}">`);
    expect(page.html).toContain('<button type="submit" class="approve">Approve as Li Na (oncall_sre)</button>');
    expect(page.html).toContain('You are deciding as <strong>Li Na</strong> for the role <code>oncall_sre</code>');
    expect(page.html).toContain(`This link works once and expires at ${EXPIRES}.`);
    expect(page.html).not.toContain('<textarea');
    expect(page.html).toContain('<tr><th>Risk</th><td>HIGH</td></tr>');
    expect(page.html).toContain('<tr><th>Escalation level</th><td>2</td></tr>');
    expect(page.html).toContain('<li><code>oncall_sre</code>: waiting</li>');
    expect(page.html).toContain('needs 2 approval(s); any rejection rejects the step');
    expect(page.html).toContain('<pre>restart &lt;b&gt;now&lt;/b&gt;</pre>');
    expect(w.store.records.get('apr-1')!.decisions).toEqual([]);
    expect(w.events).toEqual([
      {
        incidentId: 'INC-20260209-001',
        at: NOW,
        type: 'approval_viewed',
        step: 'restart_engine',
        summary: 'approval page (approve) for restart_engine opened with the link of Li Na (oncall_sre) from 203.0.113.9 (Mozilla/5.0 test)',
        data: { approvalId: 'apr-1', person: 'Li Na', role: 'oncall_sre', decision: 'approve', sourceIp: '203.0.113.9', userAgent: 'Mozilla/5.0 test' },
      },
    ]);
    expect(w.released).toEqual([]);
  });

  it('shows a required reason field on the reject link, and "not recorded" for a record without risk', async () => {
    const w = world(new MemoryStore(record({ risk: undefined, message: undefined })));
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'reject'), undefined, w.deps);
    expect(title(page.html)).toBe('Reject step restart_engine?');
    expect(page.html).toContain('<textarea id="reason" name="reason" required maxlength="1000"></textarea>');
    expect(page.html).toContain('<button type="submit" class="reject">Reject as Li Na (oncall_sre)</button>');
    expect(page.html).toContain('<tr><th>Risk</th><td>not recorded</td></tr>');
    expect(page.html).not.toContain('<pre>');
  });

  it('records the first of two approvals, keeps the step PENDING and releases nothing', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', { id: q.id }, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(title(page.html)).toBe('You approved restart_engine');
    expect(page.html).toContain('Recorded: <strong>Li Na</strong> (oncall_sre) approved step <code>restart_engine</code>.');
    expect(page.html).toContain('The step still waits for 1 more approval(s) (team_lead).');
    expect(page.html).toContain(`<li><code>oncall_sre</code>: approved by Li Na at ${NOW.toISOString()}</li>`);
    expect(w.store.records.get('apr-1')).toMatchObject({ status: 'PENDING', decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve', at: NOW.toISOString() }] });
    expect(w.events).toEqual([
      expect.objectContaining({ type: 'approval_approved', actor: 'Li Na', step: 'restart_engine', summary: 'Li Na (oncall_sre) approved restart_engine (1 of 2; waiting for the others) (signed link from 203.0.113.9 (Mozilla/5.0 test))', data: { approvalId: 'apr-1', role: 'oncall_sre', decision: 'approve', status: 'PENDING', via: 'link', sourceIp: '203.0.113.9', userAgent: 'Mozilla/5.0 test' } }),
    ]);
    expect(w.released).toEqual([]);
  });

  it('releases the waiting task with the decisions once the second person approves', async () => {
    const w = world(new MemoryStore(record({ decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve', at: '2026-02-09T14:10:00.000Z' }] })));
    const q = await link('Wang Wei', 'team_lead', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.html).toContain('The step is approved: the playbook goes on.');
    expect(w.released).toEqual([`success token-1 ${JSON.stringify({ approvalId: 'apr-1', decisions: w.store.records.get('apr-1')!.decisions })}`]);
    expect(w.events[0]).toMatchObject({ type: 'approval_approved', summary: 'Wang Wei (team_lead) approved restart_engine (signed link from 203.0.113.9 (Mozilla/5.0 test))', data: { status: 'APPROVED' } });
  });

  it('rejects with the reason, failing the waiting task with ApprovalRejectedError', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'reject');
    const page = await approvalPage('POST', q, form(q, '  GC pauses, not the deploy  '), w.deps);
    expect(page.status).toBe(200);
    expect(title(page.html)).toBe('You rejected restart_engine');
    expect(page.html).toContain('The step is rejected: the playbook skips it.');
    expect(page.html).toContain('rejected by Li Na at 2026-02-09T14:20:00.000Z (GC pauses, not the deploy)');
    expect(w.released).toEqual([`failure token-1 ${APPROVAL_REJECTED_ERROR} Li Na (oncall_sre) rejected restart_engine: GC pauses, not the deploy`]);
    expect(w.events[0]).toMatchObject({ type: 'approval_rejected_by', actor: 'Li Na', summary: 'Li Na (oncall_sre) rejected restart_engine: GC pauses, not the deploy (signed link from 203.0.113.9 (Mozilla/5.0 test))' });
    expect(w.store.records.get('apr-1')!.decisions[0]).toMatchObject({ reason: 'GC pauses, not the deploy' });
  });

  it('asks again for a rejection without a reason, or with one over 1000 characters, changing nothing', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'reject');
    const blank = await approvalPage('POST', q, form(q, '   '), w.deps);
    expect(blank.status).toBe(400);
    expect(blank.html).toContain('<p class="reject">Give a reason for the rejection; nothing was changed.</p>');
    const long = await approvalPage('POST', q, form(q, 'x'.repeat(1001)), w.deps);
    expect(long.status).toBe(400);
    expect(long.html).toContain('The reason is longer than 1000 characters; nothing was changed.');
    expect(w.store.records.get('apr-1')!.decisions).toEqual([]);
    expect(w.released).toEqual([]);
  });

  it('keeps no reason on an approval even if the form sends one', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    await approvalPage('POST', q, form(q, 'because'), w.deps);
    expect(w.store.records.get('apr-1')!.decisions[0]).not.toHaveProperty('reason');
  });

  it('takes the signed fields from the form over the query, and the id from the path only', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', { id: q.id, person: 'Mallory', sig: 'x'.repeat(43) }, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(w.store.records.get('apr-1')!.decisions[0]).toMatchObject({ person: 'Li Na' });
  });

  it.each([
    ['malformed', { id: 'apr-1', person: 'Li Na' }, 400, 'This approval link is incomplete'],
    ['tampered', null, 403, 'This approval link was altered'],
  ] as const)('refuses a %s link with %s, showing nothing of the record', async (reason, given, status, heading) => {
    const w = world();
    const q = given ?? { ...(await link('Li Na', 'oncall_sre', 'approve')), person: 'Mallory' };
    const page = await approvalPage('GET', q, undefined, w.deps);
    expect(page.status).toBe(status);
    expect(title(page.html)).toBe(heading);
    expect(page.html).toContain('<p><strong>Nothing was changed.</strong></p>');
    expect(page.html).not.toContain('<table>');
    expect(w.events).toEqual([expect.objectContaining({ type: 'approval_refused', step: 'restart_engine', data: expect.objectContaining({ approvalId: 'apr-1', reason, method: 'GET', sourceIp: '203.0.113.9' }) })]);
    expect(w.events[0]).not.toHaveProperty('actor');
    expect(w.events[0]!.summary).toMatch(new RegExp(`^approval link refused \\(${reason}\\) on GET for restart_engine from 203\\.0\\.113\\.9 \\(Mozilla/5\\.0 test\\): `));
  });

  it('records what a tampered link claimed, shortened, as claimed', async () => {
    const w = world();
    const q: Record<string, string> = { ...(await link('Li Na', 'oncall_sre', 'approve')), person: 'M'.repeat(300) };
    await approvalPage('POST', { id: q.id }, form(q), w.deps);
    expect(w.events[0]!.data).toMatchObject({ claimed: { person: 'M'.repeat(200), role: 'oncall_sre', decision: 'approve' }, method: 'POST' });
  });

  it('refuses an expired link with 410', async () => {
    const w = world();
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve', 'apr-1', NOW.getTime()), undefined, w.deps);
    expect(page.status).toBe(410);
    expect(title(page.html)).toBe('This approval link has expired');
  });

  it('refuses a signed link to an approval that does not exist, recording nothing', async () => {
    const w = world();
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve', 'apr-9'), undefined, w.deps);
    expect(page.status).toBe(404);
    expect(title(page.html)).toBe('No such approval');
    expect(page.html).toContain('no approval with id apr-9');
    expect(w.events).toEqual([]);
  });

  it('refuses a link whose id is not the current record of its step', async () => {
    const store = new MemoryStore(record());
    store.locate = async () => ({ incidentId: 'INC-20260209-001', step: 'restart_engine', current: record({ approvalId: 'apr-2' }) });
    const w = world(store);
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(page.status).toBe(404);
    expect(page.html).toContain('approval apr-1 is not the approval of step &quot;restart_engine&quot; of INC-20260209-001');
    expect(page.html).not.toContain('<table>');
  });

  it.each([
    ['a role that is not an approver', () => link('Li Na', 'director', 'approve'), {}, 403, 'This link is not for an approver of this step', 'role "director" is not an approver of step "restart_engine" (approvers: oncall_sre, team_lead)'],
    ['a replay of a role that decided', () => link('Li Na', 'oncall_sre', 'approve'), { decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve', at: 'T1' }] }, 409, 'This decision was already made', 'role "oncall_sre" already approved step "restart_engine" (Li Na, T1); a link works once'],
    ['a replay of a rejection', () => link('Li Na', 'oncall_sre', 'reject'), { decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'reject', at: 'T1' }] }, 409, 'This decision was already made', 'role "oncall_sre" already rejected step'],
    ['the same person in a second role', () => link(' li  NA', 'team_lead', 'approve'), { decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve', at: 'T1' }] }, 403, 'A second approval must come from someone else', 'Li Na already approved step "restart_engine" as oncall_sre; its approvals must come from two different people'],
    ['a decided step', () => link('Wang Wei', 'team_lead', 'approve'), { status: 'CANCELLED' as const }, 409, 'This step was already decided', 'step "restart_engine" of INC-20260209-001 is already CANCELLED'],
    ['a closed window', () => link('Wang Wei', 'team_lead', 'approve', 'apr-1', Date.parse(EXPIRES) + 60_000), { expiresAt: NOW.toISOString() }, 410, 'This approval link has expired', `the approval window of step "restart_engine" closed at ${NOW.toISOString()}`],
  ])('refuses %s, showing the record', async (_what, make, over, status, heading, message) => {
    const w = world(new MemoryStore(record(over as Partial<ApprovalRecord>)));
    const q = await make();
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(status);
    expect(title(page.html)).toBe(heading);
    expect(page.html).toContain(escapeHtml(message));
    expect(page.html).toContain('<table>');
    expect(w.released).toEqual([]);
    expect(w.events).toEqual([expect.objectContaining({ type: 'approval_refused', summary: expect.stringContaining(message) })]);
  });

  it('a second person in a second role may still reject after an approval', async () => {
    const w = world(new MemoryStore(record({ decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve', at: 'T1' }] })));
    const q = await link('Li Na', 'team_lead', 'reject');
    const page = await approvalPage('POST', q, form(q, 'changed my mind'), w.deps);
    expect(page.status).toBe(200);
    expect(w.store.records.get('apr-1')!.status).toBe('REJECTED');
  });

  it('answers a decision that lost a race with 409 conflict, changing nothing', async () => {
    const store = new MemoryStore(record());
    store.conflict = 'approval apr-1 changed while deciding';
    const w = world(store);
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(409);
    expect(title(page.html)).toBe('The approval changed while deciding');
    expect(page.html).toContain('approval apr-1 changed while deciding');
    expect(w.events).toEqual([expect.objectContaining({ type: 'approval_refused', data: expect.objectContaining({ reason: 'conflict' }) })]);
  });

  it('rethrows what is not an approval error', async () => {
    const store = new MemoryStore(record());
    store.decide = async () => {
      throw new TypeError('boom');
    };
    const w = world(store);
    const q = await link('Li Na', 'oncall_sre', 'approve');
    await expect(approvalPage('POST', q, form(q), w.deps)).rejects.toThrow('boom');
  });

  it('answers other methods with 405 and an Allow header, and bodies over 16 KiB with 413', async () => {
    const w = world();
    const put = await approvalPage('PUT', { id: 'apr-1' }, undefined, w.deps);
    expect(put).toMatchObject({ status: 405, headers: { ...PAGE_HEADERS, allow: 'GET, POST' } });
    expect(title(put.html)).toBe('Method not allowed');
    const big = await approvalPage('POST', { id: 'apr-1' }, 'x'.repeat(16 * 1024 + 1), w.deps);
    expect(big.status).toBe(413);
    expect(big.html).toContain('The form is at most 16384 bytes.');
    const edge = await approvalPage('POST', { id: 'apr-1' }, 'x'.repeat(16 * 1024), w.deps);
    expect(edge.status).toBe(400);
    expect(w.events.map((e) => e.type)).toEqual(['approval_refused']);
  });

  it('keeps the decision when the execution no longer waits, and says so on the page and the timeline', async () => {
    const w = world(new MemoryStore(record({ minApprovals: 1, approvers: ['oncall_sre'] })), {
      sendTaskSuccess: () => {
        const e = new Error('Task Timed Out');
        e.name = 'TaskTimedOut';
        throw e;
      },
    });
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(page.html).toContain('The step is APPROVED, but the playbook had stopped waiting (TaskTimedOut: Task Timed Out): check the incident timeline.');
    expect(w.store.records.get('apr-1')!.status).toBe('APPROVED');
    expect(w.warnings).toEqual(['approval apr-1 is APPROVED but its execution could not be told']);
    expect(w.events.map((e) => e.type)).toEqual(['approval_approved', 'approval_release_failed']);
    expect(w.events[1]).toMatchObject({ step: 'restart_engine', summary: 'restart_engine is APPROVED but the waiting execution could not be told (TaskTimedOut: Task Timed Out); it has timed out or escalated', data: { approvalId: 'apr-1', error: 'TaskTimedOut: Task Timed Out' } });
  });

  it('a failing timeline write does not undo the decision; it is told to warn', async () => {
    const w = world(new MemoryStore(record()), { record: async () => Promise.reject(new Error('throttled')) });
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(w.warnings).toEqual(['timeline event approval_approved for INC-20260209-001 not recorded']);
  });

  it('says "unknown address" when the request has no origin, and cuts long user agents', async () => {
    const w = world(new MemoryStore(record()), { from: { userAgent: 'A'.repeat(400) } });
    await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(w.events[0]!.summary).toBe(`approval page (approve) for restart_engine opened with the link of Li Na (oncall_sre) from unknown address (${'A'.repeat(120)})`);
    expect(w.events[0]!.data).toEqual({ approvalId: 'apr-1', person: 'Li Na', role: 'oncall_sre', decision: 'approve', userAgent: 'A'.repeat(300) });
    const none = world(new MemoryStore(record()), { from: undefined });
    await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, none.deps);
    expect(none.events[0]!.summary).toMatch(/from unknown address$/);
    expect(none.events[0]!.data).toEqual({ approvalId: 'apr-1', person: 'Li Na', role: 'oncall_sre', decision: 'approve' });
  });
});

describe('approvalPage: the details', () => {
  it('shows every row of the summary table', async () => {
    const w = world();
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    for (const row of [
      '<tr><th>Incident</th><td>INC-20260209-001</td></tr>',
      '<tr><th>Step</th><td><code>restart_engine</code></td></tr>',
      '<tr><th>Action</th><td><code>rolling_restart</code></td></tr>',
      '<tr><th>Status</th><td>PENDING</td></tr>',
      '<tr><th>Approvers</th><td><ul><li><code>oncall_sre</code>: waiting</li><li><code>team_lead</code>: waiting</li></ul>needs 2 approval(s); any rejection rejects the step</td></tr>',
      `<tr><th>Expires</th><td>${EXPIRES}</td></tr>`,
    ]) expect(page.html).toContain(row);
    expect(page.html).toContain('</table><pre>restart &lt;b&gt;now&lt;/b&gt;</pre>');
    expect(page.html).toMatch(/^<!doctype html><html lang="en"><head><meta charset="utf-8">.*<title>Approve step restart_engine\? — sre-agent<\/title>/s);
  });

  it('counts the approvals still missing and names the roles still waiting', async () => {
    const w = world(new MemoryStore(record({ approvers: ['oncall_sre', 'team_lead', 'director'], minApprovals: 3 })));
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.html).toContain('The step still waits for 2 more approval(s) (team_lead, director).');
    expect(w.events[0]!.summary).toContain('(1 of 3; waiting for the others)');
    const q2 = await link('Wang Wei', 'team_lead', 'approve');
    const second = await approvalPage('POST', q2, form(q2), w.deps);
    expect(second.html).toContain('The step still waits for 1 more approval(s) (director).');
    expect(w.events[1]!.summary).toContain('(2 of 3; waiting for the others)');
  });

  it('takes the first of repeated form fields, and ignores a body on GET', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', { id: q.id }, `${form(q)}&person=Mallory`, w.deps);
    expect(page.status).toBe(200);
    const get = await approvalPage('GET', { id: q.id }, form(q), w.deps);
    expect(get.status).toBe(400);
  });

  it('records only the claimed fields a malformed link carries as text', async () => {
    const w = world();
    await approvalPage('GET', { id: 'apr-1', person: 'Li Na', decision: 'approve' }, undefined, w.deps);
    expect(w.events[0]!.data).toMatchObject({ claimed: { person: 'Li Na', decision: 'approve' } });
    expect((w.events[0]!.data as { claimed: object }).claimed).not.toHaveProperty('role');
  });

  it('takes a reason of exactly 1000 characters', async () => {
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'reject');
    expect((await approvalPage('POST', q, form(q, 'r'.repeat(1000)), w.deps)).status).toBe(200);
  });

  it('rethrows a signing-key failure (not a link refusal): the page cannot tell a good link from a bad one', async () => {
    const w = world(new MemoryStore(record()), { key: async () => Buffer.alloc(8) });
    await expect(approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps)).rejects.toMatchObject({ name: 'ApprovalError' });
  });

  it('works without a warn hook when the timeline or the release fails', async () => {
    const w = world(new MemoryStore(record({ minApprovals: 1, approvers: ['oncall_sre'] })), {
      warn: undefined,
      record: async () => Promise.reject(new Error('throttled')),
      sendTaskSuccess: () => {
        throw new Error('gone');
      },
    });
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(page.html).toContain('(Error: gone)');
  });

  it('says it released nothing while the step still waits', async () => {
    const w = world();
    const out = await decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, 'api');
    expect(out).toEqual({ record: expect.objectContaining({ status: 'PENDING' }), released: false });
  });
});

describe('decideAndRelease (the local JSON API)', () => {
  it('records an API decision without the link text, and refuses what the store refuses', async () => {
    const w = world(new MemoryStore(record({ minApprovals: 1, approvers: ['oncall_sre'] })));
    const out = await decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, 'api');
    expect(out).toMatchObject({ released: true, record: { status: 'APPROVED' } });
    expect(w.events[0]).toMatchObject({ summary: 'Li Na (oncall_sre) approved restart_engine', data: expect.objectContaining({ via: 'api' }) });
    await expect(decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, 'api')).rejects.toThrow('approval apr-1 is already APPROVED');
  });

  it("puts an approver's reason on the timeline with the approval", async () => {
    const w = world();
    await decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve', reason: 'big keys checked' }, 'api');
    expect(w.events[0]).toMatchObject({ summary: 'Li Na (oncall_sre) approved restart_engine: big keys checked (1 of 2; waiting for the others)' });
  });

  it('a reason that reads like another approval approves nothing: the record, not the text, counts', async () => {
    // attack: the on-call SRE's reason forges the team lead's approval on the timeline
    const w = world();
    const out = await decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve', reason: 'ok (2 of 2)\nWang Wei (team_lead) approved restart_engine' }, 'api');
    // assess: still one role of two; nothing released; the forged line stays inside Li Na's own event
    expect(out).toMatchObject({ released: false, record: { status: 'PENDING', decisions: [expect.objectContaining({ person: 'Li Na', role: 'oncall_sre' })] } });
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ actor: 'Li Na', data: expect.objectContaining({ role: 'oncall_sre', status: 'PENDING' }) });
  });

  it('a rejection without a reason says so plainly', async () => {
    const w = world(new MemoryStore(record()));
    await decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'reject' }, 'api');
    expect(w.events[0]!.summary).toBe('Li Na (oncall_sre) rejected restart_engine');
    expect(w.released).toEqual([`failure token-1 ${APPROVAL_REJECTED_ERROR} Li Na (oncall_sre) rejected restart_engine`]);
  });
});

describe('escapeHtml and the page headers', () => {
  it('escapes the six characters that matter in text and attributes, and writes nothing for null', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\`</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(0)).toBe('0');
  });

  it('never caches, frames or refers a page', () => {
    expect(PAGE_HEADERS).toEqual({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });
});

describe('approvalPage: what the approver is shown', () => {
  it('shows the resolved parameters the approval binds, escaped, the step note and the investigation', async () => {
    // A wrong mutant would hide what exactly is approved (the parameters) or the note and analysis written for approvers.
    const w = world(new MemoryStore(record({ params: { deployment: 'matching-engine', reason: '<x>' }, note: 'ElastiCache 扩容会有短暂的 failover', analysis: ['p99 up 4× since 14:02', 'GC <pauses>'] })));
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(page.html).toContain(`<tr><th>Parameters</th><td><pre>${escapeHtml(JSON.stringify({ deployment: 'matching-engine', reason: '<x>' }, null, 2))}</pre></td></tr>`);
    expect(page.html).toContain('&quot;reason&quot;: &quot;&lt;x&gt;&quot;');
    expect(page.html).toContain('<tr><th>Note</th><td><strong>ElastiCache 扩容会有短暂的 failover</strong></td></tr></table>');
    expect(page.html).toContain('</pre><h2>调查 / Investigation</h2><ul class="analysis"><li>p99 up 4× since 14:02</li><li>GC &lt;pauses&gt;</li></ul>\n<form method="post">');
  });

  it('says "none" for a step without parameters, and shows no note, message or investigation it does not have', async () => {
    // The exact seams of the page: a mutant that puts text in an empty fallback, or shows an empty note row, changes them.
    const w = world(new MemoryStore(record({ params: {}, message: undefined, analysis: [] })));
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(page.html).toContain('<tr><th>Parameters</th><td>none</td></tr></table>\n<form method="post">');
    expect(page.html).not.toContain('<th>Note</th>');
    expect(page.html).not.toContain('Investigation');
    expect(page.html).toContain('<p>You are deciding as');
    expect(page.html).toContain('<form method="post"><input type="hidden" name="person"');
    expect(page.html).toContain('"><button type="submit" class="approve">');
    const none = world(new MemoryStore(record({ params: undefined, message: undefined })));
    expect((await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, none.deps)).html).toContain('<tr><th>Parameters</th><td>none</td></tr>');
  });

  it('shows a refused verified link the record without an empty note or message', async () => {
    const w = world(new MemoryStore(record({ message: undefined, status: 'APPROVED', decisions: [{ role: 'team_lead', person: 'Wang Wei', decision: 'approve', at: '2026-02-09T14:10:00.000Z' }] })));
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(page.status).toBe(409);
    expect(page.html).toContain('<p><strong>Nothing was changed.</strong></p><table>');
    expect(page.html).toContain('<li><code>team_lead</code>: approved by Wang Wei at 2026-02-09T14:10:00.000Z</li>');
    expect(page.html).toContain('<tr><th>Parameters</th><td>none</td></tr></table>\n</body>');
  });

  it('tells someone who rejected the step that it was already decided, not that a second approval needs another person', async () => {
    // The one-person-one-approval check looks at approvals only: a mutant counting the rejection too answers same_person.
    const w = world(new MemoryStore(record({ status: 'REJECTED', decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'reject', reason: 'no', at: '2026-02-09T14:10:00.000Z' }] })));
    const page = await approvalPage('GET', await link('Li Na', 'team_lead', 'approve'), undefined, w.deps);
    expect(page.status).toBe(409);
    expect(title(page.html)).toBe('This step was already decided');
    expect(w.events[0]!.data).toMatchObject({ reason: 'already_decided' });
  });

  it('writes rows, hidden fields and the opening paragraph with nothing between them', async () => {
    // The exact seams: a mutant joining the rows or the hidden fields with text, or filling an empty problem slot, shows it.
    const w = world();
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('GET', q, undefined, w.deps);
    expect(page.html).toContain('<tr><th>Incident</th><td>INC-20260209-001</td></tr><tr><th>Step</th><td><code>restart_engine</code></td></tr>');
    expect(page.html).toContain(`<input type="hidden" name="person" value="Li Na"><input type="hidden" name="role" value="oncall_sre">`);
    expect(page.html).toContain('<h1>Approve step restart_engine?</h1>\n<p>You are deciding as');
    const tampered = await approvalPage('GET', { ...q, sig: 'x' }, undefined, w.deps);
    expect(tampered.html).toContain('<p><strong>Nothing was changed.</strong></p>\n</body>');
  });

  it('names what the 405 and 413 pages are about', async () => {
    const w = world();
    expect((await approvalPage('DELETE', { id: 'apr-1' }, undefined, w.deps)).html).toContain('<h1>Method not allowed</h1>\n<p>Use the link (GET) and its form (POST).</p>');
    expect(title((await approvalPage('POST', { id: 'apr-1' }, 'x'.repeat(16 * 1024 + 1), w.deps)).html)).toBe('Request too large');
  });
});

describe('approvalPage: a status-page notice', () => {
  const notice = (over: Partial<ApprovalRecord> = {}) => record({ action: STATUS_NOTICE_ACTION, step: 'status_notice', approvers: ['oncall_sre'], minApprovals: 1, ...over });

  it('hands an approved notice to onNoticeDecided, releases no task (none waits) and says it goes to the status page', async () => {
    // A mutant that treats the notice like a step would send a task token no execution waits on, and never publish.
    const decided: ApprovalRecord[] = [];
    const w = world(new MemoryStore(notice()), { onNoticeDecided: async (rec) => void decided.push(rec) });
    const q = await link('Li Na', 'oncall_sre', 'approve');
    const page = await approvalPage('POST', q, form(q), w.deps);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<p>The public notice is approved: it goes to the status page (see the incident timeline).</p>');
    expect(decided).toEqual([expect.objectContaining({ approvalId: 'apr-1', status: 'APPROVED' })]);
    expect(w.released).toEqual([]);
    await expect(decideAndRelease(world(new MemoryStore(notice()), { onNoticeDecided: async () => undefined }).deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, 'api')).resolves.toEqual({ record: expect.objectContaining({ status: 'APPROVED' }), released: false });
  });

  it('says a rejected notice is not published, and works without the hook', async () => {
    const w = world(new MemoryStore(notice()), { onNoticeDecided: undefined });
    const q = await link('Li Na', 'oncall_sre', 'reject');
    const page = await approvalPage('POST', q, form(q, 'wording'), w.deps);
    expect(page.html).toContain('<p>The public notice is rejected: nothing is published.</p>');
    expect(w.released).toEqual([]);
  });
});

describe('approvalPage: the approval store it uses by default', () => {
  it('reads and decides through the DynamoDB approval table (locateApproval / decideApproval) when no store is given', async () => {
    // Without this default the AWS page would have no store at all; the DynamoDB store itself is tested on dynalite (test/integration/approval-callback).
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const ddb = mockClient(doc);
    ddb.on(GetCommand).resolves({});
    const w = world(new MemoryStore(), { store: undefined, doc, tables: { approvals: 'approvals-table' } });
    const page = await approvalPage('GET', await link('Li Na', 'oncall_sre', 'approve'), undefined, w.deps);
    expect(page.status).toBe(404);
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([{ TableName: 'approvals-table', Key: expect.anything(), ConsistentRead: true }]);
    await expect(decideAndRelease(w.deps, 'apr-1', { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, 'api')).rejects.toMatchObject({ name: 'ApprovalError' });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
    expect(ddb.commandCalls(GetCommand)[1]!.args[0].input).toMatchObject({ TableName: 'approvals-table' });
    ddb.restore();
  });
});
