/** blacklisted-action: an action that is itself a §3.1 blacklisted operation never runs. */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'blacklisted-action',
  description: 'Actions that are themselves a seed §3.1 blacklisted operation (wallet transfers, RDS failover, pausing a trading pair, DNS failover) never run, with or without approval.',
  phases: ['compile', 'runtime'],
  check(step, _policy, _phase, finding) {
    const category = step.action.blacklist;
    if (!category) return [];
    return [
      finding({
        effect: 'refuse',
        field: ['action'],
        category,
        message: `${step.action.name} is a blacklisted operation, category ${category}: the agent never executes it, with or without approval`,
        fix: 'remove the step; the agent may only diagnose, ticket, notify and suggest (playbooks/policy.yaml)',
      }),
    ];
  },
});
