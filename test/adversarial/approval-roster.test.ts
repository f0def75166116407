/**
 * Attacks on the signed approval link by someone who has left the role it was sent for: rotated
 * off, removed from the rotation file or PagerDuty, an override that ended. The link itself still
 * verifies until its approval expires; the page (the local server here, the approval-callback
 * Lambda in AWS: test/adversarial/approval-page-lambda.test.ts) asks the roster again when it is
 * used, and refuses with the approver and the approval id, the approval left PENDING.
 */
import { getApproval, type ApprovalRecord } from '../../lib/approval/store';
import { getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { localApprovalLinks, startServer, type LocalServer } from '../../lib/local/server';
import { pendingApprovalOnNewIncident } from '../helpers/approvals';
import { testRoster, type TestRoster } from '../helpers/roster';

let engine: LocalEngine;
let server: LocalServer;
let roster: TestRoster;

const HOLDERS = { oncall_sre: ['Wang Lei'], matching_engine_owner: ['Kenji Sato'], team_lead: ['Chen Jie'] } as const;

beforeAll(async () => {
  roster = testRoster(HOLDERS);
  engine = await new LocalEngine({ notifier: false, oncall: roster }).start();
  server = await startServer(engine, { port: 0 });
});

afterAll(async () => {
  await server.close();
  await engine.stop();
});

beforeEach(() => {
  for (const [role, names] of Object.entries(HOLDERS)) roster.set(role, names);
  roster.fail(undefined);
});

/** A pending approval of matching-engine-latency's rollback (oncall_sre + matching_engine_owner, two people). */
const pendingRollback = (): Promise<ApprovalRecord> => pendingApprovalOnNewIncident(engine, 'matching-engine-latency', 'rollback_matching_engine');

/** GET the link, then POST its form as the page does (from the page's own origin). */
async function view(url: string): Promise<{ status: number; html: string }> {
  const res = await fetch(url);
  return { status: res.status, html: await res.text() };
}
async function post(url: string, html: string): Promise<{ status: number; html: string }> {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, m[2]!.replace(/&amp;/g, '&'));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, 'sec-fetch-site': 'same-origin' }, body: form.toString() });
  return { status: res.status, html: await res.text() };
}

const refusals = async (rec: ApprovalRecord) => (await getTimeline(engine.doc, engine.tables, rec.incidentId)).filter((e) => e.type === 'approval_refused');

