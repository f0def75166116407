/**
 * The runtime guard's pure parts, directly: the canonical form approvals are bound by, the
 * binding's comparison, the approval-reasons of a step, every refusal of guardStep with its rule
 * and words, the approvers' count (two-person rule) and the factor check of scaled results. Fast
 * on purpose: `npm run mutate` runs these against every mutant of lib/policy/guard.ts.
 */
import { approvalBinding, approversShort, bindingMismatch, canonicalJson, checkFactor, decideStep, guardStep, personKey, sha256, type GuardState, type StoredApproval } from '../../../lib/policy/guard';
import type { Policy } from '../../../lib/policy';
import type { BoundSpec, FactorBound } from '../../../lib/policy/step';
import { facts } from '../../helpers/step-facts';
import { defaultPolicy } from '../../../lib/policy/files';

// Read in each test, not while the file loads: Stryker counts what runs at load as "static" and
// restarts a test process for every mutant it reaches (npm run mutate, stryker.config.json).
let policy: Policy;
let binding: ReturnType<typeof approvalBinding>;
beforeEach(() => {
  policy = defaultPolicy();
  binding = approvalBinding('kubectl_scale', { deployment: 'trading-api', replicas: 4 }, [{ kind: 'service', name: 'trading-api' }], policy);
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth, drops undefined members and writes undefined array items as null', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, undefined, { z: 1, y: null }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,null,{"y":null,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('orders keys by code unit, equal keys impossible, and writes scalars as JSON', () => {
    expect(canonicalJson({ B: 1, a: 2, A: 3, b: 4 })).toBe('{"A":3,"B":1,"a":2,"b":4}');
    expect(canonicalJson({ 'k"ey': 'v' })).toBe('{"k\\"ey":"v"}');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson('s')).toBe('"s"');
    expect(canonicalJson([])).toBe('[]');
    expect(canonicalJson({})).toBe('{}');
  });

  it('is the text sha256 is taken of', () => {
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('approvalBinding and bindingMismatch', () => {
  it('names services by identity, once, sorted, and other targets as written', () => {
    const b = approvalBinding('kubectl_scale', { replicas: 4 }, [
      { kind: 'service', name: 'MATCHING-ENGINE:8080' },
      { kind: 'service', name: 'matching-engine.trading.svc.cluster.local' },
      { kind: 'cache', name: 'Redis-Main' },
    ], policy);
    expect(b).toEqual({ action: 'kubectl_scale', paramsHash: sha256('{"replicas":4}'), target: 'cache:Redis-Main,service:matching-engine' });
    expect(approvalBinding('send_alert', {}, [], policy).target).toBe('none');
  });

  it('says each difference with both sides, and nothing when all three agree', () => {
    const expected = { action: 'kubectl_scale', paramsHash: 'a'.repeat(64), target: 'service:trading-api' };
    expect(bindingMismatch(expected, expected)).toBeUndefined();
    expect(bindingMismatch(undefined, expected)).toBe('the approval record binds nothing (written before bindings were stored)');
    expect(bindingMismatch({ action: 'rolling_restart', paramsHash: 'b'.repeat(64), target: 'service:wallet-service' }, expected)).toBe(
      `action rolling_restart was approved, kubectl_scale is invoked; target service:wallet-service was approved, service:trading-api is invoked; parameters ${'b'.repeat(12)}… were approved, ${'a'.repeat(12)}… are invoked`,
    );
    expect(bindingMismatch({ ...expected, paramsHash: 'c'.repeat(64) }, expected)).toBe(`parameters ${'c'.repeat(12)}… were approved, ${'a'.repeat(12)}… are invoked`);
    expect(bindingMismatch({ ...expected, target: 'none' }, expected)).toBe('target none was approved, service:trading-api is invoked');
  });
});

describe('decideStep', () => {
  it('needs no approval for an automatic read-only step, and one for a step compiled to wait', () => {
    expect(decideStep(facts('redis_analysis', { commands: ['INFO memory'] }), policy)).toEqual({ refusals: [], approvalReasons: [] });
    expect(decideStep(facts('redis_analysis', { commands: ['INFO memory'] }, { mode: 'approval', approvers: ['oncall_sre'] }), policy).approvalReasons).toEqual(['the step is compiled to wait for approval']);
  });

  it("puts the compiled mode first, then each rule's reason with its id, and keeps refusals apart", () => {
    const d = decideStep(facts('rolling_restart', { deployment: 'matching-engine' }, { mode: 'approval', approvers: ['oncall_sre'], risk: 'HIGH' }), policy);
    expect(d.refusals).toEqual([]);
    expect(d.approvalReasons[0]).toBe('the step is compiled to wait for approval');
    expect(d.approvalReasons.slice(1).map((r) => r.replace(/\].*/, ']'))).toEqual(expect.arrayContaining(['[protected-service-approval]', '[high-risk-approval]']));
    const refused = decideStep(facts('feature_flags', { disable: ['spot_trading'] }), policy);
    expect(refused.refusals.map((f) => f.rule)).toContain('degradable-flags-only');
    expect(refused.refusals.every((f) => f.effect === 'refuse')).toBe(true);
  });
});

function state(approval: StoredApproval | undefined, gate: Awaited<ReturnType<GuardState['gate']>> = { mode: 'auto', reason: 'closed' }): GuardState & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    approval: async () => {
      calls.push('approval');
      return approval;
    },
    gate: async () => {
      calls.push('gate');
      return gate;
    },
  };
}

