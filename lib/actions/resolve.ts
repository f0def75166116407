/**
 * Resolves a step's parameters at run time: `{{templates}}` and expression parameters against the
 * execution's variables. Parameters that use an action's own locals (`current_max`) are left for
 * the action, which resolves them through `ctx.resolve` once it has read the current value.
 */
import { evaluate, formatValue, isTemplate, parseExpression, parseTemplate, renderTemplate, UNKNOWN, variablesOf, type Value } from '../playbook/expression';
import { ExpressionError, UnknownVariableError } from '../playbook/errors';
import type { ActionDefinition } from './define';
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

/**
 * Resolves every parameter that does not depend on the action's locals. Tickets and notifications
 * are text for people: their templates render an unavailable value as {@link UNAVAILABLE} (the
 * follow-up ticket is still opened when the heap dump was skipped); every other action fails on it.
 * @throws InvalidParameterError naming the step, parameter and variable when a variable is missing.
 */
export function resolveParams(def: ActionDefinition<Record<string, unknown>>, params: Record<string, unknown>, vars: Vars, step: string): Record<string, unknown> {
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
