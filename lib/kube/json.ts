/** JSON helpers of the Kubernetes adapter: canonical text for comparisons, and the seed's field paths as JSON pointers. */
import { InvalidParameterError } from '../actions/errors';

/** JSON with object keys sorted: equal values give equal text whatever order the server kept the keys in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}

/**
 * The seed's path syntax as an RFC 6901 JSON pointer:
 * `spec.template.spec.containers[0].resources.limits.memory` → `/spec/template/spec/containers/0/resources/limits/memory`.
 * @throws InvalidParameterError for anything but dotted names and `[index]`
 */
export function pathToPointer(path: string): string {
  const text = path.trim();
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(text)) {
    throw new InvalidParameterError(`not a field path: "${path}" (expected e.g. spec.template.spec.containers[0].resources.limits.memory)`);
  }
  const parts: string[] = [];
  for (const m of text.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) parts.push(m[1] ?? (m[2] as string));
  return `/${parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}
