/**
 * Runs one action invocation, the same way in a Lambda and in the local engine: validate the
 * payload → resolve parameters → runtime guard → run → timeline event. Errors keep their
 * `name` so the state machine's Retry/Catch match them.
 */
import { guardAction, type GuardState } from '../policy/guard';
import { PolicyViolationError } from '../policy/errors';
import type { Policy } from '../policy/policy';
import { actionInvocationSchema, executionVariables } from '../runtime/payload';
import type { ActionDefinition, ActionTargets } from './define';
import { InvalidParameterError } from './errors';
import { resolveForAction, resolveParams } from './resolve';

/** What the dispatcher records and consults; wired to DynamoDB in Lambdas and the local engine. */
export interface DispatchDeps extends GuardState {
  readonly targets: ActionTargets;
  readonly policy: Policy;
  now(): Date;
  /** Appends a timeline event to the incident. */
  record(incidentId: string, event: { type: string; step: string; summary: string; before?: unknown; after?: unknown; data?: unknown }): Promise<void>;
  /** A mutating action succeeded: resets consecutive failures (failures are counted by the machine's failed-state, which also sees timeouts). */
  succeeded(service: string): Promise<void>;
  /**
   * Per-service attempt budget (seed §3.2: 3 per hour without recovery). `incidentId` lets the
   * wiring record (and notify) a breaker that this attempt trips.
   */
  attempt(service: string, incidentId?: string): Promise<{ allowed: boolean; reason?: string }>;
}

export interface DispatchResult {
  readonly summary: string;
  readonly outputs: Record<string, unknown>;
}

function rememberIn(memory: Map<string, unknown>) {
  return async <T>(key: string, compute: () => Promise<T>): Promise<T> => {
    if (memory.has(key)) return memory.get(key) as T;
    const value = await compute();
    memory.set(key, value);
    return value;
  };
}

export async function dispatchAction(def: ActionDefinition<Record<string, unknown>>, payload: unknown, deps: DispatchDeps): Promise<DispatchResult> {
  const parsed = actionInvocationSchema.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidParameterError(`${def.name}: invalid invocation: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`);
  }
  const inv = parsed.data;
  if (inv.action !== def.name) throw new PolicyViolationError(`invocation for action "${inv.action}" reached the ${def.name} function`);
  const raw = def.params.safeParse(inv.params);
  if (!raw.success) {
    throw new InvalidParameterError(`step "${inv.step}" (action ${def.name}): ${raw.error.issues.map((i) => `params.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const vars = executionVariables(inv);
  const params = resolveParams(def, raw.data, vars, inv.step);
  const incidentId = inv.incident.id;
  const service = inv.incident.service;
  try {
    await guardAction(def, params, { incidentId, service, step: inv.step, risk: inv.risk, mode: inv.mode }, deps.policy, deps);
    if (def.mutates) {
      const attempt = await deps.attempt(service, incidentId);
      if (!attempt.allowed) throw new PolicyViolationError(`step "${inv.step}" of ${incidentId}: the ${service} breaker refused the attempt (${attempt.reason ?? 'limit reached'})`);
    }
  } catch (err) {
    if (err instanceof PolicyViolationError) await deps.record(incidentId, { type: 'action_refused', step: inv.step, summary: err.message, data: { action: def.name, category: err.category ?? null } });
    throw err;
  }
  const result = await def.run(params, {
    incidentId,
    step: inv.step,
    service,
    targets: deps.targets,
    policy: deps.policy,
    now: () => deps.now(),
    resolve: (value, locals = {}) => resolveForAction(value, { ...vars, ...locals }),
    // TODO(issue 9): durable across attempts (the step's record in DynamoDB); per invocation for now.
    remember: rememberIn(new Map()),
  });
  const outputs = Object.fromEntries(def.outputs.map((name) => [name, result.outputs?.[name] ?? null]));
  await deps.record(incidentId, { type: 'action', step: inv.step, summary: result.summary, before: result.before, after: result.after, data: { action: def.name, params } });
  if (def.mutates) await deps.succeeded(service);
  return { summary: result.summary, outputs };
}