const scale = facts('kubectl_scale', { deployment: 'trading-api', replicas: 4 }, { mode: 'approval', approvers: ['oncall_sre'], risk: 'MEDIUM' });
const approved = (over: Partial<StoredApproval> = {}): StoredApproval => ({ approvalId: 'apr-1', status: 'APPROVED', binding, decisions: [{ role: 'oncall_sre', decision: 'approve', person: 'Li Na' }], ...over });

describe('guardStep', () => {
  it('refuses a rule violation first, naming the rule, its category and the step, before reading any state', async () => {
    const s = state(approved());
    const err = await guardStep(facts('feature_flags', { disable: ['spot_trading'] }), policy, s, 'W', binding).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PolicyViolationError', rule: 'degradable-flags-only', step: 'step' });
    expect((err as Error).message).toMatch(/^W: \[degradable-flags-only\]/);
    expect(s.calls).toEqual([]);
  });

  it('refuses without an APPROVED record, saying which record and why approval is needed', async () => {
    await expect(guardStep(scale, policy, state(undefined), 'W', binding)).rejects.toMatchObject({ rule: 'approval-required', step: 'step', message: 'W: no APPROVED approval; it needs one because the step is compiled to wait for approval' });
    await expect(guardStep(scale, policy, state(approved({ status: 'PENDING' })), 'W', binding)).rejects.toMatchObject({ rule: 'approval-required', message: 'W: no APPROVED approval (approval apr-1 is PENDING); it needs one because the step is compiled to wait for approval' });
  });

  it('refuses an approval bound to something else, and one by the wrong approvers', async () => {
    await expect(guardStep(scale, policy, state(approved({ binding: { ...binding, action: 'rolling_restart' } })), 'W', binding)).rejects.toMatchObject({ rule: 'approval-binding', step: 'step', message: 'W: approval apr-1 does not cover this invocation: action rolling_restart was approved, kubectl_scale is invoked' });
    await expect(guardStep(scale, policy, state(approved({ decisions: [{ role: 'director', decision: 'approve', person: 'Zhang' }] })), 'W', binding)).rejects.toMatchObject({ rule: 'approval-approvers', step: 'step', message: 'W: approval apr-1 holds a decision by role "director" (Zhang), which is not an approver of the step (oncall_sre)' });
  });

  it('runs an approved mutating step only while the breakers are in auto mode', async () => {
    const open = state(approved(), { mode: 'diagnose_only', reason: 'global breaker open' });
    await expect(guardStep(scale, policy, open, 'W', binding)).rejects.toMatchObject({ rule: 'breaker-gate', step: 'step', message: 'W: automatic remediation is paused (diagnose_only: global breaker open)' });
    expect(open.calls).toEqual(['approval', 'gate']);
    const ok = state(approved());
    await expect(guardStep(scale, policy, ok, 'W', binding)).resolves.toBeUndefined();
    expect(ok.calls).toEqual(['approval', 'gate']);
  });

  it('lets a read-only automatic step pass without reading the approval or the breakers', async () => {
    const s = state(undefined, { mode: 'service_stopped', reason: 'stopped' });
    await expect(guardStep(facts('redis_analysis', { commands: ['INFO memory'] }), policy, s, 'W', binding)).resolves.toBeUndefined();
    expect(s.calls).toEqual([]);
  });
});

