/**
 * Attacks on approvals: a decision racing an escalation, approving as someone who does not hold
 * the role, and using an approval whose execution has gone. The local engine runs the seed's
 * matching-engine playbook to its rollback approval (HIGH: on-call SRE and the matching engine's
 * owner), with real waits sped up.
 */
import { decideApproval, findApprovalForStep, getApproval, requestApproval } from '../../lib/approval/store';
import { getIncident, getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { decide, startServer, type LocalServer } from '../../lib/local/server';
import { approvalBinding } from '../../lib/policy';
import { resolveByHand, runCore } from '../../lib/runtime/core';
import { startedIncident } from '../helpers/started-incident';
import { defaultPolicy } from '../../lib/policy/files';

let engine: LocalEngine;
let server: LocalServer;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, speedUp: 600 }).start();
  server = await startServer(engine, { port: 0 });
});

afterAll(async () => {
  await server.close();
  await engine.stop();
});

let n = 0;
async function pendingRollback() {
  n += 1;
  const started = await startedIncident(engine.doc, engine.tables, { playbook: 'matching-engine-latency', service: `matching-engine-${n}`, playbooks: engine.compiled });
  const i = started.incident;
  const refs = { incident: { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity }, context: {}, steps: {} };
  const request = async (level: number) => {
    const { token, result } = engine.tokens.issue(60_000);
    await runCore('Fn_approval_request', { op: 'request', taskToken: token, step: 'rollback_matching_engine', level, timeout_seconds: 600, ...refs }, engine.coreDeps());
    return { token, result };
  };
  return { started, refs, request };
}

describe('approvals under attack', () => {
  it('a decision made while the approval escalates is honoured: the next level finds it decided and goes on at once', async () => {
    // prepare: level 2 asked; both approvers decide just as its window ends
    const { started, request } = await pendingRollback();
    const l2 = await request(2);
    const rec = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    // Level 2's task timed out (its token is gone), so the decisions cannot release it.
    engine.tokens.fail(l2.token, 'States.Timeout', 'window over');
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, new Date());
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'matching_engine_owner', person: 'Kenji Sato', decision: 'approve' }, new Date());
    // act: level 3 asks
    const l3 = await request(3);
    // assess: same id, APPROVED, and level 3's task released without anyone deciding again
    await expect(l3.result).resolves.toMatchObject({ approvalId: rec.approvalId });
    expect(await getApproval(engine.doc, engine.tables, rec.approvalId)).toMatchObject({ status: 'APPROVED' });
    expect((await getTimeline(engine.doc, engine.tables, started.incident.id)).map((e) => e.type)).toContain('approval_already_decided');
  });

  it('a rejection at the edge of a window fails the next level\'s task at once', async () => {
    const { started, request } = await pendingRollback();
    const l2 = await request(2);
    const rec = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    engine.tokens.fail(l2.token, 'States.Timeout', 'window over');
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'matching_engine_owner', person: 'Kenji Sato', decision: 'reject', reason: 'not a deploy issue' }, new Date());
    const l3 = await request(3);
    await expect(l3.result).rejects.toMatchObject({ name: 'ApprovalRejectedError', message: expect.stringContaining('Kenji Sato (matching_engine_owner) rejected') });
  });

  it('approving from the CLI or the local API needs the roster: any --as name is refused', async () => {
    const { started, request } = await pendingRollback();
    await request(2);
    const rec = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    // Nobody called "mallory" holds oncall_sre; the matching engine's owner is Kenji Sato (sato.kenji).
    await expect(decide(engine, rec.approvalId, 'approve', 'mallory', 'oncall_sre')).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('"mallory" does not hold the role oncall_sre') });
    await expect(decide(engine, rec.approvalId, 'approve', 'Li Na', 'matching_engine_owner')).rejects.toMatchObject({ message: expect.stringContaining('does not hold the role matching_engine_owner') });
    const res = await fetch(`${server.url}/api/approvals/${rec.approvalId}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify({ as: 'mallory', role: 'oncall_sre' }) });
    expect(res.status).toBe(409);
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).decisions).toEqual([]);
    // The one who holds it may decide, named as the roster names them.
    const ok = await decide(engine, rec.approvalId, 'approve', 'sato.kenji', 'matching_engine_owner');
    expect(ok.status).toBe('PENDING');
    expect((await getApproval(engine.doc, engine.tables, rec.approvalId)).decisions.map((d) => d.person)).toEqual(['Kenji Sato']);
  });

  it('an approval whose incident was resolved by hand is CANCELLED and can never be used', async () => {
    const { started, request } = await pendingRollback();
    await request(2);
    const rec = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    await resolveByHand(engine.coreDeps(), started.incident.id, { person: 'Li Na', reason: 'fixed it myself' });
    expect(await getApproval(engine.doc, engine.tables, rec.approvalId)).toMatchObject({ status: 'CANCELLED', closedReason: expect.stringContaining('resolved by hand by Li Na') });
    await expect(decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, new Date())).rejects.toMatchObject({ message: expect.stringContaining('already CANCELLED') });
    expect((await getIncident(engine.doc, engine.tables, started.incident.id)).status).toBe('RESOLVED');
  });

  it('an APPROVED approval whose execution ended before the step ran is CANCELLED, never a usable record', async () => {
    const { started, request } = await pendingRollback();
    await request(2);
    const rec = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, new Date());
    await decideApproval(engine.doc, engine.tables, rec.approvalId, { role: 'matching_engine_owner', person: 'Kenji Sato', decision: 'approve' }, new Date());
    // act: the execution fails before running the rollback
    await runCore('Fn_incident', { op: 'record', event: 'x', step: 'y', ...{ incident: { id: started.incident.id, playbook: 'matching-engine-latency', service: started.incident.service, severity: 'HIGH' }, context: {}, steps: {} } }, engine.coreDeps());
    const { recordExecutionEnded } = await import('../../lib/runtime/core');
    await recordExecutionEnded({ executionName: started.incident.id, status: 'FAILED', error: 'Lambda.Unknown' }, engine.coreDeps());
    // assess
    expect(await getApproval(engine.doc, engine.tables, rec.approvalId)).toMatchObject({ status: 'CANCELLED' });
  });

  it('one approval keeps one id through its levels and binds the resolved parameters', async () => {
    const { started, request } = await pendingRollback();
    await request(2);
    const first = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    await request(3);
    await request(4);
    const last = (await findApprovalForStep(engine.doc, engine.tables, started.incident.id, 'rollback_matching_engine'))!;
    expect(last).toMatchObject({ approvalId: first.approvalId, level: 4, expiresAt: first.expiresAt, params: { deployment: 'matching-engine' } });
    expect(last.binding).toEqual(approvalBinding('kubectl_rollout_undo', { deployment: 'matching-engine' }, [{ kind: 'service', name: 'matching-engine' }], defaultPolicy()));
    // A request for the same step binding something else is refused, not merged.
    await expect(requestApproval(engine.doc, engine.tables, { ...last, taskToken: 'x', timeoutSeconds: 1, totalSeconds: 1, binding: { ...last.binding!, paramsHash: '1'.repeat(64) }, params: {} }, new Date())).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('binds another invocation') });
  });
});
