/**
 * The action dispatcher, over in-memory stored state (no DynamoDB): every way an invocation is
 * admitted or refused, decided from the stored incident, its step records, the compiled step,
 * the approval record and the breakers — never from the payload. Fast on purpose: mutation
 * testing (`npm run mutate`) runs these.
 */
import * as z from '../../../lib/yaml/zod';
import { ACTIONS, type ActionDefinition, type ActionResult } from '../../../lib/actions';
import { dispatchAction, type DispatchDeps } from '../../../lib/actions/dispatch';
import { TransientTargetError } from '../../../lib/actions/errors';
import { PolicyViolationError } from '../../../lib/policy/errors';
import type { ApprovalRecord } from '../../../lib/approval/store';
import type { Incident, IncidentWithSteps, StepRecord } from '../../../lib/incident';
import { loadCompiledPlaybooks } from '../../../lib/compiled/manifest';
import { approvalBinding, createPolicy, createServiceMap } from '../../../lib/policy';
import { defaultPolicy } from '../../../lib/policy/files';
import { resolveTargets } from '../../../lib/actions/resolve';

const playbooks = loadCompiledPlaybooks();
const EXEC = 'arn:aws:states:us-east-1:123456789012:execution:traffic-surge:INC-20260209-001';

interface World {
  incident: Incident;
  steps: Record<string, StepRecord>;
  approvals: Record<string, ApprovalRecord>;
  gate: { mode: 'auto' | 'diagnose_only' | 'service_stopped'; reason: string };
  attempts: { allowed: boolean; reason?: string };
  events: { type: string; step: string; summary: string; data?: unknown }[];
  calls: string[];
}

function world(playbook = 'traffic-surge', overrides: Partial<Incident> = {}): World {
  return {
    incident: {
      id: 'INC-20260209-001',
      playbook,
      service: 'trading-api',
      severity: 'MEDIUM',
      status: 'MITIGATING',
      executionArn: EXEC,
      playbookHash: playbooks.get(playbook)!.hash,
      timestamps: { anomalyStartedAt: '2026-02-09T14:00:00.000Z', detectedAt: '2026-02-09T14:15:00.000Z' },
      ...overrides,
    },
    steps: {},
    approvals: {},
    gate: { mode: 'auto', reason: 'breakers closed' },
    attempts: { allowed: true },
    events: [],
    calls: [],
  };
}

function deps(w: World): DispatchDeps {
  let claims = 0;
  return {
    targets: {},
    policy: defaultPolicy(),
    playbooks,
    now: () => new Date('2026-02-09T14:20:00.000Z'),
    load: async (id) => (id === w.incident.id ? ({ incident: w.incident, steps: w.steps } as IncidentWithSteps) : undefined),
    claim: async (input) => {
      const prior = w.steps[input.step];
      if (prior && prior.state !== 'retryable') return { claimed: false, record: prior };
      claims += 1;
      const record: StepRecord = { incidentId: input.incidentId, step: input.step, state: 'running', attempt: (prior?.attempt ?? 0) + 1, claimId: `claim-${claims}`, action: input.action, executionArn: input.executionArn, claimedAt: input.now.toISOString(), memory: prior?.memory ?? {} };
      w.steps[input.step] = record;
      return { claimed: true, record };
    },
    remember: async (_id, step, claimId, key, value) => {
      const r = w.steps[step]!;
      if (r.claimId !== claimId) throw new Error('not the claim holder');
      const memory = { ...r.memory };
      if (!(key in memory)) memory[key] = value;
      w.steps[step] = { ...r, memory };
      return memory[key];
    },
    finish: async (_id, step, claimId, outcome) => {
      const r = w.steps[step]!;
      if (r.claimId !== claimId || r.state !== 'running') return false;
      w.steps[step] = outcome.state === 'done' ? { ...r, state: 'done', summary: outcome.summary, outputs: outcome.outputs, finishedAt: '2026-02-09T14:21:00.000Z' } : { ...r, state: outcome.state, error: outcome.error };
      return true;
    },
    approval: async (_id, step) => w.approvals[step],
    gate: async () => w.gate,
    attempt: async () => w.attempts,
    succeeded: async (service) => void w.calls.push(`succeeded ${service}`),
    record: async (_id, e) => void w.events.push(e),
  };
}

