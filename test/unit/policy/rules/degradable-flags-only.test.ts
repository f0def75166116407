/** degradable-flags-only: the allow-list of degradable features, by identity. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'degradable-flags-only';
const run = (disable: string[], enable: string[] = []) => findingsOf(RULE, facts('feature_flags', { disable, enable }));

describe(RULE, () => {
  it('lets the seed degradation pass, however the names are spelled', () => {
    expect(run(['market_history_api', 'LEADERBOARD_API', 'notification-service'])).toEqual([]);
    expect(run([], ['market_history_api'])).toEqual([]);
  });

  it.each([
    ['spot_trading', 'global_operations'],
    ['order_placement_api', 'global_operations'],
    ['trading_pair_btc_usdt', 'matching_engine_core'],
    ['market_history_api_v2', 'global_operations'],
  ])('refuses switching off %s (%s)', (flag, category) => {
    expect(run([flag])).toEqual([expect.objectContaining({ effect: 'refuse', category, field: ['params', 'disable', 0] })]);
  });

  it('refuses switching a non-degradable feature back on too', () => {
    expect(run([], ['spot_trading'])).toHaveLength(1);
  });

  it('refuses a flag named by a {{template}}', () => {
    expect(run(['{{flag}}'])[0]?.message).toContain('is a {{template}}');
  });
});
