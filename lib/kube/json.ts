/** JSON helpers of the Kubernetes adapter: canonical text for comparisons. */

/** JSON with object keys sorted: equal values give equal text whatever order the server kept the keys in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