/** The real definition with a recording `run`: what the action would do is the test's to see. */
function recording(name: string, w: World, run?: (params: Record<string, unknown>, ctx: Parameters<ActionDefinition['run']>[1]) => Promise<ActionResult>): ActionDefinition<Record<string, unknown>> {
  const def = ACTIONS[name] as ActionDefinition<Record<string, unknown>>;
  return {
    ...def,
    run: async (params, ctx) => {
      w.calls.push(`run ${name} ${JSON.stringify(params)}`);
      return run ? run(params, ctx) : { summary: `${name} done`, outputs: Object.fromEntries(def.outputs.map((o) => [o, `${o}-value`])) };
    },
  };
}

function payload(w: World, step: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { incidentId: w.incident.id, step, params: playbooks.step(w.incident.playbook, step)!.params, execution: EXEC, ...overrides };
}

const refusedBy = (rule: string, text?: string) => expect.objectContaining({ name: 'PolicyViolationError', rule, ...(text ? { message: expect.stringContaining(text) } : {}) });

describe('dispatchAction', () => {
  describe('the invocation', () => {
    it.each([
      [{ mode: 'auto' }, 'mode'],
      [{ risk: 'LOW' }, 'risk'],
      [{ approvers: ['intern'] }, 'approvers'],
      [{ incident: { id: 'INC-20260209-001', service: 'other' } }, 'incident'],
    ])('refuses a payload that carries %j, and runs nothing', async (extra, field) => {
      const w = world();
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api', extra), deps(w))).rejects.toEqual(refusedBy('invocation-shape', field));
      expect(w.calls).toEqual([]);
    });

    it('refuses a payload without the execution, or with an id that is not an incident id', async () => {
      const w = world();
      const { execution: _e, ...noExecution } = payload(w, 'scale_up_trading_api');
      await expect(dispatchAction(recording('patch_hpa_max', w), noExecution, deps(w))).rejects.toEqual(refusedBy('invocation-shape', 'execution'));
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api', { incidentId: 'made-up' }), deps(w))).rejects.toEqual(refusedBy('invocation-shape', 'incidentId'));
    });
  });

  describe('the incident, as stored', () => {
    it('refuses an incident that does not exist, before any I/O to the target', async () => {
      const w = world();
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api', { incidentId: 'INC-20260209-999' }), deps(w))).rejects.toEqual(refusedBy('incident-active', 'does not exist'));
      expect(w.calls).toEqual([]);
      expect(w.events).toEqual([]);
    });

    it.each(['RESOLVED', 'FAILED', 'ESCALATED'] as const)('refuses a %s incident and records the refusal', async (status) => {
      const w = world('traffic-surge', { status });
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('incident-active', status));
      expect(w.calls).toEqual([]);
      expect(w.events.map((e) => e.type)).toEqual(['action_refused']);
    });

    it.each(['OPEN', 'MITIGATING', 'AWAITING_APPROVAL'] as const)('admits a %s incident', async (status) => {
      const w = world('traffic-surge', { status });
      await dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w));
      expect(w.calls[0]).toMatch(/^run patch_hpa_max/);
    });

    it('refuses an incident pinned to another playbook version, or to none', async () => {
      const other = world('traffic-surge', { playbookHash: 'f'.repeat(64) });
      await expect(dispatchAction(recording('patch_hpa_max', other), payload(other, 'scale_up_trading_api'), deps(other))).rejects.toEqual(refusedBy('playbook-hash', 'version ffffffffffff'));
      const none = world('traffic-surge', { playbookHash: undefined });
      await expect(dispatchAction(recording('patch_hpa_max', none), payload(none, 'scale_up_trading_api'), deps(none))).rejects.toEqual(refusedBy('playbook-hash', 'no pinned playbook version'));
    });

    it('refuses an incident of a playbook the function was not deployed with', async () => {
      const w = world('traffic-surge', { playbook: 'not-a-playbook' });
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(world(), 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('compiled-step', 'not-a-playbook'));
    });

    it('refuses an execution that is not the incident\'s', async () => {
      const w = world();
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api', { execution: `${EXEC}-forged` }), deps(w))).rejects.toEqual(refusedBy('execution', 'is not the one working on'));
    });
  });

  describe('the compiled step', () => {
    it('refuses a step the playbook does not have', async () => {
      const w = world();
      await expect(dispatchAction(recording('patch_hpa_max', w), { ...payload(w, 'scale_up_trading_api'), step: 'scale_everything' }, deps(w))).rejects.toEqual(refusedBy('compiled-step', 'no step "scale_everything"'));
    });

    it("refuses a step of another action (another step's approval cannot be borrowed)", async () => {
      const w = world('matching-engine-latency', { service: 'matching-engine' });
      w.approvals.trigger_manual_gc = { status: 'APPROVED' } as ApprovalRecord;
      const p = { ...payload(w, 'trigger_manual_gc'), params: { deployment: 'matching-engine' } };
      await expect(dispatchAction(recording('kubectl_rollout_undo', w), p, deps(w))).rejects.toEqual(refusedBy('compiled-step', 'runs api_call, not kubectl_rollout_undo'));
      expect(w.calls).toEqual([]);
    });

    it('refuses parameters that differ from the compiled step, naming them', async () => {
      const w = world();
      const p = payload(w, 'scale_up_trading_api', { params: { deployment: 'matching-engine', new_max: 'current_max * 2' } });
      await expect(dispatchAction(recording('patch_hpa_max', w), p, deps(w))).rejects.toEqual(refusedBy('compiled-params', 'parameter(s) deployment differ'));
    });
  });

  describe('step records', () => {
    it('returns the stored result to a replay of a step that succeeded, and runs nothing again', async () => {
      const w = world();
      const first = await dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w));
      const again = await dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w));
      expect(again).toEqual(first);
      expect(w.calls.filter((c) => c.startsWith('run'))).toHaveLength(1);
      expect(w.events.map((e) => e.type)).toEqual(['action', 'action_replayed']);
    });

    it('refuses a step that is running, or that failed', async () => {
      const w = world();
      w.steps.scale_up_trading_api = { state: 'running', attempt: 1, claimedAt: 'x', memory: {} } as unknown as StepRecord;
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('step-claim', 'already running'));
      w.steps.scale_up_trading_api = { state: 'failed', attempt: 1, memory: {}, error: { name: 'ActionError', message: 'x' } } as unknown as StepRecord;
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('step-claim', 'failed earlier'));
      expect(w.calls).toEqual([]);
    });

    it('lets a transient failure be retried, and the retry works from what the first attempt remembered', async () => {
      const w = world();
      let reads = 0;
      const def = recording('patch_hpa_max', w, async (_p, ctx) => {
        const current = await ctx.remember('current_max', async () => (reads += 1) * 10);
        if (w.steps.scale_up_trading_api!.attempt === 1) throw new TransientTargetError('throttled');
        return { summary: `max ${current} → ${current * 2}`, outputs: { current_max: current, new_max: current * 2 } };
      });
      await expect(dispatchAction(def, payload(w, 'scale_up_trading_api'), deps(w))).rejects.toMatchObject({ name: 'TransientTargetError' });
      expect(w.steps.scale_up_trading_api?.state).toBe('retryable');
      const r = await dispatchAction(def, payload(w, 'scale_up_trading_api'), deps(w));
      expect(r.outputs).toEqual({ current_max: 10, new_max: 20 });
      expect(reads).toBe(1);
      expect(w.steps.scale_up_trading_api).toMatchObject({ state: 'done', attempt: 2 });
    });

    it('marks a non-transient failure failed for good', async () => {
      const w = world();
      const def = recording('patch_hpa_max', w, async () => {
        throw new Error('boom');
      });
      await expect(dispatchAction(def, payload(w, 'scale_up_trading_api'), deps(w))).rejects.toThrow('boom');
      expect(w.steps.scale_up_trading_api).toMatchObject({ state: 'failed', error: { name: 'Error', message: 'boom' } });
    });

    it('publishes only the outputs the action declares, null when absent', async () => {
      const w = world();
      const def = recording('patch_hpa_max', w, async () => ({ summary: 's', outputs: { current_max: 4, stray: 'x' } }));
      const r = await dispatchAction(def, payload(w, 'scale_up_trading_api'), deps(w));
      expect(r.outputs).toEqual({ current_max: 4, new_max: null });
      expect(w.steps.scale_up_trading_api?.outputs).toEqual({ current_max: 4, new_max: null });
    });

    it('hands the action only the targets its definition declares in uses', async () => {
      // prepare: every system wired, as the local engine does
      const w = world();
      let seen: string[] = [];
      const def = recording('patch_hpa_max', w, async (_p, ctx) => {
        seen = Object.keys(ctx.targets);
        return { summary: 's' };
      });
      const all: DispatchDeps = { ...deps(w), targets: { kube: {}, redis: {}, mysql: {}, notify: {}, tickets: {} } as unknown as DispatchDeps['targets'] };
      // act
      await dispatchAction(def, payload(w, 'scale_up_trading_api'), all);
      // assess
      expect(def.uses).toEqual(['kube']);
      expect(seen).toEqual(['kube']);
    });
  });

  describe('parameters from stored state', () => {
    it("resolves templates from the stored incident and earlier steps' stored outputs, never from a payload", async () => {
      const w = world('rds-connection-exhaustion');
      w.steps.kill_idle_connections = { state: 'done', outputs: { leaking_service: 'order-service', identified_leaking_service: 'order-service' }, finishedAt: 'x', memory: {} } as unknown as StepRecord;
      const binding = approvalBinding('rolling_restart', { deployment: 'order-service', strategy: 'one_at_a_time' }, [{ kind: 'service', name: 'order-service' }], defaultPolicy());
      w.approvals.restart_leaking_pods = { approvalId: 'a1', status: 'APPROVED', binding, decisions: [{ role: 'oncall_sre', person: 'john', decision: 'approve', at: 'x' }] } as unknown as ApprovalRecord;
      await dispatchAction(recording('rolling_restart', w), payload(w, 'restart_leaking_pods'), deps(w));
      expect(w.calls[0]).toBe('run rolling_restart {"deployment":"order-service","strategy":"one_at_a_time"}');
    });

    it('checks a bounded result against the compiled range and the policy before the action uses it', async () => {
      const w = world();
      const def = recording('patch_hpa_max', w, async (p, ctx) => {
        ctx.resolve(p.new_max, { current_max: 10 }, 'new_max'); // current_max * 2 = 20: inside
        ctx.resolve('current_max * 4', { current_max: 10 }, 'new_max'); // a forged expression: outside
        return { summary: 'unreachable' };
      });
      await expect(dispatchAction(def, payload(w, 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('expression-bounds', 'outside the policy'));
      expect(w.steps.scale_up_trading_api?.state).toBe('failed');
      expect(w.events.map((e) => e.type)).toEqual(['action_refused']);
    });
  });

  describe('approvals', () => {
    function approvalWorld() {
      const w = world('rds-connection-exhaustion');
      w.steps.kill_idle_connections = { state: 'done', outputs: { leaking_service: 'order-service' }, finishedAt: 'x', memory: {} } as unknown as StepRecord;
      const binding = approvalBinding('rolling_restart', { deployment: 'order-service', strategy: 'one_at_a_time' }, [{ kind: 'service', name: 'order-service' }], defaultPolicy());
      const approve = (roles: string[], extra: Partial<ApprovalRecord> = {}) => (w.approvals.restart_leaking_pods = { approvalId: 'a1', status: 'APPROVED', binding, decisions: roles.map((role) => ({ role, person: `p-${role}`, decision: 'approve', at: 'x' })), ...extra } as unknown as ApprovalRecord);
      return { w, approve, run: () => dispatchAction(recording('rolling_restart', w), payload(w, 'restart_leaking_pods'), deps(w)) };
    }

    it('refuses a step compiled to wait for approval when no approval is APPROVED', async () => {
      const { w, approve, run } = approvalWorld();
      await expect(run()).rejects.toEqual(refusedBy('approval-required', 'no APPROVED approval'));
      approve(['oncall_sre'], { status: 'PENDING' });
      await expect(run()).rejects.toEqual(refusedBy('approval-required', 'is PENDING'));
      expect(w.calls).toEqual([]);
    });

    it('refuses an approval bound to other parameters, naming what was approved and what is invoked', async () => {
      const { w, approve, run } = approvalWorld();
      approve(['oncall_sre'], { binding: { action: 'rolling_restart', paramsHash: '0'.repeat(64), target: 'service:wallet-service' } });
      await expect(run()).rejects.toEqual(refusedBy('approval-binding', 'target service:wallet-service was approved, service:order-service is invoked'));
      expect(w.calls).toEqual([]);
    });

    it('refuses an approval whose decisions are not by the compiled approvers', async () => {
      const { w, approve, run } = approvalWorld();
      approve(['intern']);
      await expect(run()).rejects.toEqual(refusedBy('approval-approvers', 'role "intern"'));
      expect(w.calls).toEqual([]);
    });

    it('refuses a two-role approval both of whose decisions are by one person (the two-person rule)', async () => {
      const w = world('matching-engine-latency', { service: 'matching-engine' });
      const binding = approvalBinding('kubectl_rollout_undo', { deployment: 'matching-engine' }, [{ kind: 'service', name: 'matching-engine' }], defaultPolicy());
      const decisions = [
        { role: 'oncall_sre', person: 'Kenji Sato', decision: 'approve', at: 'x' },
        { role: 'matching_engine_owner', person: 'kenji  SATO', decision: 'approve', at: 'x' },
      ];
      w.approvals.rollback_matching_engine = { approvalId: 'a2', status: 'APPROVED', binding, decisions } as unknown as ApprovalRecord;
      await expect(dispatchAction(recording('kubectl_rollout_undo', w), payload(w, 'rollback_matching_engine'), deps(w))).rejects.toEqual(refusedBy('approval-approvers', 'approvals by 1 person(s) (Kenji Sato, kenji  SATO) where the step requires 2 different people'));
      expect(w.calls).toEqual([]);
    });

    it('refuses an APPROVED record that holds a rejection, or too few approving roles', async () => {
      const { w, approve, run } = approvalWorld();
      approve(['oncall_sre'], { decisions: [{ role: 'oncall_sre', person: 'p', decision: 'reject', at: 'x' }] } as Partial<ApprovalRecord>);
      await expect(run()).rejects.toEqual(refusedBy('approval-approvers', 'holds a rejection'));
      approve([]);
      await expect(run()).rejects.toEqual(refusedBy('approval-approvers', 'has 0 approving role(s) of the 1 the step requires (oncall_sre)'));
      expect(w.calls).toEqual([]);
    });

    it('runs with an APPROVED approval bound to exactly this invocation', async () => {
      const { w, approve, run } = approvalWorld();
      approve(['oncall_sre']);
      await run();
      expect(w.calls).toEqual(['run rolling_restart {"deployment":"order-service","strategy":"one_at_a_time"}', 'succeeded trading-api']);
    });
  });

  describe('breakers', () => {
    it('refuses a mutating step while the breakers are not in auto mode, and runs a read-only one', async () => {
      const w = world('matching-engine-latency', { service: 'matching-engine' });
      w.gate = { mode: 'diagnose_only', reason: 'global breaker open' };
      await dispatchAction(recording('collect_thread_dump_and_metrics', w), payload(w, 'collect_diagnostics'), deps(w));
      const v = world();
      v.gate = { mode: 'service_stopped', reason: 'trading-api breaker open' };
      await expect(dispatchAction(recording('patch_hpa_max', v), payload(v, 'scale_up_trading_api'), deps(v))).rejects.toEqual(refusedBy('breaker-gate', 'service_stopped'));
      expect(w.calls[0]).toMatch(/^run collect_thread_dump_and_metrics/);
      expect(v.calls).toEqual([]);
    });

    it('refuses a mutating step the service attempt budget refuses', async () => {
      const w = world();
      w.attempts = { allowed: false, reason: '3 attempts within 1 h' };
      await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, 'scale_up_trading_api'), deps(w))).rejects.toEqual(refusedBy('breaker-attempts', '3 attempts within 1 h'));
      expect(w.calls).toEqual([]);
    });
  });
});

