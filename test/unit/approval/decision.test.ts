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
  const as = (role: string, person = 'Li Na', decision: 'approve' | 'reject' = 'approve') => ({ role, person, decision });

  it('lets an approver role that has not decided decide a PENDING, unexpired record', () => {
    expect(decisionRefusal(record(), as('oncall_sre'), NOW)).toBeUndefined();
  });

  it.each([
    [record({ status: 'APPROVED' }), as('oncall_sre'), NOW, 'approval a-1 is already APPROVED'],
    [record({ status: 'CANCELLED' }), as('oncall_sre'), NOW, 'approval a-1 is already CANCELLED'],
    [record(), as('oncall_sre'), new Date('2026-02-09T15:00:00.000Z'), 'approval a-1 expired at 2026-02-09T15:00:00.000Z'],
    [record(), as('intern'), NOW, 'role "intern" is not an approver of step "rollback" (approvers: oncall_sre, matching_engine_owner)'],
    [record({ decisions: [{ role: 'oncall_sre', person: 'Li Na', decision: 'approve' }] }), as('oncall_sre', 'John Park'), NOW, 'role "oncall_sre" already decided approval a-1'],
    [record({ decisions: [{ role: 'oncall_sre', person: 'Kenji Sato', decision: 'approve' }] }), as('matching_engine_owner', 'Kenji Sato'), NOW, 'Kenji Sato already approved approval a-1 as oncall_sre; the approvals of step "rollback" must come from two different people'],
  ])('refuses %#: %s', (rec, attempt, now, why) => {
    expect(decisionRefusal(rec, attempt, now as Date)).toBe(why);
  });

  it.each(['kenji sato', '  KENJI   Sato ', 'Ｋｅｎｊｉ Sato', 'Kenji\u200b Sato'])('knows "%s" as the person who already approved', (spelling) => {
    const rec = record({ decisions: [{ role: 'oncall_sre', person: 'Kenji Sato', decision: 'approve' }] });
    expect(decisionRefusal(rec, as('matching_engine_owner', spelling), NOW)).toContain('two different people');
  });

  it('lets the same person reject in a second role (a rejection only stops the step), and another person approve', () => {
    const rec = record({ decisions: [{ role: 'oncall_sre', person: 'Kenji Sato', decision: 'approve' }] });
    expect(decisionRefusal(rec, as('matching_engine_owner', 'Kenji Sato', 'reject'), NOW)).toBeUndefined();
    expect(decisionRefusal(rec, as('matching_engine_owner', 'Li Na'), NOW)).toBeUndefined();
  });

  it('refuses a second decision once a rejection settled the record', () => {
    const rec = record({ status: 'REJECTED', decisions: [{ role: 'oncall_sre', person: 'Kenji Sato', decision: 'reject' }] });
    expect(decisionRefusal(rec, as('matching_engine_owner', 'Kenji Sato'), NOW)).toBe('approval a-1 is already REJECTED');
  });

  it('lets a decision in the last millisecond before expiry through', () => {
    expect(decisionRefusal(record(), as('oncall_sre'), new Date(Date.parse('2026-02-09T15:00:00.000Z') - 1))).toBeUndefined();
  });
});

describe('Function: statusAfter', () => {
  const d = (role: string, decision: 'approve' | 'reject', person = `person-${role}`) => ({ role, person, decision });
  it.each([
    [2, [d('a', 'approve')], 'PENDING'],
    [2, [d('a', 'approve'), d('b', 'approve')], 'APPROVED'],
    [1, [d('a', 'approve')], 'APPROVED'],
    [2, [d('a', 'approve'), d('a', 'approve')], 'PENDING'], // distinct roles
    [2, [d('a', 'approve', 'Kenji Sato'), d('b', 'approve', 'kenji  SATO')], 'PENDING'], // distinct people
    [2, [d('a', 'approve'), d('b', 'reject')], 'REJECTED'],
    [1, [d('a', 'reject')], 'REJECTED'],
    [2, [], 'PENDING'],
    [3, [d('a', 'approve'), d('b', 'approve')], 'PENDING'],
    [2, [d('a', 'approve', 'P'), d('b', 'approve', 'P'), d('c', 'approve', 'Q')], 'APPROVED'],
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

  it('stores a later level even when its token is the one already stored', () => {
    // Handing the record back would leave it at the lower level: its escalation would not add the new people.
    expect(requestOutcome(record({ level: 2, taskToken: 'l3' }), request)).toEqual({ kind: 'update' });
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