describe('personKey and approversShort', () => {
  it('folds width, invisible characters, case and runs of spaces', () => {
    expect(personKey('  Kenji \u200b  SATO ')).toBe('kenji sato');
    expect(personKey('ＫＥＮＪＩ\tSato')).toBe('kenji sato');
  });

  const step = { approvers: ['oncall_sre', 'team_lead'], minApprovals: 2 };
  const d = (role: string, person: string, decision: 'approve' | 'reject' = 'approve') => ({ role, person, decision });
  it('accepts two approvals by two roles and two people', () => {
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na'), d('team_lead', 'Wang Wei')] }), step)).toBeUndefined();
  });

  it('names a stranger role, a rejection, too few roles and too few people', () => {
    expect(approversShort(approved({ decisions: [d('director', 'Zhang')] }), { approvers: [] })).toBe('holds a decision by role "director" (Zhang), which is not an approver of the step (none)');
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na'), d('team_lead', 'Wang Wei', 'reject')] }), step)).toBe('holds a rejection');
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na')] }), step)).toBe('has 1 approving role(s) of the 2 the step requires (oncall_sre + team_lead)');
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na'), d('team_lead', ' li  NA')] }), step)).toBe('has approvals by 1 person(s) (Li Na,  li  NA) where the step requires 2 different people (oncall_sre + team_lead)');
  });

  it('requires every listed role when minApprovals is not given, and at least one approval', () => {
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na')] }), { approvers: ['oncall_sre', 'team_lead'] })).toBe('has 1 approving role(s) of the 2 the step requires (oncall_sre + team_lead)');
    expect(approversShort(approved({ decisions: [] }), { approvers: [], minApprovals: 0 })).toBe('has 0 approving role(s) of the 1 the step requires ()');
    expect(approversShort(approved({ decisions: [d('oncall_sre', 'Li Na')] }), { approvers: ['oncall_sre', 'team_lead'], minApprovals: 1 })).toBeUndefined();
  });
});