/** What the dispatcher says and records, word for word: the timeline and the state machine's Catch read these. */
describe('dispatchAction: messages and records', () => {
  const SCALE = 'scale_up_trading_api';
  const WHERE = `step "${SCALE}" of INC-20260209-001 (action patch_hpa_max)`;

  it('names the fields a payload may not carry, and each invalid field by its path', async () => {
    const w = world();
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE, { mode: 'auto', risk: 'LOW' }), deps(w))).rejects.toMatchObject({
      message: "patch_hpa_max: invalid invocation: field(s) mode, risk are not taken: the step's mode, risk, approvers and the incident's service come from stored state",
      rule: 'invocation-shape',
    });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE, { incidentId: 'x', step: '' }), deps(w))).rejects.toMatchObject({
      message: 'patch_hpa_max: invalid invocation: incidentId: an incident id INC-YYYYMMDD-NNN; step: Too small: expected string to have >=1 characters',
    });
    await expect(dispatchAction(recording('patch_hpa_max', w), 'not an object', deps(w))).rejects.toMatchObject({ message: expect.stringMatching(/^patch_hpa_max: invalid invocation: \(payload\): /) });
  });

  it('records a refusal with the action, the rule and the category (null when none)', async () => {
    const w = world('traffic-surge', { status: 'RESOLVED' });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ message: `${WHERE}: incident INC-20260209-001 is RESOLVED; the agent acts only on active incidents` });
    expect(w.events).toEqual([{ type: 'action_refused', step: SCALE, summary: `${WHERE}: incident INC-20260209-001 is RESOLVED; the agent acts only on active incidents`, data: { action: 'patch_hpa_max', rule: 'incident-active', category: null } }]);
  });

  it('names both playbook versions, by their first 12 characters', async () => {
    const w = world('traffic-surge', { playbookHash: 'f'.repeat(64) });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({
      message: `${WHERE}: incident INC-20260209-001 runs playbook traffic-surge version ${'f'.repeat(12)}…, this function has ${playbooks.get('traffic-surge')!.hash.slice(0, 12)}…`,
    });
  });

  it('says "none yet" for an incident without an execution', async () => {
    const w = world('traffic-surge', { executionArn: undefined });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ message: `${WHERE}: execution ${EXEC} is not the one working on INC-20260209-001 (none yet)` });
  });

  it('lists every differing parameter, sorted', async () => {
    const w = world();
    const p = playbooks.step('traffic-surge', SCALE)!.params;
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE, { params: { ...p, new_max: 100, deployment: 'x' } }), deps(w))).rejects.toMatchObject({
      message: `${WHERE}: parameter(s) deployment, new_max differ from the compiled step; a payload cannot change what the playbook says`,
    });
  });

  it('says how an earlier attempt failed, or that it has no error stored', async () => {
    const w = world();
    w.steps[SCALE] = { state: 'failed', attempt: 1, memory: {}, error: { name: 'ActionError', message: 'no such HPA' } } as unknown as StepRecord;
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ message: `${WHERE}: the step failed earlier (ActionError: no such HPA); a failed step is not run again` });
    w.steps[SCALE] = { state: 'failed', attempt: 1, memory: {} } as unknown as StepRecord;
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ message: `${WHERE}: the step failed earlier (error: ); a failed step is not run again` });
  });

  it('records a replay and hands back the stored summary and outputs (empty when none were stored)', async () => {
    const w = world();
    w.steps[SCALE] = { state: 'done', attempt: 1, memory: {} } as unknown as StepRecord;
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).resolves.toEqual({ summary: '', outputs: {} });
    expect(w.events).toEqual([{ type: 'action_replayed', step: SCALE, summary: `${SCALE}: a repeated invocation got the stored result; nothing ran again`, data: { action: 'patch_hpa_max' } }]);
  });

  it('when the claim is lost to a concurrent invocation: its result if it succeeded, a refusal if it runs, else "could not be claimed"', async () => {
    const w = world();
    const lost = (record: Partial<StepRecord>): DispatchDeps => ({ ...deps(w), claim: async () => ({ claimed: false, record: record as StepRecord }) });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), lost({ state: 'done', summary: 'ran', outputs: { new_max: 8 } }))).resolves.toEqual({ summary: 'ran', outputs: { new_max: 8 } });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), lost({ state: 'running', attempt: 2, claimedAt: 'T' }))).rejects.toMatchObject({ rule: 'step-claim', message: `${WHERE}: the step is already running (attempt 2 claimed at T); one attempt at a time` });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), lost({ state: 'retryable' }))).rejects.toMatchObject({ rule: 'step-claim', message: `${WHERE}: the step could not be claimed` });
    expect(w.calls).toEqual([]);
  });

  it('a refused attempt fails the claimed step with the error and records it; a read-only step spends no attempt', async () => {
    const w = world();
    w.attempts = { allowed: false };
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'breaker-attempts', message: `${WHERE}: the trading-api breaker refused the attempt (limit reached)` });
    expect(w.steps[SCALE]).toMatchObject({ state: 'failed', error: { name: 'PolicyViolationError', message: `${WHERE}: the trading-api breaker refused the attempt (limit reached)` } });
    expect(w.events).toEqual([{ type: 'action_refused', step: SCALE, summary: `${WHERE}: the trading-api breaker refused the attempt (limit reached)`, data: { action: 'patch_hpa_max', rule: 'breaker-attempts', category: null } }]);
    const r = world();
    r.attempts = { allowed: false, reason: 'never' };
    const readOnly = { ...recording('patch_hpa_max', r), mutates: false };
    await dispatchAction(readOnly, payload(r, SCALE), deps(r));
    expect(r.calls.filter((c) => c.startsWith('succeeded'))).toEqual([]);
  });

  it('gives the action the earlier of the two timeouts, the clock, and only declared targets that are wired', async () => {
    const w = world();
    let seen: { timeout?: number; now?: string; targets?: string[] } = {};
    const def = { ...recording('patch_hpa_max', w, async (_p, ctx) => {
      seen = { timeout: ctx.timeoutSeconds, now: ctx.now().toISOString(), targets: Object.keys(ctx.targets) };
      return { summary: 's' };
    }), timeoutSeconds: 7, uses: ['kube', 'redis'] as never };
    await dispatchAction(def, payload(w, SCALE), { ...deps(w), targets: { kube: {}, mysql: {} } as unknown as DispatchDeps['targets'] });
    expect(seen).toEqual({ timeout: 7, now: '2026-02-09T14:20:00.000Z', targets: ['kube'] });
    const compiled = playbooks.step('traffic-surge', SCALE)!.timeoutSeconds;
    const w2 = world();
    const long = { ...recording('patch_hpa_max', w2, async (_p, ctx) => ({ summary: String(ctx.timeoutSeconds) })), timeoutSeconds: compiled + 100 };
    expect((await dispatchAction(long, payload(w2, SCALE), deps(w2))).summary).toBe(String(compiled));
  });

  it('checks bounds only for a bounded parameter, against its own compiled bound, and refuses a result that is not a number', async () => {
    const w = world();
    const def = recording('patch_hpa_max', w, async (_p, ctx) => {
      const free = ctx.resolve('current_max * 10', { current_max: 10 });
      const other = ctx.resolve('current_max * 10', { current_max: 10 }, 'deployment');
      ctx.resolve('"many"', { current_max: 10 }, 'new_max');
      return { summary: `${String(free)} ${String(other)}` };
    });
    await expect(dispatchAction(def, payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'expression-bounds', step: SCALE, message: `${WHERE}: new_max: new_max resolved to "many", not a number` });
    const w2 = world();
    const edge = recording('patch_hpa_max', w2, async (_p, ctx) => ({ summary: String(ctx.resolve('current_max * 2 + 1', { current_max: 10 }, 'new_max')) }));
    expect((await dispatchAction(edge, payload(w2, SCALE), deps(w2))).summary).toBe('21');
    const w3 = world();
    const over = recording('patch_hpa_max', w3, async (_p, ctx) => ({ summary: String(ctx.resolve('current_max * 2 + 2', { current_max: 10 }, 'new_max')) }));
    await expect(dispatchAction(over, payload(w3, SCALE), deps(w3))).rejects.toMatchObject({ message: `${WHERE}: new_max: 22 is 2.2 × current_max (10), outside the compiled 2..2 of "current_max * 2"` });
  });

  it('records a policy refusal raised by the action itself with its rule and category, and an error without a name as Error', async () => {
    const w = world();
    const def = recording('patch_hpa_max', w, async () => {
      throw new PolicyViolationError('HPA is the matching engine', { rule: 'protected-service-approval', category: 'matching_engine_core' });
    });
    await expect(dispatchAction(def, payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'protected-service-approval' });
    expect(w.events).toEqual([{ type: 'action_refused', step: SCALE, summary: 'HPA is the matching engine', data: { action: 'patch_hpa_max', rule: 'protected-service-approval', category: 'matching_engine_core' } }]);
    const w2 = world();
    const plain = recording('patch_hpa_max', w2, async () => {
      throw Object.assign(new Error('odd'), { name: undefined });
    });
    await expect(dispatchAction(plain, payload(w2, SCALE), deps(w2))).rejects.toThrow('odd');
    expect(w2.steps[SCALE]).toMatchObject({ state: 'failed', error: { name: 'Error', message: 'odd' } });
    expect(w2.events).toEqual([]);
  });

  it('records the action with its parameters and attempt, and resets failures only for a mutating action', async () => {
    const w = world();
    await dispatchAction(recording('patch_hpa_max', w, async () => ({ summary: 'max 10 → 20', before: { max: 10 }, after: { max: 20 } })), payload(w, SCALE), deps(w));
    expect(w.events).toEqual([{ type: 'action', step: SCALE, summary: 'max 10 → 20', before: { max: 10 }, after: { max: 20 }, data: { action: 'patch_hpa_max', params: playbooks.step('traffic-surge', SCALE)!.params, attempt: 1 } }]);
    expect(w.calls.filter((c) => c.startsWith('succeeded'))).toEqual(['succeeded trading-api']);
    const r = world();
    await dispatchAction({ ...recording('patch_hpa_max', r), mutates: false }, payload(r, SCALE), deps(r));
    expect(r.calls.filter((c) => c.startsWith('succeeded'))).toEqual([]);
  });
});

