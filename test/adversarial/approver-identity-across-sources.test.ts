/**
 * The two-person rule when the on-call roles come from two sources: `oncall_sre` from PagerDuty
 * (SRE_AGENT_PAGERDUTY_ONCALL_ROLES), `matching_engine_owner` from the rotation file. PagerDuty
 * writes Kenji Sato as "Sato Kenji" (family name first); the rotation file as "Kenji Sato". One
 * person, two names: on main the two roles' approvals counted as two people and
 * rollback_matching_engine (HIGH, two approvers) was APPROVED by Kenji alone, from the CLI with
 * his one handle or with the two signed links he was mailed.
 */
import { PagerDutyOnCall } from '../../lib/approval/oncall';
import { loadRotationFile } from '../../lib/approval/oncall-file';
import { getApproval, type ApprovalRecord } from '../../lib/approval/store';
import { getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { decide, localApprovalLinks, startServer, type LocalServer } from '../../lib/local/server';
import { pendingApprovalOnNewIncident } from '../helpers/approvals';

/** PagerDuty's GET /oncalls for the sre-primary schedule: Kenji, under the name PagerDuty has for him. */
const pagerDutyFetch: typeof fetch = async () =>
  new Response(JSON.stringify({ oncalls: [{ user: { id: 'PSATO30', name: 'Sato Kenji', summary: 'Sato Kenji', email: 'kenji.sato@exchange.example' }, escalation_level: 1, start: null, end: null }], more: false }), { status: 200 });

function mixedRoster(): PagerDutyOnCall {
  return new PagerDutyOnCall({ roles: { oncall_sre: { scheduleIds: ['PSREPRI'] } }, apiKey: async () => 'pd-api-key', fallback: loadRotationFile(), fetch: pagerDutyFetch });
}

let engine: LocalEngine;
let server: LocalServer;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: mixedRoster() }).start();
  server = await startServer(engine, { port: 0 });
});

afterAll(async () => {
  await server.close();
  await engine.stop();
});

/** A PENDING approval of rollback_matching_engine (HIGH: oncall_sre + matching_engine_owner, both needed). */
const pendingRollback = (): Promise<ApprovalRecord> => pendingApprovalOnNewIncident(engine, 'matching-engine-latency', 'rollback_matching_engine');

/** Posts a signed link's form, as the confirmation page does. */
async function postLink(url: string): Promise<Response> {
  const u = new URL(url);
  const form = new URLSearchParams([...u.searchParams].filter(([k]) => k !== 'id'));
  return fetch(`${u.origin}${u.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: u.origin }, body: form.toString() });
}

describe('one approver known to PagerDuty and to the rotation file under two names', () => {
  it('the roster really gives Kenji both roles, one from each source (the premise)', async () => {
    const roster = mixedRoster();
    const [sre] = await roster.whoIs('oncall_sre', new Date());
    const [owner] = await roster.whoIs('matching_engine_owner', new Date());
    expect([sre?.source, sre?.handle, owner?.source, owner?.handle]).toEqual(['pagerduty', 'sato.kenji', 'rotation-file', 'sato.kenji']);
  });

  it('names him as the rotation file does in both roles, so links and decisions carry one name', async () => {
    const roster = mixedRoster();
    const names = [(await roster.whoIs('oncall_sre', new Date()))[0]?.name, (await roster.whoIs('matching_engine_owner', new Date()))[0]?.name];
    expect(names).toEqual(['Kenji Sato', 'Kenji Sato']);
  });

  it('cannot approve the two-role step alone from the CLI / local API with his one handle', async () => {
    // prepare
    const rec = await pendingRollback();
    await decide(engine, rec.approvalId, 'approve', 'sato.kenji', 'matching_engine_owner');
    // act: the same handle, the PagerDuty role
    const second = decide(engine, rec.approvalId, 'approve', 'sato.kenji', 'oncall_sre');
    // assess: refused as the same person; the record waits for someone else
    await expect(second).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('two different people') });
    const after = await getApproval(engine.doc, engine.tables, rec.approvalId);
    expect(after.status).toBe('PENDING');
    expect(after.decisions.map((d) => [d.role, d.person])).toEqual([['matching_engine_owner', 'Kenji Sato']]);
  });

  it('nor with the two signed links he is sent (one per role, each under the name its source gives)', async () => {
    // prepare: the links as the notifier builds them, one per (role, person the lookup answers)
    const rec = await pendingRollback();
    const links = await Promise.all(
      (['matching_engine_owner', 'oncall_sre'] as const).map(async (role) => {
        const [person] = await engine.oncall!.whoIs(role, new Date());
        return localApprovalLinks(engine, rec, person!.name, role);
      }),
    );
    expect((await postLink(links[0]!.approveUrl)).status).toBe(200);
    // act
    const second = await postLink(links[1]!.approveUrl);
    // assess
    expect(second.status).toBe(403);
    expect(await second.text()).toContain('Kenji Sato already approved');
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).status).toBe('PENDING');
    expect((await getTimeline(engine.doc, engine.tables, rec.incidentId)).filter((e) => e.type === 'approval_approved')).toHaveLength(1);
  });
});