describe('checkFactor', () => {
  const spec: BoundSpec = { local: 'current_max', floor: 'min_scale_factor', ceiling: 'max_scale_factor' };
  const bound = (min: number, max: number, reason?: string): FactorBound => ({ param: 'new_max', expression: `current_max * ${max}`, local: 'current_max', min, max, ...(reason ? { reason } : {}) });

  it("accepts a result within the compiled range and the policy's 1..3, at both edges", () => {
    expect(checkFactor(spec, bound(2, 2), 20, 10, policy)).toBeUndefined();
    expect(checkFactor(spec, undefined, 10, 10, policy)).toBeUndefined();
    expect(checkFactor(spec, undefined, 30, 10, policy)).toBeUndefined();
  });

  it("refuses a result outside the policy's floor and ceiling, with the factor rounded to three places", () => {
    expect(checkFactor(spec, undefined, 31, 10, policy)).toBe("31 is 3.1 × current_max (10), outside the policy's 1..3");
    expect(checkFactor(spec, undefined, 9, 10, policy)).toBe("9 is 0.9 × current_max (10), outside the policy's 1..3");
    expect(checkFactor(spec, undefined, 10, 3, policy)).toBe("10 is 3.333 × current_max (3), outside the policy's 1..3");
    expect(checkFactor(spec, undefined, 0, 10, policy)).toBe("0 is 0 × current_max (10), outside the policy's 1..3");
  });

  it('refuses a result outside the compiled range by more than one unit of the base (rounding to whole replicas)', () => {
    expect(checkFactor(spec, bound(2, 2), 21, 10, policy)).toBeUndefined();
    expect(checkFactor(spec, bound(2, 2), 19, 10, policy)).toBeUndefined();
    expect(checkFactor(spec, bound(2, 2), 22, 10, policy)).toBe('22 is 2.2 × current_max (10), outside the compiled 2..2 of "current_max * 2"');
    expect(checkFactor(spec, bound(2, 2), 18, 10, policy)).toBe('18 is 1.8 × current_max (10), outside the compiled 2..2 of "current_max * 2"');
    expect(checkFactor(spec, bound(2, 2), 25, 10, policy)).toBe('25 is 2.5 × current_max (10), outside the compiled 2..2 of "current_max * 2"');
  });

  it('skips the compiled range of a bound the compiler could not derive, never the policy', () => {
    expect(checkFactor(spec, bound(2, 2, 'not affine'), 28, 10, policy)).toBeUndefined();
    expect(checkFactor(spec, bound(2, 2, 'not affine'), 40, 10, policy)).toBe("40 is 4 × current_max (10), outside the policy's 1..3");
  });

  it('refuses a base or result that is not a positive finite number', () => {
    expect(checkFactor(spec, undefined, 10, 0, policy)).toBe('cannot scale current_max = 0 to 10');
    expect(checkFactor(spec, undefined, -10, -5, policy)).toBe('cannot scale current_max = -5 to -10');
    expect(checkFactor(spec, undefined, Number.NaN, 10, policy)).toBe('cannot scale current_max = 10 to NaN');
    expect(checkFactor(spec, undefined, 20, Number.POSITIVE_INFINITY, policy)).toBe('cannot scale current_max = Infinity to 20');
    expect(checkFactor(spec, undefined, Number.POSITIVE_INFINITY, 10, policy)).toBe('cannot scale current_max = 10 to Infinity');
  });
});

describe('guard: several findings at once', () => {
  it('keeps refusals out of the approval reasons, and joins several of each with "; "', async () => {
    const step = facts('rolling_restart', { deployment: 'matching-engine' }, { mode: 'approval', approvers: ['oncall_sre'], risk: 'HIGH' });
    const d = decideStep(step, policy);
    expect(d.approvalReasons.every((r) => !r.startsWith('[blacklisted'))).toBe(true);
    await expect(guardStep(step, policy, state(undefined), 'W', binding)).rejects.toMatchObject({ message: `W: no APPROVED approval; it needs one because ${d.approvalReasons.join('; ')}` });
    expect(d.approvalReasons.length).toBeGreaterThan(1);
    const both = facts('feature_flags', { disable: ['spot_trading', 'maintenance_mode'] });
    const refusals = decideStep(both, policy).refusals;
    expect(refusals.length).toBeGreaterThan(1);
    expect(decideStep(both, policy).approvalReasons).toEqual([]);
    await expect(guardStep(both, policy, state(undefined), 'W', binding)).rejects.toMatchObject({ message: expect.stringContaining('; [') });
  });

  it('names every approver of the step when a stranger decided', () => {
    expect(approversShort(approved({ decisions: [{ role: 'director', decision: 'approve', person: 'Z' }] }), { approvers: ['oncall_sre', 'team_lead'] })).toBe('holds a decision by role "director" (Z), which is not an approver of the step (oncall_sre, team_lead)');
  });
});
