/**
 * Resolves a step's parameters at run time: `{{templates}}` and expression parameters against the
 * execution's variables. Parameters that use an action's own locals (`current_max`) are left for
 * the action, which resolves them through `ctx.resolve` once it has read the current value.
 */
import { evaluate, isTemplate, parseExpression, parseTemplate, renderTemplate, variablesOf, type Value } from '../playbook/expression';
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
export function resolveParams(def: ActionDefinition<Record<string, unknown>>, params: Record<string, unknown>, vars: Vars, step: string): Record<string, unknown> {
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
