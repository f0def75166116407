/**
 * Runs one action invocation, the same way in a Lambda and in the local engine. The payload
 * says only which incident, which step, the step's parameters as compiled and which execution;
 * everything the decision needs comes from stored state and the compiled playbook the function
 * bundles:
 *   load the incident and its step records → the compiled step (pinned by the playbook hash the
 *   incident recorded) → parameters resolved from stored outputs → the policy rules → approval
 *   record and its binding → breakers → claim the step → run → record the result.
 * A step that succeeded returns its stored result to a replay; a step running or failed is
 * refused. Errors keep their `name` so the state machine's Retry/Catch match them.
 */
import type { ApprovalRecord } from '../approval/store';
import type { ClaimResult, IncidentWithSteps, StepOutcome, StepRecord } from '../incident/steps';
import type { CompiledPlaybooks, CompiledStep } from '../compiled/manifest';
import { actionInvocationSchema, type ActionInvocation } from '../compiled/payload';
import { PolicyViolationError } from '../policy/errors';
import { approvalBinding, canonicalJson, checkFactor, guardStep, type StoredApproval } from '../policy/guard';
import type { Policy } from '../policy/policy';
import type { StepFacts, TargetRef } from '../policy/step';
import type { ActionDefinition, ActionTargets } from './define';
import { InvalidParameterError, TRANSIENT_ERROR_NAMES } from './errors';
import { resolveForAction, resolveParams, resolveTargets, storedVariables } from './resolve';

// What an action Task sends (nothing that could lower what the compiled step requires): the compiler's and the runtime's one contract.
export { actionInvocationSchema, type ActionInvocation } from '../compiled/payload';

/** What the dispatcher reads and writes; wired to DynamoDB in Lambdas and the local engine. */
export interface DispatchDeps {
  readonly targets: ActionTargets;
  readonly policy: Policy;
  /** The compiled playbooks the function was deployed with. */
  readonly playbooks: CompiledPlaybooks;
  now(): Date;
  /** The incident and its step records, in one consistent read. */
  load(incidentId: string): Promise<IncidentWithSteps | undefined>;
  claim(input: { incidentId: string; step: string; action: string; executionArn: string; now: Date }): Promise<ClaimResult>;
  remember(incidentId: string, step: string, claimId: string, key: string, value: unknown): Promise<unknown>;
  finish(incidentId: string, step: string, claimId: string, outcome: StepOutcome): Promise<boolean>;
  /** The approval record of (incident, step), if any. */
  approval(incidentId: string, step: string): Promise<ApprovalRecord | undefined>;
  /** Breaker gate for the service; a breaker change the gate makes is recorded on `incidentId`'s timeline. */
  gate(service: string, incidentId: string): Promise<{ mode: 'auto' | 'diagnose_only' | 'service_stopped'; reason: string }>;
  /** Per-service attempt budget (seed §3.2: 3 per hour without recovery). */
  attempt(service: string, incidentId: string): Promise<{ allowed: boolean; reason?: string }>;
  /** A mutating action succeeded: resets consecutive failures. */
  succeeded(service: string): Promise<void>;
  /** Appends a timeline event to the incident. */
  record(incidentId: string, event: { type: string; step: string; summary: string; before?: unknown; after?: unknown; data?: unknown }): Promise<void>;
}

export interface DispatchResult {
  readonly summary: string;
  readonly outputs: Record<string, unknown>;
}

/**
 * Only the targets the definition declares in `uses`: the local engine wires every configured
 * system, a Lambda only its action's, and an action that reaches further fails the same way in both.
 */
function declaredTargets(def: ActionDefinition<Record<string, unknown>>, targets: ActionTargets): ActionTargets {
  return Object.fromEntries(def.uses.filter((name) => targets[name] !== undefined).map((name) => [name, targets[name]]));
}

/** Statuses in which the agent still works on an incident; escalated ones belong to people. */
const ACTIVE = new Set(['OPEN', 'MITIGATING', 'AWAITING_APPROVAL']);

function refuse(where: string, message: string, rule: string, step?: string): PolicyViolationError {
  return new PolicyViolationError(`${where}: ${message}`, { rule, ...(step ? { step } : {}) });
}

/** Keys whose values differ between two parameter objects (canonically). */
function differingKeys(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k])).sort();
}

function storedApproval(rec: ApprovalRecord | undefined): StoredApproval | undefined {
  if (!rec) return undefined;
  return { approvalId: rec.approvalId, status: rec.status, ...(rec.binding ? { binding: rec.binding } : {}), decisions: rec.decisions };
}

/**
 * The services whose breakers gate a step: its incident's, and every service the step acts on
 * (traffic-surge scales market-data-ws from a trading-api incident; rds-connection-exhaustion
 * restarts the leaking service), by identity: an open breaker stops that service's self-healing
 * from any incident.
 */
function breakerServices(incidentService: string, targets: readonly TargetRef[], policy: Policy): string[] {
  return [...new Set([incidentService, ...targets.filter((t) => t.kind === 'service').map((t) => policy.services.identify(t.name).name)])];
}

