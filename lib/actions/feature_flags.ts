/** feature_flags: switch non-critical features off (or back on) to shed load (scenario 1). */
import * as z from '../yaml/zod';
import { requireTarget, serviceTargets } from './common';
import { defineAction } from './define';
import type { ConfigOps } from './ports';

const flagList = z._default(z.array(z.string().check(z.regex(/^[a-z0-9_.-]+$/i, 'a feature flag name'))), []);

export const action = defineAction({
  name: 'feature_flags',
  description: 'Disable (or enable) feature flags, e.g. market_history_api, leaderboard_api.',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'MEDIUM',
  params: z
    .strictObject({ disable: flagList, enable: flagList, service: z.optional(z.string()) })
    .check(z.refine((p) => p.disable.length + p.enable.length > 0, 'name at least one flag under disable or enable')),
  outputs: ['previous_flags'],
  uses: ['config'],
  iamActions: [],
  roles: { flagsOff: ['disable'], flagsOn: ['enable'] },
  targets: (p) => serviceTargets(p.service),
  async run(p, ctx) {
    const cfg = requireTarget<ConfigOps>(ctx, 'config', 'feature_flags');
    const names = [...p.disable, ...p.enable];
    // null = the flag did not exist: the undo deletes it again.
    const before = Object.fromEntries(Object.entries(await cfg.getFlags(names, p.service)).map(([f, v]) => [f, v ?? null]));
    const wanted = Object.fromEntries([...p.disable.map((f) => [f, false]), ...p.enable.map((f) => [f, true])]);
    await cfg.setFlags(wanted, p.service);
    const after = Object.fromEntries(Object.entries(await cfg.getFlags(names, p.service)).map(([f, v]) => [f, v ?? null]));
    const scope = { service: p.service ?? null, store: cfg.name };
    return { summary: `${p.disable.length ? `disabled ${p.disable.join(', ')}` : ''}${p.enable.length ? ` enabled ${p.enable.join(', ')}` : ''} in ${cfg.name}`.trim(), before: { ...scope, flags: before }, after: { ...scope, flags: after }, outputs: { previous_flags: before } };
  },
});
