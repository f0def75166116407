/** blacklisted-parameters: endpoints, config keys, flags and SQL tables, compliant and non-compliant side by side. */
import { facts, findingsOf } from '../../../helpers/step-facts';

const RULE = 'blacklisted-parameters';
const categories = (step: Parameters<typeof findingsOf>[1]) => findingsOf(RULE, step).map((f) => f.category);

describe(RULE, () => {
  describe('endpoints, in normal form', () => {
    it.each([
      ['wallet-service:8080/api/withdraw', 'wallet_operations'],
      ['trading-api:8080/admin/../../wallet/withdraw', 'wallet_operations'], // path traversal
      ['trading-api:8080/api/%77ithdraw', 'wallet_operations'], // percent-encoded letter
      ['trading-api:8080//api//WITHDRAW', 'wallet_operations'], // case and duplicate slashes
      ['matching-engine:8080/admin/./params/tick', 'matching_engine_core'],
      ['http://trading-api.trading.svc.cluster.local:8080/%2e%2e/maintenance', 'global_operations'],
    ])('refuses %s (%s)', (endpoint, category) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST' }))).toContain(category);
    });

    it.each(['matching-engine:8080/admin/gc', 'trading-api:8080/admin/cache/refresh'])('lets %s pass', (endpoint) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST' }))).toEqual([]);
    });
  });

  describe('configuration keys', () => {
    it.each(['maker_fee=0', 'MAKER_FEE_BPS=1', 'matching.tick_size=0.1', 'maintenance_mode=true', 'ma\u200bker_fee=0'])('refuses %s', (config) => {
      expect(categories(facts('update_config', { service: 'trading-api', config })).length).toBeGreaterThan(0);
    });
    it('lets the seed rate limit pass', () => {
      expect(categories(facts('update_config', { service: 'trading-api', config: 'rate_limit_enabled=true', rate_limit: '1000 req/s per user' }))).toEqual([]);
    });
  });

  describe('feature flags', () => {
    it.each([['withdrawals_enabled'], ['trading_pair_btc_usdt'], ['maintenance_mode'], ['ｗａｌｌｅｔ_sync']])('refuses switching %s', (flag) => {
      expect(categories(facts('feature_flags', { disable: [flag], enable: [] })).length).toBeGreaterThan(0);
    });
    it('lets the seed degradation pass', () => {
      expect(categories(facts('feature_flags', { disable: ['market_history_api', 'leaderboard_api', 'notification_service'], enable: [] }))).toEqual([]);
    });
  });

  describe('SQL tables (every table a statement names)', () => {
    it.each([
      'SELECT * FROM user_balances',
      'SELECT id FROM information_schema.processlist WHERE user IN (SELECT owner FROM hot_wallets)',
      'SELECT 1 FROM t JOIN trades ON t.id = trades.id',
      '(SELECT 1) UNION (SELECT id FROM withdrawals)',
    ])('refuses %s', (query) => {
      expect(categories(facts('rds_query', { query })).length).toBeGreaterThan(0);
    });
    it('lets the seed processlist query pass', () => {
      expect(categories(facts('rds_query', { query: "SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300" }))).toEqual([]);
    });
  });

  it('skips values that are still {{templates}} at compile time', () => {
    expect(findingsOf(RULE, facts('api_call', { endpoint: '{{admin_endpoint}}', method: 'POST' }), 'compile')).toEqual([]);
  });
});
