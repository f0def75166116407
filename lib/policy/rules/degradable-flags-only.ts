/**
 * degradable-flags-only: a step may switch off (or back on) only the features the policy lists as
 * degradable and non-critical (seed scenario 1: market_history_api, leaderboard_api,
 * notification_service). An allow-list, not a deny-list: turning off spot_trading or
 * order_placement_api is a global operation (matching-engine core when it matches those patterns).
 */
import { isTemplated, stringsOf } from '../step';
import { defineRule, type Finding } from './rule';

export const rule = defineRule({
  id: 'degradable-flags-only',
  description: 'Feature flags a step switches are on the policy\'s degradable_features allow-list.',
  phases: ['compile', 'runtime'],
  check(step, policy, _phase, finding) {
    const roles = step.action.roles ?? {};
    const out: Finding[] = [];
    for (const param of [...(roles.flagsOff ?? []), ...(roles.flagsOn ?? [])]) {
      stringsOf(step.params[param]).forEach((flag, i) => {
        if (isTemplated(flag)) {
          out.push(finding({ effect: 'refuse', field: ['params', param, i], category: 'global_operations', message: `feature flag "${flag}" is a {{template}}: which feature it switches is not known before it runs`, fix: 'name the flag' }));
          return;
        }
        if (policy.isDegradable(flag)) return;
        const category = policy.classify('feature_flags', flag)[0]?.category ?? 'global_operations';
        out.push(finding({
          effect: 'refuse',
          field: ['params', param, i],
          category,
          message: `feature flag "${flag}" is not a degradable feature (${category}: switching it changes what the exchange offers)`,
          fix: `switch only ${policy.document.degradable_features.join(', ') || 'listed features'} (degradable_features in playbooks/policy.yaml)`,
        }));
      });
    }
    return out;
  },
});
