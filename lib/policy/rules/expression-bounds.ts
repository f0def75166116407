/**
 * expression-bounds: an expression that scales what an action reads (`new_max: current_max * 2`,
 * `{{current_limit * 1.5}}`) is bounded at compile time: the factor range it can produce over its
 * local lies within the policy's floor and ceiling. `current_max * 10` and `current_max * 0` are
 * refused before anything runs; the runtime checks each result again (checkFactor).
 */
import { defineRule, type Finding } from './rule';

export const rule = defineRule({
  id: 'expression-bounds',
  description: 'Scaling expressions stay within the policy\'s factor floor and ceiling.',
  phases: ['compile'],
  check(step, policy, _phase, finding) {
    const out: Finding[] = [];
    for (const b of step.bounds ?? []) {
      const spec = step.action.bounds?.[b.param];
      if (!spec) continue;
      const floor = policy.caps[spec.floor];
      const ceiling = policy.caps[spec.ceiling];
      const field = ['params', b.param, ...(b.path ?? [])];
      if (b.reason) {
        out.push(finding({ effect: 'refuse', field, message: `"${b.expression}" cannot be bounded: ${b.reason}`, fix: `write it as ${spec.local} * <factor> (factor ${floor}..${ceiling})` }));
      } else if (b.min < floor || b.max > ceiling) {
        const range = b.min === b.max ? `${b.min}` : `${b.min}..${b.max}`;
        out.push(finding({ effect: 'refuse', field, message: `"${b.expression}" scales ${spec.local} by ${range}, outside the policy's ${floor}..${ceiling} (${spec.floor}, ${spec.ceiling})`, fix: `use a factor between ${floor} and ${ceiling}` }));
      }
    }
    return out;
  },
});
