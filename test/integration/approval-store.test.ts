/**
 * The approval decision code (lib/approval/store.ts) on dynalite: one record per (incident, step)
 * with one id through its levels, decisions conditional on the current task token, and the ways
 * a record stops being usable. Part of `npm run mutate`.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { closeApprovals, decideApproval, findApprovalForStep, getApproval, isStepApproved, listApprovals, markApprovalUsed, requestApproval, type NewApproval } from '../../lib/approval/store';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';

const tables = { incidents: 'inc', breakers: 'brk', approvals: 'apr' };
const T0 = new Date('2026-02-09T14:17:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
let dynamo: LocalDynamo;
let n = 0;

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
});

afterAll(async () => dynamo.stop());

function approval(overrides: Partial<NewApproval> = {}): NewApproval {
  n += 1;
  return {
    incidentId: `INC-20260209-${String(100 + n).padStart(3, '0')}`,
    step: 'rollback',
    action: 'kubectl_rollout_undo',
    level: 2,
    approvers: ['oncall_sre', 'matching_engine_owner'],
    minApprovals: 2,
    taskToken: `token-${n}-l2`,
    timeoutSeconds: 600,
    totalSeconds: 3300,
    binding: { action: 'kubectl_rollout_undo', paramsHash: 'a'.repeat(64), target: 'service:matching-engine' },
    params: { deployment: 'matching-engine' },
    ...overrides,
  };
}

const decide = (id: string, role: string, decision: 'approve' | 'reject' = 'approve', when = at(60)) => decideApproval(dynamo.doc, tables, id, { role, person: `p-${role}`, decision }, when);

describe('approval records', () => {
  describe('Function: requestApproval', () => {
    it('creates one PENDING record whose expiry is the end of the last level, and the current level\'s window', async () => {
      const rec = await requestApproval(dynamo.doc, tables, approval(), T0);
      expect(rec).toMatchObject({ status: 'PENDING', level: 2, decisions: [], expiresAt: at(3300).toISOString(), levelOpenedAt: T0.toISOString(), levelExpiresAt: at(600).toISOString() });
      expect(await getApproval(dynamo.doc, tables, rec.approvalId)).toEqual(expect.objectContaining({ approvalId: rec.approvalId, taskToken: rec.taskToken }));
    });

    it('keeps the id, binding and decisions at a later level and stores its task token', async () => {
      const input = approval();
      const l2 = await requestApproval(dynamo.doc, tables, input, T0);
      await decide(l2.approvalId, 'oncall_sre');
      const l3 = await requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'l3', timeoutSeconds: 900, totalSeconds: 2700 }, at(600));
      expect(l3).toMatchObject({ approvalId: l2.approvalId, level: 3, taskToken: 'l3', expiresAt: l2.expiresAt, levelExpiresAt: at(1500).toISOString(), status: 'PENDING' });
      expect(l3.decisions.map((d) => d.role)).toEqual(['oncall_sre']);
    });

    it('counts each level\'s window from when it opened (its state was entered), not from when the request ran', async () => {
      // prepare: the level-2 state was entered at T0; its request ran 5 s later (a cold start)
      const input = approval({ windowOpenedAt: T0 });
      // act
      const l2 = await requestApproval(dynamo.doc, tables, input, at(5));
      const l3 = await requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'l3', timeoutSeconds: 900, totalSeconds: 2700, windowOpenedAt: at(601) }, at(604));
      // assess
      expect(l2).toMatchObject({ levelOpenedAt: T0.toISOString(), levelExpiresAt: at(600).toISOString() });
      expect(l3).toMatchObject({ level: 3, levelOpenedAt: at(601).toISOString(), levelExpiresAt: at(1501).toISOString() });
    });

    it('hands back a record decided while it escalated, unchanged, for the caller to release its task', async () => {
      const input = approval();
      const l2 = await requestApproval(dynamo.doc, tables, input, T0);
      await decide(l2.approvalId, 'oncall_sre');
      await decide(l2.approvalId, 'matching_engine_owner');
      const l3 = await requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'l3' }, at(600));
      expect(l3).toMatchObject({ approvalId: l2.approvalId, status: 'APPROVED', level: 2, taskToken: input.taskToken });
    });

    it('is idempotent for a redelivered request of the same level and token', async () => {
      const input = approval();
      const first = await requestApproval(dynamo.doc, tables, input, T0);
      const again = await requestApproval(dynamo.doc, tables, input, at(1));
      expect(again.approvalId).toBe(first.approvalId);
      expect(again.levelExpiresAt).toBe(first.levelExpiresAt);
    });

    it('refuses a request binding another invocation, and one for a closed record', async () => {
      const input = approval();
      await requestApproval(dynamo.doc, tables, input, T0);
      await expect(requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'x', binding: { ...input.binding, target: 'service:wallet-service' } }, at(600))).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining('target service:matching-engine was approved, service:wallet-service is invoked') });
      await closeApprovals(dynamo.doc, tables, input.incidentId, 'CANCELLED', 'execution gone', at(700), [input.step]);
      await expect(requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'y' }, at(800))).rejects.toMatchObject({ message: expect.stringContaining('is CANCELLED (execution gone)') });
    });
  });

  describe('Function: decideApproval', () => {
    it('stays PENDING until every required role approved, then APPROVED', async () => {
      const rec = await requestApproval(dynamo.doc, tables, approval(), T0);
      expect((await decide(rec.approvalId, 'oncall_sre')).status).toBe('PENDING');
      expect((await decide(rec.approvalId, 'matching_engine_owner')).status).toBe('APPROVED');
      expect(await isStepApproved(dynamo.doc, tables, rec.incidentId, rec.step)).toBe(true);
    });

    it('is APPROVED at min_approvals distinct roles when fewer than all are needed', async () => {
      const rec = await requestApproval(dynamo.doc, tables, approval({ approvers: ['oncall_sre', 'team_lead', 'dba'], minApprovals: 2 }), T0);
      await decide(rec.approvalId, 'dba');
      expect((await decide(rec.approvalId, 'team_lead')).status).toBe('APPROVED');
    });

    it('is REJECTED by one rejection, whatever the others said', async () => {
      const rec = await requestApproval(dynamo.doc, tables, approval(), T0);
      await decide(rec.approvalId, 'oncall_sre');
      expect((await decide(rec.approvalId, 'matching_engine_owner', 'reject')).status).toBe('REJECTED');
      expect(await isStepApproved(dynamo.doc, tables, rec.incidentId, rec.step)).toBe(false);
    });

    it.each([
      ['a role that is not an approver', async (id: string) => decide(id, 'intern'), 'is not an approver'],
      ['a role deciding twice', async (id: string) => (await decide(id, 'oncall_sre'), decide(id, 'oncall_sre')), 'already decided'],
      ['after the last level expired', async (id: string) => decide(id, 'oncall_sre', 'approve', at(3300)), 'expired at'],
      ['an unknown id', async () => decide('00000000-0000-4000-8000-000000000000', 'oncall_sre'), 'no approval with id'],
    ])('refuses %s', async (_label, act, message) => {
      const rec = await requestApproval(dynamo.doc, tables, approval(), T0);
      await expect(act(rec.approvalId)).rejects.toMatchObject({ name: 'ApprovalError', message: expect.stringContaining(message) });
    });

    it('refuses a decision on a record that is no longer PENDING', async () => {
      const rec = await requestApproval(dynamo.doc, tables, approval({ minApprovals: 1 }), T0);
      await decide(rec.approvalId, 'oncall_sre');
      await expect(decide(rec.approvalId, 'matching_engine_owner')).rejects.toMatchObject({ message: expect.stringContaining('already APPROVED') });
    });

    it('writes against the task token current now: a level stored in between makes it read again, not lose the decision', async () => {
      const input = approval();
      const rec = await requestApproval(dynamo.doc, tables, input, T0);
      // Another writer (a new level) changes the token between the decision's read and its write.
      const send = dynamo.doc.send.bind(dynamo.doc);
      let raced = false;
      const spy = jest.spyOn(dynamo.doc, 'send').mockImplementation((async (cmd: unknown) => {
        if (!raced && cmd instanceof UpdateCommand && String(cmd.input.UpdateExpression).startsWith('SET decisions')) {
          raced = true;
          await requestApproval(dynamo.doc, tables, { ...input, level: 3, taskToken: 'l3-token' }, at(600));
        }
        return send(cmd as never);
      }) as never);
      try {
        const decided = await decide(rec.approvalId, 'oncall_sre', 'approve', at(601));
        expect(raced).toBe(true);
        expect(decided).toMatchObject({ level: 3, taskToken: 'l3-token', decisions: [expect.objectContaining({ role: 'oncall_sre' })] });
      } finally {
        spy.mockRestore();
      }
    });
  });

  describe('Functions: markApprovalUsed, closeApprovals', () => {
    it('closes PENDING and unused APPROVED records; leaves used, rejected and expired ones', async () => {
      const pending = approval({ step: 'a' });
      const approvedUnused = { ...approval({ step: 'b', minApprovals: 1 }), incidentId: pending.incidentId };
      const approvedUsed = { ...approval({ step: 'c', minApprovals: 1 }), incidentId: pending.incidentId };
      const rejected = { ...approval({ step: 'd' }), incidentId: pending.incidentId };
      for (const a of [pending, approvedUnused, approvedUsed, rejected]) await requestApproval(dynamo.doc, tables, a, T0);
      const idOf = async (step: string) => (await findApprovalForStep(dynamo.doc, tables, pending.incidentId, step))!.approvalId;
      await decide(await idOf('b'), 'oncall_sre');
      await decide(await idOf('c'), 'oncall_sre');
      await markApprovalUsed(dynamo.doc, tables, pending.incidentId, 'c', at(100));
      await markApprovalUsed(dynamo.doc, tables, pending.incidentId, 'c', at(200)); // once
      await decide(await idOf('d'), 'oncall_sre', 'reject');
      // act
      const closed = await closeApprovals(dynamo.doc, tables, pending.incidentId, 'CANCELLED', 'its execution ended', at(300), ['a', 'b', 'c', 'd']);
      // assess
      expect(closed.map((r) => r.step).sort()).toEqual(['a', 'b']);
      const statusOf = async (step: string) => findApprovalForStep(dynamo.doc, tables, pending.incidentId, step);
      expect(await statusOf('a')).toMatchObject({ status: 'CANCELLED', closedReason: 'its execution ended' });
      expect(await statusOf('b')).toMatchObject({ status: 'CANCELLED' });
      expect(await statusOf('c')).toMatchObject({ status: 'APPROVED', usedAt: at(100).toISOString() });
      expect(await statusOf('d')).toMatchObject({ status: 'REJECTED' });
      expect(await closeApprovals(dynamo.doc, tables, pending.incidentId, 'EXPIRED', 'again', at(400))).toEqual([]);
    });

    it('lists records by status, oldest first', async () => {
      const pendings = await listApprovals(dynamo.doc, tables, 'PENDING');
      expect(pendings.every((r) => r.status === 'PENDING')).toBe(true);
      expect(pendings.map((r) => r.createdAt)).toEqual([...pendings.map((r) => r.createdAt)].sort());
    });
  });
});
