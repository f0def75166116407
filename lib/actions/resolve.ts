/**
 * Resolves a step's parameters at run time: `{{templates}}` and expression parameters against the
 * execution's variables. Parameters that use an action's own locals (`current_max`) are left for
 * the action, which resolves them through `ctx.resolve` once it has read the current value.
 */
import { evaluate, formatValue, isTemplate, parseExpression, parseTemplate, renderTemplate, UNKNOWN, variablesOf, type Value } from '../compiled/expression';
import { ExpressionError, UnknownVariableError } from '../compiled/errors';
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

/** What a ticket or notification shows for a value this execution does not have (a skipped step's output). */
export const UNAVAILABLE = '(unavailable)';

/**
 * Renders a template as text for people: a variable without a value in this execution (an output
 * of a step that did not run) and an unknown value both show as {@link UNAVAILABLE}, never an error.
 * @example renderText('dump: {{heap_dump_path}}', {}) // 'dump: (unavailable)'
 */
export function renderText(value: string, vars: Vars): string {
  if (!isTemplate(value)) return value;
  const lookup = (name: string): Value => (Object.prototype.hasOwnProperty.call(vars, name) && vars[name] !== undefined ? (vars[name] as Value) : UNKNOWN);
  return parseTemplate(value).parts.map((part) => {
    if (typeof part === 'string') return part;
    const v = evaluate(part.expr, lookup);
    return v === UNKNOWN ? UNAVAILABLE : formatValue(v);
  }).join('');
}

function deepResolve(value: unknown, vars: Vars, asText: boolean): unknown {
  if (typeof value === 'string') return asText ? renderText(value, vars) : resolveValue(value, vars);
  if (Array.isArray(value)) return value.map((v) => deepResolve(v, vars, asText));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepResolve(v, vars, asText)]));
  return value;
}

/** What resolving a step's parameters needs to know about its action (a definition, or a compiled step). */
export interface ResolutionSpec {
  readonly kind?: string;
  readonly expressionParams?: readonly string[];
  readonly locals?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Resolves every parameter that does not depend on the action's locals. Tickets and notifications
 * are text for people: their templates render an unavailable value as {@link UNAVAILABLE} (the
 * follow-up ticket is still opened when the heap dump was skipped); every other action fails on it.
 * @throws InvalidParameterError naming the step, parameter and variable when a variable is missing.
 */

export function resolveParams(def: ResolutionSpec, params: Readonly<Record<string, unknown>>, vars: Vars, step: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const asText = def.kind === 'ticket' || def.kind === 'notification';
  for (const [key, value] of Object.entries(params)) {
    const asExpression = def.expressionParams?.includes(key) ?? false;
    try {
      out[key] = usesLocals(value, def.locals?.[key] ?? [], asExpression) ? value : asExpression ? resolveValue(value, vars, true) : deepResolve(value, vars, asText);
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
