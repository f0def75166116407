/** approvers-named: HIGH approval steps name their approvers (compile time). */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'approvers-named';

describe(RULE, () => {
  it('refuses a HIGH approval step without approvers', () => {
    expect(findingsOf(RULE, facts('kubectl_rollout_undo', { deployment: 'x' }, { mode: 'approval', risk: 'HIGH', written: { approvers: false } }), 'compile')).toHaveLength(1);
  });
  it('lets it pass with approvers, and does not apply at MEDIUM or at run time', () => {
    expect(findingsOf(RULE, facts('kubectl_rollout_undo', { deployment: 'x' }, { mode: 'approval', risk: 'HIGH', written: { approvers: true } }), 'compile')).toEqual([]);
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'x' }, { mode: 'approval', risk: 'MEDIUM', written: {} }), 'compile')).toEqual([]);
    expect(findingsOf(RULE, facts('kubectl_rollout_undo', { deployment: 'x' }, { mode: 'approval', risk: 'HIGH', written: {} }), 'runtime')).toEqual([]);
  });
});
