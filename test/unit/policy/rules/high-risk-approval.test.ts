/** high-risk-approval: HIGH/CRITICAL mutations need approval; the registered risk counts. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'high-risk-approval';

describe(RULE, () => {
  it('needs approval for a HIGH-risk action even when the step claims LOW', () => {
    expect(findingsOf(RULE, facts('kubectl_rollout_undo', { deployment: 'trading-api' }, { risk: 'LOW' }))).toEqual([expect.objectContaining({ effect: 'needs_approval', message: expect.stringContaining('HIGH is the registered risk of kubectl_rollout_undo') })]);
  });
  it('needs approval for a step that declares itself CRITICAL', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'trading-api', strategy: 'one_at_a_time' }, { risk: 'CRITICAL' }))).toHaveLength(1);
  });
  it('lets a LOW-risk mutation and a read-only HIGH step pass', () => {
    expect(findingsOf(RULE, facts('patch_hpa_max', { deployment: 'trading-api', new_max: 'current_max * 2' }, { risk: 'LOW' }))).toEqual([]);
    expect(findingsOf(RULE, facts('collect_thread_dump_and_metrics', { service: 'matching-engine' }, { risk: 'HIGH' }))).toEqual([]);
  });
});
