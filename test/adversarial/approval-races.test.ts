/**
 * Decisions raced against each other and against the end of their execution, on dynalite (the
 * store's conditional writes are what is under test): whatever lands first, one person never
 * approves twice, a role is decided once, and an approval cancelled as its decision lands is never
 * left usable.
 */
import { closeApprovals, decideApproval, getApproval, type ApprovalRecord } from '../../lib/approval/store';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { loadCompiledPlaybooks } from '../../lib/compiled/manifest';
import { pendingApprovalOfStep } from '../helpers/approvals';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';

const tables = LAMBDA_TEST_TABLES;
const playbooks = loadCompiledPlaybooks();
let dynamo: LocalDynamo;

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
});

afterAll(async () => {
  await dynamo.stop();
});

let n = 0;
/** A PENDING approval of a compiled step, on an incident of its own. */
async function pending(playbook: string, stepName: string): Promise<ApprovalRecord> {
  n += 1;
  const step = playbooks.step(playbook, stepName)!;
  return pendingApprovalOfStep(dynamo.doc, tables, `INC-20260209-${String(n).padStart(3, '0')}`, step, `token-${n}`);
}

describe('approval decisions raced', () => {
  it('one person approving in both roles at the same moment: exactly one lands and the step still waits', async () => {
    const rec = await pending('matching-engine-latency', 'rollback_matching_engine');
    // act
    const results = await Promise.allSettled([
      decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'oncall_sre', person: 'Kenji Sato', decision: 'approve' }, new Date()),
      decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'matching_engine_owner', person: 'kenji sato', decision: 'approve' }, new Date()),
    ]);
    // assess
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { name: 'ApprovalError', message: expect.stringContaining('two different people') } });
    const after = await getApproval(dynamo.doc, tables, rec.approvalId);
    expect(after.status).toBe('PENDING');
    expect(after.decisions).toHaveLength(1);
  });

  it('two people deciding one role at the same moment: the role is decided once', async () => {
    const rec = await pending('matching-engine-latency', 'rollback_matching_engine');
    const results = await Promise.allSettled(['Li Na', 'John Park', 'Wang Lei'].map((person) => decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'oncall_sre', person, decision: 'approve' }, new Date())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const after = await getApproval(dynamo.doc, tables, rec.approvalId);
    expect(after.decisions.map((d) => d.role)).toEqual(['oncall_sre']);
    expect(after.status).toBe('PENDING');
  });

  it('an approval cancelled (hand resolve, execution gone) as its one approval lands is never left APPROVED', async () => {
    for (let i = 0; i < 5; i += 1) {
      const rec = await pending('rds-connection-exhaustion', 'restart_leaking_pods');
      // act: the deciding write and the closing write at once
      await Promise.allSettled([
        decideApproval(dynamo.doc, tables, rec.approvalId, { role: 'oncall_sre', person: 'Li Na', decision: 'approve' }, new Date()),
        closeApprovals(dynamo.doc, tables, rec.incidentId, 'CANCELLED', 'resolved by hand', new Date(), [rec.step]),
      ]);
      // assess: whichever came first, the record ends CANCELLED
      expect((await getApproval(dynamo.doc, tables, rec.approvalId)).status).toBe('CANCELLED');
    }
  });
});
