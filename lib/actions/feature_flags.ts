/** feature_flags: switch non-critical features off (or back on) to shed load (scenario 1). */
import { z } from 'zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import { actionHandler } from './handler';
import type { ConfigOps } from './ports';

const flagList = z.array(z.string().regex(/^[a-z0-9_.-]+$/i, 'a feature flag name')).default([]);

export const action = defineAction({
  name: 'feature_flags',
  description: 'Disable (or enable) feature flags, e.g. market_history_api, leaderboard_api.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z
    .strictObject({ disable: flagList, enable: flagList, service: z.string().optional() })
    .refine((p) => p.disable.length + p.enable.length > 0, 'name at least one flag under disable or enable'),
  outputs: ['previous_flags'],
  iamActions: [],
  roles: { flagsOff: ['disable'], flagsOn: ['enable'] },
  targets: (p) => serviceTargets(p.service),
  async run(p, ctx) {
    const cfg = requireTarget<ConfigOps>(ctx, 'config', 'feature_flags');
    const names = [...p.disable, ...p.enable];
    const before = await cfg.getFlags(names, p.service);
    const after = Object.fromEntries([...p.disable.map((f) => [f, false]), ...p.enable.map((f) => [f, true])]);
    await cfg.setFlags(after, p.service);
    return { summary: `${p.disable.length ? `disabled ${p.disable.join(', ')}` : ''}${p.enable.length ? ` enabled ${p.enable.join(', ')}` : ''}`.trim(), before, after, outputs: { previous_flags: before } };
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