describe('a signed approval link is checked against the on-call roster when it is used', () => {
  it('refuses the link of someone rotated off between the page (GET) and the decision (POST), naming them and the approval; it stays PENDING', async () => {
    // prepare: Wang Lei is on call when the link is sent and opened
    const rec = await pendingRollback();
    const { approveUrl } = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    const page = await view(approveUrl);
    expect(page.status).toBe(200);
    // act: the rotation hands over to Li Na, then Wang Lei submits the form
    roster.set('oncall_sre', ['Li Na']);
    const decided = await post(approveUrl, page.html);
    // assess
    expect(decided.status).toBe(403);
    expect(decided.html).toContain('This approver no longer holds the role');
    expect(decided.html).toContain(`Wang Lei no longer holds the role oncall_sre in the on-call roster (held now by Li Na); their link cannot decide approval ${rec.approvalId}`);
    expect(await getApproval(engine.doc, engine.tables, rec.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
    expect((await refusals(rec)).map((e) => e.data)).toEqual([expect.objectContaining({ approvalId: rec.approvalId, reason: 'not_on_call', method: 'POST', claimed: { person: 'Wang Lei', role: 'oncall_sre', decision: 'approve' } })]);
  });

  it.each([
    ['removed from the rotation (nobody holds the role)', () => roster.set('oncall_sre', []), 'held now by nobody'],
    ['moved to another role (team lead now, not on call)', () => (roster.set('oncall_sre', ['Li Na']), roster.set('team_lead', ['Wang Lei'])), 'held now by Li Na'],
    ['an override that ended (the regular holder is back)', () => roster.set('oncall_sre', ['John Park']), 'held now by John Park'],
  ])('refuses a link whose person was %s, on GET as on POST', async (_what, change, held) => {
    const rec = await pendingRollback();
    const { approveUrl, rejectUrl } = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    change();
    for (const url of [approveUrl, rejectUrl]) {
      const page = await view(url);
      expect(page.status).toBe(403);
      expect(page.html).toContain(held);
      expect(page.html).not.toContain('<form');
    }
    expect(await getApproval(engine.doc, engine.tables, rec.approvalId)).toMatchObject({ status: 'PENDING', decisions: [] });
  });

  it('refuses a reject link too: someone off call cannot stop a step either', async () => {
    const rec = await pendingRollback();
    const { rejectUrl } = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    const page = await view(rejectUrl);
    roster.set('oncall_sre', ['Li Na']);
    const form = new URLSearchParams();
    for (const m of page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1]!, m[2]!.replace(/&amp;/g, '&'));
    form.append('reason', 'not needed');
    const res = await fetch(rejectUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url }, body: form.toString() });
    expect(res.status).toBe(403);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('PENDING');
  });

  it('leaves nothing half-applied on a two-person step: the first approval stands, the rotated-off second is refused, the step still waits', async () => {
    // prepare: the owner approves while on call
    const rec = await pendingRollback();
    const owner = await localApprovalLinks(engine, rec, 'Kenji Sato', 'matching_engine_owner');
    const oncall = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    expect((await post(owner.approveUrl, (await view(owner.approveUrl)).html)).status).toBe(200);
    const page = await view(oncall.approveUrl);
    // act: Wang Lei rotates off, then submits
    roster.set('oncall_sre', ['Li Na']);
    const second = await post(oncall.approveUrl, page.html);
    // assess
    expect(second.status).toBe(403);
    const stored = await getApproval(engine.doc, engine.tables, rec.approvalId);
    expect(stored.status).toBe('PENDING');
    expect(stored.decisions.map((d) => [d.person, d.role, d.decision])).toEqual([['Kenji Sato', 'matching_engine_owner', 'approve']]);
    // The current holder's own link still completes it.
    const liNa = await localApprovalLinks(engine, rec, 'Li Na', 'oncall_sre');
    expect((await post(liNa.approveUrl, (await view(liNa.approveUrl)).html)).status).toBe(200);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('APPROVED');
  });

  it('refuses while the roster cannot answer (PagerDuty down, nothing behind it): fail closed, try again later', async () => {
    const rec = await pendingRollback();
    const { approveUrl } = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    const page = await view(approveUrl);
    roster.fail(Object.assign(new Error('GET /oncalls answered 503'), { name: 'OnCallError' }));
    const decided = await post(approveUrl, page.html);
    expect(decided.status).toBe(403);
    expect(decided.html).toContain(`OnCallError: GET /oncalls answered 503); approval ${rec.approvalId} stays pending`);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('PENDING');
  });

  it('replaying a link after its person rotated off and back on decides once (the roster decides who, the record decides how often)', async () => {
    const rec = await pendingRollback();
    const { approveUrl } = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    const page = await view(approveUrl);
    roster.set('oncall_sre', ['Li Na']);
    expect((await post(approveUrl, page.html)).status).toBe(403);
    roster.set('oncall_sre', ['Wang Lei']);
    expect((await post(approveUrl, page.html)).status).toBe(200);
    expect((await post(approveUrl, page.html)).status).toBe(409);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).decisions).toHaveLength(1);
  });

  it('safe twin: the people who hold the roles now decide with their links, names matched as the roster spells them', async () => {
    const rec = await pendingRollback();
    const oncall = await localApprovalLinks(engine, rec, 'Wang Lei', 'oncall_sre');
    // A link carries the name the lookup gave; a lookup that answers in another case still names the same person.
    roster.set('matching_engine_owner', ['KENJI SATO']);
    const owner = await localApprovalLinks(engine, rec, 'Kenji Sato', 'matching_engine_owner');
    expect((await post(oncall.approveUrl, (await view(oncall.approveUrl)).html)).status).toBe(200);
    expect((await post(owner.approveUrl, (await view(owner.approveUrl)).html)).status).toBe(200);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('APPROVED');
    expect(await refusals(rec)).toEqual([]);
  });
});

describe('an engine without an on-call roster', () => {
  it('refuses every link (a link is only ever sent to someone a roster named)', async () => {
    const bare = await new LocalEngine({ notifier: false, oncall: false }).start();
    const srv = await startServer(bare, { port: 0 });
    try {
      const rec = await pendingApprovalOnNewIncident(bare, 'matching-engine-latency', 'rollback_matching_engine');
      const { approveUrl } = await localApprovalLinks(bare, rec, 'Wang Lei', 'oncall_sre');
      const res = await fetch(approveUrl);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain(`no on-call roster is configured, so Wang Lei cannot be checked as oncall_sre of approval ${rec.approvalId}`);
    } finally {
      await srv.close();
      await bare.stop();
    }
  });
});
