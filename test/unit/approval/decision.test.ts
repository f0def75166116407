/** The approval decisions as pure functions (lib/approval/decision.ts): no DynamoDB, part of `npm run mutate`. */
import { decisionRefusal, isClosable, requestOutcome, statusAfter, type DecidableRecord } from '../../../lib/approval/decision';

const NOW = new Date('2026-02-09T14:20:00.000Z');
const BINDING = { action: 'kubectl_rollout_undo', paramsHash: 'a'.repeat(64), target: 'service:matching-engine' };

function record(overrides: Partial<DecidableRecord> = {}): DecidableRecord {
  return {
    approvalId: 'a-1',
    step: 'rollback',
    status: 'PENDING',
    approvers: ['oncall_sre', 'matching_engine_owner'],
    minApprovals: 2,
    decisions: [],
    expiresAt: '2026-02-09T15:00:00.000Z',
    level: 2,
    taskToken: 'l2',
    binding: BINDING,
    ...overrides,
  };
}

describe('Function: decisionRefusal', () => {
  it('lets an approver role that has not decided decide a PENDING, unexpired record', () => {
    expect(decisionRefusal(record(), 'oncall_sre', NOW)).toBeUndefined();
  });

  it.each([
    [record({ status: 'APPROVED' }), 'oncall_sre', NOW, 'approval a-1 is already APPROVED'],
    [record({ status: 'CANCELLED' }), 'oncall_sre', NOW, 'approval a-1 is already CANCELLED'],
    [record(), 'oncall_sre', new Date('2026-02-09T15:00:00.000Z'), 'approval a-1 expired at 2026-02-09T15:00:00.000Z'],
    [record(), 'intern', NOW, 'role "intern" is not an approver of step "rollback" (approvers: oncall_sre, matching_engine_owner)'],
    [record({ decisions: [{ role: 'oncall_sre', decision: 'approve' }] }), 'oncall_sre', NOW, 'role "oncall_sre" already decided approval a-1'],
  ])('refuses %#: %s', (rec, role, now, why) => {
    expect(decisionRefusal(rec, role as string, now as Date)).toBe(why);
  });

  it('lets a decision in the last millisecond before expiry through', () => {
    expect(decisionRefusal(record(), 'oncall_sre', new Date(Date.parse('2026-02-09T15:00:00.000Z') - 1))).toBeUndefined();
  });
});

describe('Function: statusAfter', () => {
  it.each([
    [2, [{ role: 'a', decision: 'approve' }], 'PENDING'],
    [2, [{ role: 'a', decision: 'approve' }, { role: 'b', decision: 'approve' }], 'APPROVED'],
    [1, [{ role: 'a', decision: 'approve' }], 'APPROVED'],
    [2, [{ role: 'a', decision: 'approve' }, { role: 'a', decision: 'approve' }], 'PENDING'], // distinct roles
    [2, [{ role: 'a', decision: 'approve' }, { role: 'b', decision: 'reject' }], 'REJECTED'],
    [1, [{ role: 'a', decision: 'reject' }], 'REJECTED'],
    [2, [], 'PENDING'],
    [3, [{ role: 'a', decision: 'approve' }, { role: 'b', decision: 'approve' }], 'PENDING'],
  ] as const)('with min %i and %j is %s', (min, decisions, status) => {
    expect(statusAfter({ minApprovals: min }, decisions)).toBe(status);
  });
});

describe('Function: requestOutcome', () => {
  const request = { incidentId: 'INC-1', step: 'rollback', level: 3, taskToken: 'l3', binding: BINDING };

  it('creates a record when there is none', () => {
    expect(requestOutcome(undefined, request)).toEqual({ kind: 'create' });
  });

  it('stores a later level in a PENDING record', () => {
    expect(requestOutcome(record(), request)).toEqual({ kind: 'update' });
  });

  it('hands back a record decided while it escalated, and a redelivered request', () => {
    expect(requestOutcome(record({ status: 'APPROVED' }), request)).toEqual({ kind: 'return' });
    expect(requestOutcome(record({ status: 'REJECTED' }), request)).toEqual({ kind: 'return' });
    expect(requestOutcome(record({ level: 3, taskToken: 'l3' }), request)).toEqual({ kind: 'return' });
  });

  it('updates when the same level comes with another token (a retried Task)', () => {
    expect(requestOutcome(record({ level: 3, taskToken: 'old' }), request)).toEqual({ kind: 'update' });
  });

  it('refuses a record that binds something else, or none', () => {
    expect(requestOutcome(record({ binding: { ...BINDING, paramsHash: 'b'.repeat(64) } }), request)).toEqual({ kind: 'refuse', reason: expect.stringContaining('binds another invocation (parameters bbbbbbbbbbbb… were approved') });
    expect(requestOutcome(record({ binding: undefined }), request)).toEqual({ kind: 'refuse', reason: expect.stringContaining('binds nothing') });
  });

  it.each(['CANCELLED', 'EXPIRED'] as const)('refuses a %s record, with its reason', (status) => {
    expect(requestOutcome(record({ status, closedReason: 'execution gone' }), request)).toEqual({ kind: 'refuse', reason: `approval a-1 for step "rollback" of INC-1 is ${status} (execution gone); not asking again` });
    expect(requestOutcome(record({ status }), request)).toEqual({ kind: 'refuse', reason: `approval a-1 for step "rollback" of INC-1 is ${status}; not asking again` });
  });
});

describe('Function: isClosable', () => {
  it.each([
    ['PENDING', undefined, true],
    ['APPROVED', undefined, true],
    ['APPROVED', '2026-02-09T14:30:00.000Z', false],
    ['REJECTED', undefined, false],
    ['EXPIRED', undefined, false],
    ['CANCELLED', undefined, false],
  ] as const)('%s (used %s) is closable: %s', (status, usedAt, closable) => {
    expect(isClosable({ status, ...(usedAt ? { usedAt } : {}) })).toBe(closable);
  });
});
