/** conflicting-approval-flags: a step is automatic or waits for approval, not both. */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'conflicting-approval-flags',
  description: 'auto_execute and requires_approval are not both set.',
  phases: ['compile'],
  check(step, _policy, _phase, finding) {
    if (!(step.written?.autoExecute === true && step.written.requiresApproval === true)) return [];
    return [finding({ effect: 'refuse', field: ['auto_execute'], message: 'sets both auto_execute and requires_approval', fix: 'choose one' })];
  },
});
