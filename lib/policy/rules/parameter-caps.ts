/** parameter-caps: an action's own caps on its parameters (max_kills, replicas, programs, patterns...). */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'parameter-caps',
  description: "The action's caps (lib/actions/<name>.ts checkCaps) hold for the parameters.",
  phases: ['compile', 'runtime'],
  check(step, policy, _phase, finding) {
    const messages = step.action.checkCaps?.(step.params, policy) ?? [];
    return messages.map((message) => {
      // A cap message starts with the parameter it is about (`max_kills 500 is over ...`).
      const first = /^(\w+)/.exec(message)?.[1];
      const field = first !== undefined && Object.prototype.hasOwnProperty.call(step.params, first) ? ['params', first] : ['params'];
      return finding({ effect: 'refuse', field, message, fix: 'stay within the cap (playbooks/policy.yaml caps)' });
    });
  },
});
