/** approval-message-needs-approval: an approval_message belongs to a step that waits for approval. */
import { defineRule } from './rule';

export const rule = defineRule({
  id: 'approval-message-needs-approval',
  description: 'approval_message is only set on steps that wait for approval.',
  phases: ['compile'],
  check(step, _policy, _phase, finding) {
    if (!step.written?.approvalMessage || step.mode === 'approval') return [];
    return [finding({ effect: 'refuse', field: ['approval_message'], message: 'has an approval_message but runs without approval', fix: 'add requires_approval: true, or remove the message' })];
  },
});
