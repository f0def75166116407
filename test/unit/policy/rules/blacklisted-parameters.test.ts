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
      ['trading-api:8080/api/pairs/BTC-USDT/pause', 'matching_engine_core'],
      ['http://trading-api.trading.svc.cluster.local:8080/%2e%2e/maintenance', 'global_operations'],
    ])('refuses %s (%s)', (endpoint, category) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST' }))).toContain(category);
    });

    it.each(['matching-engine:8080/admin/gc', 'trading-api:8080/admin/cache/refresh'])('lets %s pass', (endpoint) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST' }))).toEqual([]);
    });
  });

  describe('the query and body of an endpoint call (decoded)', () => {
    it.each([
      ['matching-engine:8080/admin/gc?pair=BTC-USDT&op=%68alt', undefined, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc?next=/wallet/withdraw', undefined, 'wallet_operations'],
      ['matching-engine:8080/admin/gc?%77ithdraw=1', undefined, 'wallet_operations'],
      ['matching-engine:8080/admin/gc', { op: 'halt' }, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', { plan: [{ then: 'RESUME' }] }, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', { balance: 0 }, 'wallet_operations'],
      // 暂停/恢复交易对: the seed's "pause/resume a trading pair", in the verbs an admin API uses
      ['matching-engine:8080/admin/gc', { pair: 'BTC-USDT', op: 'pause' }, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', { op: 'Suspend' }, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc?op=unpause', undefined, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', 'op=%70ause', 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', { pause_target_ms: 50 }, 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', 'op=%68alt', 'matching_engine_core'],
      ['matching-engine:8080/admin/gc', '{"do": "shutdown"}', 'global_operations'],
      ['matching-engine:8080/admin/gc', '%7B%22do%22%3A%22dns%22%7D', 'global_operations'],
      ['not a url at all', { op: 'withdraw' }, 'wallet_operations'], // the body is checked even when the endpoint is refused
    ])('refuses %s with body %j (%s)', (endpoint, body, category) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST', ...(body === undefined ? {} : { body }) }))).toContain(category);
    });

    it('refuses a body nested too deep to read, rather than sending what was not read', () => {
      let body: unknown = { op: 'halt' };
      for (let i = 0; i < 20; i += 1) body = { wrap: body };
      expect(findingsOf(RULE, facts('api_call', { endpoint: 'matching-engine:8080/admin/gc', method: 'POST', body })).map((f) => f.message)).toEqual([expect.stringContaining('nested deeper than 16 levels')]);
      expect(categories(facts('api_call', { endpoint: 'matching-engine:8080/admin/gc', method: 'POST', body: JSON.stringify(body) }))).toEqual([undefined]);
    });

    it('names the body parameter for a hit in the body', () => {
      expect(findingsOf(RULE, facts('api_call', { endpoint: 'matching-engine:8080/admin/gc', method: 'POST', body: { op: 'halt' } })).map((f) => [f.field, f.message])).toEqual([
        [['params', 'body'], expect.stringContaining('(in the request body)')],
      ]);
    });

    it.each([
      ['matching-engine:8080/admin/gc?pair=BTC-USDT&mode=young', { reason: 'latency', full: true, depth: 3 }],
      ['matching-engine:8080/admin/gc', null],
      ['matching-engine:8080/admin/gc', 'reason=p99 latency'],
      // The verb inside a value or a key is not the verb; a key or value that starts with it is
      // refused like one (`pause_target_ms`: over-refusing is the safe side, as for halt/resume).
      ['matching-engine:8080/admin/gc', { reason: 'GC pauses over 200 ms', target_pause_ms: 50 }],
    ])('lets %s with body %j pass', (endpoint, body) => {
      expect(categories(facts('api_call', { endpoint, method: 'POST', body }))).toEqual([]);
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

describe(`${RULE}: findings word for word`, () => {
  const FIX = 'remove the step or the parameter; the agent never executes a blacklisted operation, with or without approval (playbooks/policy.yaml)';

  it('names the endpoint field, the category once, and the spelling written when the normal form matched', () => {
    const fs = findingsOf(RULE, facts('api_call', { endpoint: 'trading-api:8080/api/%77ithdraw', method: 'POST' }));
    expect(fs).toEqual([{ rule: RULE, effect: 'refuse', field: ['params', 'endpoint'], category: 'wallet_operations', message: expect.stringMatching(/^blacklisted operation, category wallet_operations: .*\(written "trading-api:8080\/api\/%77ithdraw"\)$/), fix: FIX }]);
  });

  it('skips a templated endpoint (checked again once resolved) and reads a body without an endpoint as its own', () => {
    expect(findingsOf(RULE, facts('api_call', { endpoint: '{{svc}}:8080/api/withdraw', method: 'POST' }))).toEqual([]);
    expect(findingsOf(RULE, facts('api_call', { endpoint: 'trading-api:8080/api/ok', method: 'POST', body: null }))).toEqual([]);
    const body = findingsOf(RULE, facts('api_call', { endpoint: 'trading-api:8080/admin/gc', method: 'POST', body: { op: 'withdraw', again: 'withdraw' } }));
    expect(body).toEqual([expect.objectContaining({ field: ['params', 'body'], category: 'wallet_operations', message: expect.stringMatching(/\(in the request body\)$/) })]);
  });

  it('refuses a nested request body, naming the field', () => {
    const fs = findingsOf(RULE, facts('api_call', { endpoint: 'trading-api:8080/admin/gc', method: 'POST', body: { a: { b: { c: { d: { e: { f: 1 } } } } } } }));
    expect(fs.every((f) => f.effect === 'refuse' && f.field.join('.') === 'params.body' && f.fix === 'send a flat request body')).toBe(true);
  });

  it('names each config key, each flag by its index, each SQL table — one finding per category', () => {
    expect(findingsOf(RULE, facts('update_config', { service: 'trading-api', config: 'maker_fee=0' }))).toEqual([{ rule: RULE, effect: 'refuse', field: ['params'], category: 'wallet_operations', message: expect.stringMatching(/^blacklisted operation, category wallet_operations: config key "maker_fee" matches/), fix: FIX }]);
    expect(findingsOf(RULE, facts('update_config', { service: 'trading-api', config: '{{key}}=0' }))).toEqual([]);
    expect(findingsOf(RULE, facts('feature_flags', { disable: ['leaderboard_api', 'maintenance_mode'], enable: ['withdrawals'] })).map((f) => [f.field, f.category])).toEqual([
      [['params', 'disable', 1], 'global_operations'],
      [['params', 'enable', 0], 'wallet_operations'],
    ]);
    expect(findingsOf(RULE, facts('feature_flags', { disable: ['{{flag}}'] }))).toEqual([]);
    const sql = findingsOf(RULE, facts('rds_query', { query: 'SELECT * FROM exchange.wallet_balances JOIN orders ON 1' }));
    expect(sql.map((f) => [f.field, f.category])).toEqual([
      [['params', 'query'], 'wallet_operations'],
      [['params', 'query'], 'matching_engine_core'],
    ]);
    expect(findingsOf(RULE, facts('rds_query', { query: 'SELECT * FROM {{table}}' }))).toEqual([]);
    expect(findingsOf(RULE, facts('rds_query', { query: 42 as unknown as string }))).toEqual([]);
  });

  it('matches a table by its database-qualified name too', () => {
    const fs = findingsOf(RULE, facts('rds_query', { query: 'SELECT * FROM wallet.accounts' }));
    expect(fs.map((f) => f.category)).toEqual(['wallet_operations']);
    expect(fs[0]!.message).toContain('wallet.accounts');
  });
});
