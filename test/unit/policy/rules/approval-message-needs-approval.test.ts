/** approval-message-needs-approval: an approval_message only where a step waits for approval. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'approval-message-needs-approval';

describe(RULE, () => {
  it('refuses a message on an automatic step', () => {
    expect(findingsOf(RULE, facts('send_alert', { severity: 'CRITICAL', channels: ['slack'], message: 'x' }, { mode: 'auto', written: { approvalMessage: true } }), 'compile')).toHaveLength(1);
  });
  it('lets it pass on an approval step', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'x' }, { mode: 'approval', written: { approvalMessage: true } }), 'compile')).toEqual([]);
  });
});
