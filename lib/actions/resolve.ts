/**
 * Resolves a step's parameters at run time: `{{templates}}` and expression parameters against the
 * execution's variables. Parameters that use an action's own locals (`current_max`) are left for
 * the action, which resolves them through `ctx.resolve` once it has read the current value.
 */
import { evaluate, isTemplate, parseExpression, parseTemplate, renderTemplate, variablesOf, type Value } from '../playbook/expression';
import { ExpressionError, UnknownVariableError } from '../playbook/errors';
import type { TargetRef } from '../policy/step';
import { InvalidParameterError } from './errors';

type Vars = Readonly<Record<string, unknown>>;

function lookupIn(vars: Vars): (name: string) => Value | undefined {
  return (name) => (Object.prototype.hasOwnProperty.call(vars, name) ? (vars[name] as Value) : undefined);
}

/** Resolves one raw value (template, expression string or literal) against `vars`. */
export function resolveValue(value: unknown, vars: Vars, asExpression = false): unknown {
  if (typeof value !== 'string') return value;
  if (isTemplate(value)) return renderTemplate(parseTemplate(value), lookupIn(vars));
  if (asExpression) return evaluate(parseExpression(value), lookupIn(vars));
  return value;
}

function usesLocals(value: unknown, locals: readonly string[], asExpression: boolean): boolean {
  if (locals.length === 0 || typeof value !== 'string') return false;
  const names = isTemplate(value) ? variablesOf(parseTemplate(value)) : asExpression ? variablesOf(parseExpression(value)) : [];
  return names.some((n) => locals.includes(n));
}

function deepResolve(value: unknown, vars: Vars): unknown {
  if (typeof value === 'string') return resolveValue(value, vars);
  if (Array.isArray(value)) return value.map((v) => deepResolve(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepResolve(v, vars)]));
  return value;
}

/**
 * Resolves every parameter that does not depend on the action's locals.
 * @throws InvalidParameterError naming the step, parameter and variable when a variable is missing.
 */
/** What resolving a step's parameters needs to know about its action (a definition, or a compiled step). */
export interface ResolutionSpec {
  readonly expressionParams?: readonly string[];
  readonly locals?: Readonly<Record<string, readonly string[]>>;
}

export function resolveParams(def: ResolutionSpec, params: Readonly<Record<string, unknown>>, vars: Vars, step: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const asExpression = def.expressionParams?.includes(key) ?? false;
    try {
      out[key] = usesLocals(value, def.locals?.[key] ?? [], asExpression) ? value : asExpression ? resolveValue(value, vars, true) : deepResolve(value, vars);
    } catch (err) {
      if (err instanceof UnknownVariableError) {
        throw new InvalidParameterError(`step "${step}" parameter "${key}": variable "${err.variable}" has no value in this execution`, { cause: err });
      }
      throw new InvalidParameterError(`step "${step}" parameter "${key}": ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}

/**
 * `ctx.resolve` for actions: a template is rendered; another string is evaluated as an
 * expression (`current_max * 2`) when it parses as one, else kept as it is (`3Gi`).
 */
export function resolveForAction(value: unknown, vars: Vars): unknown {
  if (typeof value !== 'string' || isTemplate(value)) return resolveValue(value, vars);
  let expr;
  try {
    expr = parseExpression(value);
  } catch (err) {
    if (err instanceof ExpressionError) return value;
    throw err;
  }
  return evaluate(expr, lookupIn(vars));
}

/**
 * The variables an action's parameters resolve against, from stored state only: the incident's
 * builtins (its service, the service's deployment from the service map, ids, severity, alarm)
 * and the outputs that earlier steps recorded when they succeeded. Nothing comes from a payload.
 */
export function storedVariables(
  incident: { readonly id: string; readonly playbook: string; readonly service: string; readonly severity: string; readonly alarm?: { readonly name: string; readonly reason?: string } },
  steps: Readonly<Record<string, { readonly state: string; readonly outputs?: Readonly<Record<string, unknown>>; readonly finishedAt?: string }>>,
  deploymentOf: (service: string) => string,
): Record<string, unknown> {
  const vars: Record<string, unknown> = {
    service: incident.service,
    deployment: deploymentOf(incident.service),
    incident_id: incident.id,
    playbook: incident.playbook,
    severity: incident.severity,
    alarm_name: incident.alarm?.name ?? null,
    alarm_reason: incident.alarm?.reason ?? null,
  };
  // Later steps win over earlier ones, as they do in the machine's context.
  const done = Object.values(steps).filter((s) => s.state === 'done').sort((a, b) => String(a.finishedAt).localeCompare(String(b.finishedAt)));
  for (const s of done) Object.assign(vars, s.outputs ?? {});
  return vars;
}

/**
 * The targets of a compiled step with their `{{templates}}` rendered against `vars`: what an
 * approval names and the guard compares. A target that does not render stays as written.
 */
export function resolveTargets(targets: readonly TargetRef[], vars: Vars): TargetRef[] {
  return targets.map((t) => {
    if (!isTemplate(t.name)) return t;
    try {
      return { kind: t.kind, name: String(renderTemplate(parseTemplate(t.name), lookupIn(vars))) };
    } catch {
      return t;
    }
  });
}
