/** blacklisted-action: compliant and non-compliant cases side by side. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'blacklisted-action';

describe(RULE, () => {
  it.each([
    ['wallet_transfer', 'wallet_operations'],
    ['rds_failover', 'database_writes'],
    ['pause_trading_pair', 'matching_engine_core'],
    ['dns_failover', 'global_operations'],
  ])('refuses %s (%s), with or without approval', (action, category) => {
    for (const mode of ['auto', 'approval'] as const) {
      expect(findingsOf(RULE, facts(action, {}, { mode }))).toEqual([expect.objectContaining({ effect: 'refuse', category, field: ['action'], message: expect.stringContaining(`${action} is a blacklisted operation`) })]);
    }
  });

  it('lets an action that is not blacklisted pass', () => {
    expect(findingsOf(RULE, facts('rolling_restart', { deployment: 'trading-api', strategy: 'one_at_a_time' }))).toEqual([]);
  });
});
