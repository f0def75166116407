/** update_config: change a service's runtime configuration, e.g. enable rate limiting (scenario 1). */
import * as z from '../yaml/zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { InvalidParameterError } from './errors';
import type { ConfigOps } from './ports';
import { parseRateLimit } from './config/rate-limit';

/** `rate_limit_enabled=true` or `{a: 1}` → key/value strings. */
export function configEntries(config: string | Record<string, unknown>): Record<string, string> {
  if (typeof config !== 'string') return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
  const out: Record<string, string> = {};
  for (const part of config.split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InvalidParameterError(`update_config: "${part}" is not key=value`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export const action = defineAction({
  name: 'update_config',
  description: "Set keys of a service's runtime configuration (config: key=value, plus named settings such as rate_limit).",
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z.strictObject({
    service: z.string().check(z.minLength(1)),
    config: z.union([z.string().check(z.minLength(1)), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]),
    rate_limit: z.optional(z.string()),
    description: z.optional(z.string()),
  }),
  outputs: ['previous_config'],
  uses: ['config'],
  iamActions: [],
  targets: (p) => serviceTargets(p.service),
  roles: {
    configKeys: (p) => [...Object.keys(configEntries((p as { config: string | Record<string, unknown> }).config)), ...((p as { rate_limit?: string }).rate_limit !== undefined ? ['rate_limit'] : [])],
  },
  checkCaps(p) {
    const problems: string[] = [];
    for (const check of [() => configEntries(p.config), () => p.rate_limit !== undefined && !p.rate_limit.includes('{{') && parseRateLimit(p.rate_limit)]) {
      try {
        check();
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    return problems;
  },
  async run(p, ctx) {
    // Parsed before anything is read or written: a bad value changes nothing.
    const values: Record<string, string> = { ...configEntries(p.config), ...(p.rate_limit ? { rate_limit: JSON.stringify(parseRateLimit(p.rate_limit)) } : {}) };
    const cfg = requireTarget<ConfigOps>(ctx, 'config', 'update_config');
    // null = the key did not exist: the undo deletes it again.
    const before: Record<string, string | null> = {};
    for (const key of Object.keys(values)) before[key] = (await cfg.get(p.service, key)) ?? null;
    await cfg.set(p.service, values);
    const after: Record<string, string | null> = {};
    for (const key of Object.keys(values)) after[key] = (await cfg.get(p.service, key)) ?? null;
    return {
      summary: `set ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ')} on ${p.service} in ${cfg.name}`,
      before: { service: p.service, store: cfg.name, config: before },
      after: { service: p.service, store: cfg.name, config: after },
      outputs: { previous_config: before },
    };
  },
});
