/**
 * The action dispatcher, over in-memory stored state (no DynamoDB): every way an invocation is
 * admitted or refused, decided from the stored incident, its step records, the compiled step,
 * the approval record and the breakers — never from the payload. Fast on purpose: mutation
 * testing (`npm run mutate`) runs these.
 */
import { ACTIONS, type ActionDefinition, type ActionResult } from '../../../lib/actions';
import { dispatchAction, type DispatchDeps } from '../../../lib/actions/dispatch';
import { TransientTargetError } from '../../../lib/actions/errors';
import type { ApprovalRecord } from '../../../lib/approval/store';
import type { Incident, IncidentWithSteps, StepRecord } from '../../../lib/incident';
import { loadCompiledPlaybooks } from '../../../lib/compiled/manifest';
import { approvalBinding, defaultPolicy } from '../../../lib/policy';

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
