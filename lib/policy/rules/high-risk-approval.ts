/**
 * high-risk-approval: a HIGH or CRITICAL mutation never runs on its own. The registered risk of
 * the action counts as much as the step's: a step (or a payload) cannot talk its action's risk down.
 */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'high-risk-approval',
  description: 'HIGH and CRITICAL mutations need approval; the action\'s registered risk counts.',
  phases: ['compile', 'runtime'],
  check(step, _policy, _phase, finding) {
    if (!step.action.mutates) return [];
    const risks = [step.risk, step.action.defaultRisk];
    const risk = risks.find((r) => r === 'CRITICAL') ?? risks.find((r) => r === 'HIGH');
    if (!risk) return [];
    const registered = step.risk !== risk ? ` (${risk} is the registered risk of ${step.action.name})` : '';
    return [
      finding({
        effect: 'needs_approval',
        field: step.written?.risk === risk ? ['risk'] : ['auto_execute'],
        message: `a ${risk}-risk mutation${registered} never runs without approval`,
        fix: 'add requires_approval: true and approvers',
      }),
    ];
  },
});
