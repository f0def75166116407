/** update_config: change a service's runtime configuration, e.g. enable rate limiting (scenario 1). */
import { z } from 'zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { InvalidParameterError } from './errors';
import type { ConfigOps } from './ports';

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
    service: z.string().min(1),
    config: z.union([z.string().min(1), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]),
    rate_limit: z.string().optional(),
    description: z.string().optional(),
  }),
  outputs: ['previous_config'],
  iamActions: [],
  targets: (p) => serviceTargets(p.service),
  roles: {
    configKeys: (p) => [...Object.keys(configEntries((p as { config: string | Record<string, unknown> }).config)), ...((p as { rate_limit?: string }).rate_limit !== undefined ? ['rate_limit'] : [])],
  },
  checkCaps(p) {
    try {
      configEntries(p.config);
      return [];
    } catch (err) {
      return [(err as Error).message];
    }
  },
  async run(p, ctx) {
    const cfg = requireTarget<ConfigOps>(ctx, 'config', 'update_config');
    const values = { ...configEntries(p.config), ...(p.rate_limit ? { rate_limit: p.rate_limit } : {}) };
    const before: Record<string, string | undefined> = {};
    for (const key of Object.keys(values)) before[key] = await cfg.get(p.service, key);
    await cfg.set(p.service, values);
    return { summary: `set ${Object.keys(values).join(', ')} on ${p.service}`, before, after: values, outputs: { previous_config: before } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