/** The first of these services' gates that is not `auto` (the global breaker is read by each), else auto. */
async function gateServices(deps: DispatchDeps, incidentId: string, services: readonly string[]): Promise<{ mode: 'auto' | 'diagnose_only' | 'service_stopped'; reason: string }> {
  let last: { mode: 'auto' | 'diagnose_only' | 'service_stopped'; reason: string } = { mode: 'auto', reason: 'no service to gate' };
  for (const service of services) {
    last = await deps.gate(service, incidentId);
    if (last.mode !== 'auto') return services.length > 1 && service !== services[0] ? { mode: last.mode, reason: `${last.reason} (${service} is a target of this step)` } : last;
  }
  return last;
}

/** Which step record stops a new attempt, and what the caller gets instead. */
function priorAttempt(record: StepRecord | undefined, where: string, step: string): DispatchResult | PolicyViolationError | undefined {
  if (!record || record.state === 'retryable') return undefined;
  if (record.state === 'done') return { summary: record.summary ?? '', outputs: { ...(record.outputs ?? {}) } };
  if (record.state === 'running') return refuse(where, `the step is already running (attempt ${record.attempt} claimed at ${record.claimedAt}); one attempt at a time`, 'step-claim', step);
  return refuse(where, `the step failed earlier (${record.error?.name ?? 'error'}: ${record.error?.message ?? ''}); a failed step is not run again`, 'step-claim', step);
}

/**
 * Everything before the action may touch its target: the invocation, the incident, the compiled
 * step, the parameters, the rules, the approval, the breakers. Returns the facts to run with, or
 * the stored result of a step that already succeeded.
 */
async function admit(
  def: ActionDefinition<Record<string, unknown>>,
  payload: unknown,
  deps: DispatchDeps,
): Promise<{ replay: DispatchResult; incidentId: string; step: string } | { inv: ActionInvocation; stored: IncidentWithSteps; compiled: CompiledStep; facts: StepFacts; vars: Record<string, unknown> }> {
  const parsed = actionInvocationSchema.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `field(s) ${i.keys.join(', ')} are not taken: the step's mode, risk, approvers and the incident's service come from stored state` : `${i.path.join('.') || '(payload)'}: ${i.message}`));
    throw new PolicyViolationError(`${def.name}: invalid invocation: ${issues.join('; ')}`, { rule: 'invocation-shape' });
  }
  const inv = parsed.data;
  const where = `step "${inv.step}" of ${inv.incidentId} (action ${def.name})`;
  const stored = await deps.load(inv.incidentId);
  if (!stored) throw refuse(where, `incident ${inv.incidentId} does not exist; nothing runs without an incident`, 'incident-active', inv.step);
  const { incident } = stored;
  const refused = async (err: PolicyViolationError): Promise<never> => {
    await deps.record(incident.id, { type: 'action_refused', step: inv.step, summary: err.message, data: { action: def.name, rule: err.rule ?? null, category: err.category ?? null } });
    throw err;
  };
  if (!ACTIVE.has(incident.status)) return refused(refuse(where, `incident ${incident.id} is ${incident.status}; the agent acts only on active incidents`, 'incident-active', inv.step));
  const playbook = deps.playbooks.get(incident.playbook);
  if (!playbook) return refused(refuse(where, `playbook ${incident.playbook} is not among the compiled playbooks this function was deployed with`, 'compiled-step', inv.step));
  if (!incident.playbookHash) return refused(refuse(where, `incident ${incident.id} has no pinned playbook version (its Start incident state did not run)`, 'playbook-hash', inv.step));
  if (incident.playbookHash !== playbook.hash) {
    return refused(refuse(where, `incident ${incident.id} runs playbook ${incident.playbook} version ${incident.playbookHash.slice(0, 12)}…, this function has ${playbook.hash.slice(0, 12)}…`, 'playbook-hash', inv.step));
  }
  if (incident.executionArn !== inv.execution) {
    return refused(refuse(where, `execution ${inv.execution} is not the one working on ${incident.id} (${incident.executionArn ?? 'none yet'})`, 'execution', inv.step));
  }
  const compiled = deps.playbooks.step(incident.playbook, inv.step);
  if (!compiled) return refused(refuse(where, `playbook ${incident.playbook} has no step "${inv.step}"`, 'compiled-step', inv.step));
  if (compiled.action !== def.name) return refused(refuse(where, `step "${inv.step}" of ${incident.playbook} runs ${compiled.action}, not ${def.name}`, 'compiled-step', inv.step));
  const differ = differingKeys(inv.params, compiled.params);
  if (differ.length > 0) return refused(refuse(where, `parameter(s) ${differ.join(', ')} differ from the compiled step; a payload cannot change what the playbook says`, 'compiled-params', inv.step));
  const prior = priorAttempt(stored.steps[inv.step], where, inv.step);
  if (prior instanceof PolicyViolationError) return refused(prior);
  if (prior) return { replay: prior, incidentId: incident.id, step: inv.step };

  const vars = storedVariables(incident, stored.steps, (s) => deps.policy.services.entry(s).deployment);
  const raw = def.params.safeParse(compiled.params);
  if (!raw.success) throw new InvalidParameterError(`${where}: ${raw.error.issues.map((i) => `params.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const params = resolveParams(compiled, raw.data as Record<string, unknown>, vars, inv.step);
  const targets = resolveTargets(compiled.targets, vars);
  const binding = approvalBinding(def.name, params, targets, deps.policy);
  const facts: StepFacts = {
    name: inv.step,
    action: def,
    mode: compiled.mode,
    risk: compiled.risk,
    approvers: compiled.approvers,
    minApprovals: compiled.minApprovals,
    service: incident.service,
    params,
    bounds: compiled.bounds,
  };
  try {
    await guardStep(facts, deps.policy, { approval: async () => storedApproval(await deps.approval(incident.id, inv.step)), gate: () => gateServices(deps, incident.id, breakerServices(incident.service, targets, deps.policy)) }, where, binding);
  } catch (err) {
    if (err instanceof PolicyViolationError) return refused(err);
    throw err;
  }
  return { inv, stored, compiled, facts, vars };
}

