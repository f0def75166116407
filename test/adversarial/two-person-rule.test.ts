/**
 * The two-person rule (seed §2 scenario 2: a HIGH step names two approvers): one person who holds
 * both approver roles — an override in the rotation file, or one PagerDuty user on two schedules —
 * cannot approve a step alone, by signed links, by the CLI / local API, or with both at once under
 * two spellings of their name. On the old code every one of these approved rollback_matching_engine.
 */
import { readFileSync } from 'node:fs';
import { decideApproval, findApprovalForStep, getApproval, type ApprovalRecord } from '../../lib/approval/store';
import { RotationFile } from '../../lib/approval/oncall';
import { LocalEngine } from '../../lib/local/engine';
import { decide, localApprovalLinks, startServer, type LocalServer } from '../../lib/local/server';
import { pendingApprovalOnNewIncident } from '../helpers/approvals';
import { DEFAULT_ONCALL_FILE, parseRotationFile } from '../../lib/approval/oncall-file';

/** The seed's rotation, plus an override that makes the matching engine's owner (Kenji Sato) on-call SRE too. */
function doubleRoleRoster(): RotationFile {
  const now = Date.now();
  const text = readFileSync(DEFAULT_ONCALL_FILE, 'utf8').replace(
    /^overrides:\n/m,
    `overrides:\n  - role: oncall_sre\n    from: ${new Date(now - 3600_000).toISOString()}\n    to: ${new Date(now + 3600_000).toISOString()}\n    people: [sato.kenji]\n    reason: covering the on-call shift\n`,
  );
  return parseRotationFile('oncall-double-role.yaml', text);
}

let engine: LocalEngine;
let server: LocalServer;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: doubleRoleRoster() }).start();
  server = await startServer(engine, { port: 0 });
});

afterAll(async () => {
  await server.close();
  await engine.stop();
});

/** A PENDING approval of rollback_matching_engine (HIGH: oncall_sre + matching_engine_owner, both needed). */
const pendingRollback = (): Promise<ApprovalRecord> => pendingApprovalOnNewIncident(engine, 'matching-engine-latency', 'rollback_matching_engine');

/** Posts a signed link's form, as the confirmation page does. */
async function postLink(url: string, reason?: string): Promise<Response> {
  const u = new URL(url);
  const form = new URLSearchParams([...u.searchParams].filter(([k]) => k !== 'id'));
  if (reason) form.set('reason', reason);
  return fetch(`${u.origin}${u.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: u.origin }, body: form.toString() });
}

describe('the two-person rule', () => {
  it('the roster really gives one person both roles (the premise of every attack below)', async () => {
    const roster = doubleRoleRoster();
    expect((await roster.whoIs('oncall_sre', new Date())).map((p) => p.name)).toEqual(['Kenji Sato']);
    expect((await roster.whoIs('matching_engine_owner', new Date())).map((p) => p.name)).toEqual(['Kenji Sato']);
  });

  it('one person cannot approve a two-role step alone with the two signed links they were sent', async () => {
    const rec = await pendingRollback();
    const asOwner = await localApprovalLinks(engine, rec, 'Kenji Sato', 'matching_engine_owner');
    const asSre = await localApprovalLinks(engine, rec, 'Kenji Sato', 'oncall_sre');
    expect((await postLink(asOwner.approveUrl)).status).toBe(200);
    // act: the same person's second link
    const second = await postLink(asSre.approveUrl);
    // assess: refused, the record still waits for a second person
    expect(second.status).toBe(403);
    expect(await second.text()).toContain('Kenji Sato already approved');
    const after = await getApproval(engine.doc, engine.tables, rec.approvalId);
    expect(after.status).toBe('PENDING');
    expect(after.decisions.map((d) => [d.role, d.person])).toEqual([['matching_engine_owner', 'Kenji Sato']]);
  });

  it('nor from the CLI / local API under two spellings of their name', async () => {
    const rec = await pendingRollback();
    await decide(engine, rec.approvalId, 'approve', 'sato.kenji', 'matching_engine_owner');
    await expect(decide(engine, rec.approvalId, 'approve', 'KENJI.SATO@exchange.example', 'oncall_sre')).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('two different people') });
    const res = await fetch(`${server.url}/api/approvals/${rec.approvalId}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ as: 'Kenji Sato', role: 'oncall_sre' }) });
    expect(res.status).toBe(409);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('PENDING');
  });

  it('nor by a link and the CLI together, with their name in other case and spacing', async () => {
    const rec = await pendingRollback();
    const asOwner = await localApprovalLinks(engine, rec, 'Kenji Sato', 'matching_engine_owner');
    expect((await postLink(asOwner.approveUrl)).status).toBe(200);
    // Straight to the store, as any caller of decideApproval would: the check is there, not only in the pages.
    await expect(decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: '  kenji   SATO ', decision: 'approve' }, new Date())).rejects.toMatchObject({ name: 'ApprovalError' });
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('PENDING');
  });

  it('two different people approve it', async () => {
    const rec = await pendingRollback();
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'matching_engine_owner', person: 'Kenji Sato', decision: 'approve' }, new Date());
    const after = await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, new Date());
    expect(after.status).toBe('APPROVED');
  });

  it('the same person may still reject in their second role: any rejection stops the step', async () => {
    const rec = await pendingRollback();
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'matching_engine_owner', person: 'Kenji Sato', decision: 'approve' }, new Date());
    const after = await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: 'Kenji Sato', decision: 'reject', reason: 'second thoughts' }, new Date());
    expect(after.status).toBe('REJECTED');
    expect((await findApprovalForStep(engine.doc, engine.tables, rec.incidentId, rec.step))?.decisions).toHaveLength(2);
  });
});
