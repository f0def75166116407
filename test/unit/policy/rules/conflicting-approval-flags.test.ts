/** conflicting-approval-flags: auto_execute and requires_approval, not both. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'conflicting-approval-flags';

describe(RULE, () => {
  it('refuses both flags', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'x' }, { written: { autoExecute: true, requiresApproval: true } }), 'compile')).toEqual([expect.objectContaining({ field: ['auto_execute'] })]);
  });
  it('lets either one pass', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'x' }, { written: { requiresApproval: true } }), 'compile')).toEqual([]);
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'x' }, { written: { autoExecute: true } }), 'compile')).toEqual([]);
  });
});