describe('dispatchAction: what is not a policy refusal', () => {
  const SCALE = 'scale_up_trading_api';
  it('names the step on every refusal it records', async () => {
    const w = world('traffic-surge', { status: 'FAILED' });
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'incident-active', step: SCALE });
    const w2 = world();
    await expect(dispatchAction(recording('patch_hpa_max', w2), payload(w2, SCALE, { incidentId: 'INC-20260209-777' }), deps(w2))).rejects.toMatchObject({ step: SCALE });
  });

  it('lets a failure to read stored state through unchanged, and records no refusal for it', async () => {
    const w = world('rds-connection-exhaustion');
    w.steps.kill_idle_connections = { state: 'done', outputs: { leaking_service: 'order-service' }, finishedAt: 'x', memory: {} } as unknown as StepRecord;
    const down = new Error('ProvisionedThroughputExceededException');
    await expect(dispatchAction(recording('rolling_restart', w), payload(w, 'restart_leaking_pods'), { ...deps(w), approval: async () => Promise.reject(down) })).rejects.toBe(down);
    expect(w.events).toEqual([]);
    expect(w.calls).toEqual([]);
  });

  it('records a refusal by the guard on the timeline with its rule, and lists differing parameters in order', async () => {
    const w = world();
    w.gate = { mode: 'diagnose_only', reason: 'global breaker open' };
    await expect(dispatchAction(recording('patch_hpa_max', w), payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'breaker-gate' });
    // Unrecorded, a refusal would leave the timeline silent about why the step did not run.
    expect(w.events).toEqual([expect.objectContaining({ type: 'action_refused', step: SCALE, data: { action: 'patch_hpa_max', rule: 'breaker-gate', category: null } })]);
    const w2 = world();
    const forged = { zz: 1, ...payload(w2, SCALE).params as Record<string, unknown>, aa: 2 };
    await expect(dispatchAction(recording('patch_hpa_max', w2), payload(w2, SCALE, { params: forged }), deps(w2))).rejects.toMatchObject({ rule: 'compiled-params', message: expect.stringContaining('parameter(s) aa, zz differ from the compiled step') });
  });

  it("resolves {{deployment}} to the service's deployment in the service map, not its name", async () => {
    // pod-oom-killed patches `deployment/{{deployment}}`: a wrong name patches another deployment (or none).
    const services = createServiceMap({ services: { 'trading-api': { kubernetes: true, namespace: 'trading', deployment: 'trading-api-v2', containers: [], database_users: [], consumer_groups: [] } } });
    const policy = createPolicy(defaultPolicy().document, '<test>', services);
    const w = world('pod-oom-killed');
    const compiled = playbooks.step('pod-oom-killed', 'increase_memory_limit')!;
    const params = { ...compiled.params, resource: 'deployment/trading-api-v2' };
    const vars = { service: 'trading-api', deployment: 'trading-api-v2' };
    const binding = approvalBinding('kubectl_patch', params, resolveTargets(compiled.targets, vars), policy);
    w.approvals.increase_memory_limit = { approvalId: 'a9', status: 'APPROVED', binding, decisions: compiled.approvers.map((role, i) => ({ role, person: `p${i}`, decision: 'approve', at: 'x' })) } as unknown as ApprovalRecord;
    await dispatchAction(recording('kubectl_patch', w), payload(w, 'increase_memory_limit'), { ...deps(w), policy });
    expect(w.calls[0]).toBe(`run kubectl_patch ${JSON.stringify(params)}`);
  });

  it("refuses compiled parameters that fail the action's own schema (a forged manifest) before anything runs, naming each path", async () => {
    // Only a manifest the compiler did not write gets here: the compiler refuses such a playbook.
    const w = world();
    const strict = z.any().check(
      z.superRefine((_p, ctx) => {
        ctx.addIssue({ code: 'custom', message: 'too high', path: ['limits', 'max'] });
        ctx.addIssue({ code: 'custom', message: 'unknown HPA', path: ['hpa'] });
      }),
    );
    const def = { ...recording('patch_hpa_max', w), params: strict } as unknown as ActionDefinition<Record<string, unknown>>;
    await expect(dispatchAction(def, payload(w, SCALE), deps(w))).rejects.toMatchObject({
      name: 'InvalidParameterError',
      message: `step "${SCALE}" of INC-20260209-001 (action patch_hpa_max): params.limits.max: too high; params.hpa: unknown HPA`,
    });
    expect(w.calls).toEqual([]);
  });

  it("checks a bounded parameter against its own compiled bound, not another parameter's", async () => {
    const w = world();
    const def = recording('patch_hpa_max', w, async (_p, ctx) => ({ summary: String(ctx.resolve('current_max * 3', { current_max: 10 }, 'new_max')) }));
    await expect(dispatchAction(def, payload(w, SCALE), deps(w))).rejects.toMatchObject({ rule: 'expression-bounds', message: expect.stringContaining('outside the compiled 2..2') });
    const w2 = world();
    const noBounds = { ...recording('patch_hpa_max', w2, async (_p, ctx) => ({ summary: String(ctx.resolve('current_max * 10', { current_max: 10 }, 'new_max')) })), bounds: undefined };
    expect((await dispatchAction(noBounds, payload(w2, SCALE), deps(w2))).summary).toBe('100');
  });
});