export async function dispatchAction(def: ActionDefinition<Record<string, unknown>>, payload: unknown, deps: DispatchDeps): Promise<DispatchResult> {
  const admitted = await admit(def, payload, deps);
  if ('replay' in admitted) {
    await deps.record(admitted.incidentId, { type: 'action_replayed', step: admitted.step, summary: `${admitted.step}: a repeated invocation got the stored result; nothing ran again`, data: { action: def.name } });
    return admitted.replay;
  }
  const { inv, stored, compiled, facts, vars } = admitted;
  const incidentId = stored.incident.id;
  const where = `step "${inv.step}" of ${incidentId} (action ${def.name})`;
  const claim = await deps.claim({ incidentId, step: inv.step, action: def.name, executionArn: inv.execution, now: deps.now() });
  if (!claim.claimed) {
    const prior = priorAttempt(claim.record, where, inv.step);
    if (prior instanceof PolicyViolationError) throw prior;
    if (prior) return prior;
    throw refuse(where, 'the step could not be claimed', 'step-claim', inv.step);
  }
  const claimId = claim.record.claimId;
  // Counted once the step is ours: an invocation that loses the claim spends no attempt.
  if (def.mutates) {
    const attempt = await deps.attempt(stored.incident.service, incidentId);
    if (!attempt.allowed) {
      const err = refuse(where, `the ${stored.incident.service} breaker refused the attempt (${attempt.reason ?? 'limit reached'})`, 'breaker-attempts', inv.step);
      await deps.finish(incidentId, inv.step, claimId, { state: 'failed', error: { name: err.name, message: err.message } });
      await deps.record(incidentId, { type: 'action_refused', step: inv.step, summary: err.message, data: { action: def.name, rule: err.rule ?? null, category: null } });
      throw err;
    }
  }
  const memory = new Map(Object.entries(claim.record.memory ?? {}));
  let result;
  try {
    result = await def.run(facts.params, {
      incidentId,
      step: inv.step,
      service: stored.incident.service,
      targets: declaredTargets(def, deps.targets),
      policy: deps.policy,
      now: () => deps.now(),
      timeoutSeconds: Math.min(compiled.timeoutSeconds, def.timeoutSeconds),
      resolve: (value, locals = {}, param) => {
        const out = resolveForAction(value, { ...vars, ...locals });
        const spec = param === undefined ? undefined : def.bounds?.[param];
        if (spec) {
          const base = Number(locals[spec.local]);
          const why = typeof out === 'number' ? checkFactor(spec, compiled.bounds.find((b) => b.param === param), out, base, deps.policy) : `${param} resolved to ${JSON.stringify(out)}, not a number`;
          if (why) throw new PolicyViolationError(`${where}: ${param}: ${why}`, { rule: 'expression-bounds', step: inv.step });
        }
        return out;
      },
      remember: async <T>(key: string, compute: () => Promise<T>): Promise<T> => {
        if (memory.has(key)) return memory.get(key) as T;
        const kept = (await deps.remember(incidentId, inv.step, claimId, key, await compute())) as T;
        memory.set(key, kept);
        return kept;
      },
    });
  } catch (err) {
    const e = err as Error;
    const transient = (TRANSIENT_ERROR_NAMES as readonly string[]).includes(e.name);
    await deps.finish(incidentId, inv.step, claimId, { state: transient ? 'retryable' : 'failed', error: { name: e.name ?? 'Error', message: String(e.message) } });
    if (err instanceof PolicyViolationError) await deps.record(incidentId, { type: 'action_refused', step: inv.step, summary: err.message, data: { action: def.name, rule: err.rule ?? null, category: err.category ?? null } });
    throw err;
  }
  const outputs = Object.fromEntries(def.outputs.map((name) => [name, result.outputs?.[name] ?? null]));
  await deps.finish(incidentId, inv.step, claimId, { state: 'done', summary: result.summary, outputs });
  await deps.record(incidentId, { type: 'action', step: inv.step, summary: result.summary, before: result.before, after: result.after, data: { action: def.name, params: facts.params, attempt: claim.record.attempt } });
  if (def.mutates) await deps.succeeded(stored.incident.service);
  return { summary: result.summary, outputs };
}
