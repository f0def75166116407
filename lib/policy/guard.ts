/**
 * The runtime guard: the second safety layer, in every action Lambda. It decides from the
 * action's registry entry, the resolved parameters and the stored state (breakers, approval
 * records) — never from what the invocation payload claims — so invoking an action Lambda
 * directly cannot get around the compiler's rules.
 */
import type { ActionDefinition } from '../actions/define';
import { PolicyViolationError } from './errors';
import type { Policy } from './policy';
import type { Risk } from './types';

/** The stored state the guard consults. */
export interface GuardState {
  /**
   * Breaker gate for the service: only `auto` lets a mutating action run. A breaker change the
   * gate makes (a cool-down ending) is recorded on `incidentId`'s timeline.
   */
  gate(service: string, incidentId: string): Promise<{ mode: 'auto' | 'diagnose_only' | 'service_stopped'; reason: string }>;
  /** True when an APPROVED record exists for (incident, step). */
  approved(incidentId: string, step: string): Promise<boolean>;
}

export interface GuardInput {
  readonly incidentId: string;
  readonly service: string;
  readonly step: string;
  /** The step's risk as compiled; the guard also requires approval for HIGH/CRITICAL on its own. */
  readonly risk: Risk;
  /** What the compiled machine says; `approval` can only add a requirement, never remove one. */
  readonly mode: 'auto' | 'approval';
}

/** Why a mutating step needs an approval record, or undefined when it does not. */
export function approvalReason(def: ActionDefinition<Record<string, unknown>>, params: Record<string, unknown>, input: GuardInput, policy: Policy): string | undefined {
  if (!def.mutates) return undefined;
  if (input.mode === 'approval') return 'the step requires approval';
  // The registry's risk counts too: a payload (a direct invoke) can claim a lower risk than the action's.
  const risk = [input.risk, def.defaultRisk].find((r) => r === 'CRITICAL') ?? [input.risk, def.defaultRisk].find((r) => r === 'HIGH');
  if (risk) return `${risk}-risk mutations always need approval`;
  const prot = (def.targets?.(params) ?? []).find((t) => t.kind === 'service' && policy.isProtected(t.name));
  if (prot) return `${prot.name} is a protected service`;
  if (policy.isProtected(input.service)) return `${input.service} is a protected service`;
  return undefined;
}

/**
 * Throws PolicyViolationError when the action may not run with these (resolved) parameters now.
 * Order: blacklist, caps, approval record, breakers. Read-only actions pass the breakers: the
 * seed's diagnose-only mode keeps diagnostics and notifications running.
 */
export async function guardAction(def: ActionDefinition<Record<string, unknown>>, params: Record<string, unknown>, input: GuardInput, policy: Policy, state: GuardState): Promise<void> {
  const where = `step "${input.step}" of ${input.incidentId} (action ${def.name})`;
  if (def.blacklist) {
    throw new PolicyViolationError(`${where}: ${def.name} is a blacklisted operation (${def.blacklist}); the agent may only diagnose, ticket, notify and suggest`, { category: def.blacklist });
  }
  const hit = def.classify?.(params, policy)[0];
  if (hit) throw new PolicyViolationError(`${where}: blacklisted operation, category ${hit.category}: ${hit.reason}`, { category: hit.category });
  const caps = def.checkCaps?.(params, policy) ?? [];
  if (caps.length > 0) throw new PolicyViolationError(`${where}: ${caps.join('; ')}`);
  if (!def.mutates) return;
  const needs = approvalReason(def, params, input, policy);
  if (needs && !(await state.approved(input.incidentId, input.step))) {
    throw new PolicyViolationError(`${where}: no approval record (${needs}); refusing to run`);
  }
  const gate = await state.gate(input.service, input.incidentId);
  if (gate.mode !== 'auto') throw new PolicyViolationError(`${where}: automatic remediation is paused (${gate.mode}: ${gate.reason})`);
}
