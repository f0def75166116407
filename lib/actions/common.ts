/** Small pieces shared by action modules: parameter schemas and target checks. */
import * as z from '../yaml/zod';
import type { ActionContext, TargetRef } from './define';
import { TargetNotConfiguredError } from './errors';
import { parseServiceRef } from '../policy/services';
import { evaluate, isTemplate, parseExpression, variablesOf } from '../compiled/expression';

/** A Kubernetes deployment name, or a `{{template}}` that resolves to one. */
export const deploymentName = z.string().check(z.regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?|.*\{\{.*\}\}.*)$/, 'a Kubernetes deployment name or a {{template}}'));

/** A number, or an expression string such as `current_max * 2` (checked by the loader). */
export const numberOrExpression = z.union([z.number(), z.string().check(z.minLength(1))]);

/**
 * The number a parameter written as a constant stands for: `5`, and the strings `"500"` or
 * `"2 * 100"` too, so the caps hold at compile time however the constant is written; undefined
 * for an expression over variables, a template, or text that does not parse (the loader reports it).
 */
export function constantNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || isTemplate(value)) return undefined;
  try {
    const expr = parseExpression(value);
    if (variablesOf(expr).length > 0) return undefined;
    const n = evaluate(expr, () => undefined);
    return typeof n === 'number' ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Durations as the seed writes them: `30d`, `7d`, `5min`, `90s`. */
export const durationText = z.string().check(z.regex(/^\d+(\.\d+)?(ms|s|min|m|h|d)$/, 'a duration such as 30d, 5min or 90s'));

export function serviceTargets(...names: (string | undefined)[]): TargetRef[] {
  return names.filter((n): n is string => !!n).map((name) => ({ kind: 'service', name }));
}

/**
 * The service an endpoint's host names: `matching-engine:8080/admin/gc` and `http://matching-engine.trading.svc/x` → `matching-engine`.
 * The host is read as the URL parser (and so the call) reads it, percent-decoded and IDNA-mapped
 * (`%6datching-engine`, `matching-engine。trading` are the matching engine): the breakers and the
 * approval name the service the call reaches, not its spelling.
 */
export function endpointHost(endpoint: string): string {
  const text = endpoint.trim();
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
    if (url.hostname) return parseServiceRef(url.hostname).name;
  } catch {
    // Not a URL: the endpoint-allow-list rule refuses it; name what it spells.
  }
  return parseServiceRef(endpoint).name;
}

/**
 * The client for `kind`, or a TargetNotConfiguredError: an action never pretends to succeed
 * against a system that is not configured.
 */
export function requireTarget<T>(ctx: ActionContext, kind: string, action: string): T {
  const client = ctx.targets[kind];
  if (client === undefined || client === null) {
    throw new TargetNotConfiguredError(`${action}: no ${kind} target configured for step "${ctx.step}" of ${ctx.incidentId}`);
  }
  return client as T;
}
