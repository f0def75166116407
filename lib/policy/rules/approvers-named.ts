/** approvers-named: a HIGH or CRITICAL step that waits for approval names who approves it. */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'approvers-named',
  description: 'HIGH and CRITICAL approval steps name their approvers.',
  phases: ['compile'],
  check(step, _policy, _phase, finding) {
    if (step.mode !== 'approval' || (step.risk !== 'HIGH' && step.risk !== 'CRITICAL') || step.written?.approvers) return [];
    return [finding({ effect: 'refuse', field: ['approvers'], message: `${step.risk} risk and needs approval: name the approvers`, fix: 'add e.g. approvers: ["oncall_sre", "team_lead"]' })];
  },
});
