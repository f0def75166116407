/**
 * lib/policy/policy.ts, each test on a policy it loads itself (the default policy is cached per
 * process, so its closures are built once: a test that reads only the cached one cannot tell a
 * broken `createPolicy` from a good one under `npm run mutate`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createPolicy, globMatch } from '../../../lib/policy/policy';
import { PlaybookError } from '../../../lib/yaml';
import { loadPolicy } from '../../../lib/policy/files';

describe('globMatch', () => {
  it('matches * across any characters, case-insensitively, and every other character literally', () => {
    expect(globMatch('*wallet*', 'HOT_WALLET_balances')).toBe(true);
    expect(globMatch('order*', 'orders')).toBe(true);
    expect(globMatch('order*', 'reorder')).toBe(false);
    expect(globMatch('a.b', 'aXb')).toBe(false);
    expect(globMatch('a.b', 'a.b')).toBe(true);
    expect(globMatch('$x(y)', '$x(y)')).toBe(true);
    expect(globMatch('*/halt*', '/admin\n/halt')).toBe(true);
    expect(globMatch('cache:*', 'cache:')).toBe(true);
  });
});

describe('loadPolicy', () => {
  it('classifies each field by every category once, naming the field, the value as written and the pattern', () => {
    const policy = loadPolicy();
    expect(policy.classify('sql_tables', 'user_balances')).toEqual([{ category: 'wallet_operations', reason: 'sql table "user_balances" matches "*balance*"' }]);
    expect(policy.classify('feature_flags', 'maintenance_mode')).toEqual([{ category: 'global_operations', reason: 'feature flag "maintenance_mode" matches "maintenance_mode"' }]);
    expect(policy.classify('config_keys', 'ｍatching.tick\u200b')).toEqual([{ category: 'matching_engine_core', reason: 'config key "ｍatching.tick\u200b" matches "matching.*"' }]);
    expect(policy.classify('endpoints', 'trading-api:8080/api/withdraw')[0]).toMatchObject({ category: 'wallet_operations', reason: expect.stringMatching(/^endpoint "trading-api:8080\/api\/withdraw" matches "/) });
    expect(policy.classify('sql_tables', 'sessions')).toEqual([]);
  });

  it('knows the degradable features by identity (case, dashes, width, invisible characters)', () => {
    const policy = loadPolicy();
    for (const flag of ['market_history_api', 'Market-History-API', ' ｌeaderboard_api ', 'notification\u200b_service']) expect(policy.isDegradable(flag)).toBe(true);
    for (const flag of ['spot_trading', 'market_history', 'market_history_api_v2']) expect(policy.isDegradable(flag)).toBe(false);
  });

  it('allows the listed admin endpoints in normal form only, and calls a service by its cluster name', () => {
    const policy = loadPolicy();
    const gc = policy.normaliseEndpoint('MATCHING-ENGINE:8080/admin//gc');
    expect(gc.key).toBe('matching-engine:8080/admin/gc');
    expect(gc.url).toBe('http://matching-engine.trading.svc.cluster.local:8080/admin/gc');
    expect(policy.isEndpointAllowed(gc)).toBe(true);
    expect(policy.isEndpointAllowed(policy.normaliseEndpoint('matching-engine:8080/admin/halt'))).toBe(false);
  });

  it('recognises the matching engine and the protected services however they are spelled', () => {
    const policy = loadPolicy();
    expect(policy.isMatchingEngine('trading/matching-engine')).toBe(true);
    expect(policy.isMatchingEngine('wallet-service')).toBe(false);
    expect(policy.isProtected('WALLET-SERVICE')).toBe(true);
    expect(policy.isProtected('settlement-service.settlement.svc.cluster.local')).toBe(true);
    expect(policy.isProtected('trading-api')).toBe(false);
  });

  it('allows Redis UNLINK only under an allow-listed prefix', () => {
    const policy = loadPolicy();
    expect(policy.isUnlinkAllowed('cache:user:1')).toBe(true);
    expect(policy.isUnlinkAllowed('session:1')).toBe(false);
    expect(policy.isUnlinkAllowed('xcache:1')).toBe(false);
  });

  it('names the file, line and field of a bad policy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-'));
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, '../../../playbooks/policy.yaml'), 'utf8').replace(/max_kills: 50/, 'max_kills: many'));
    let err: unknown;
    try {
      loadPolicy(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlaybookError);
    expect(String((err as Error).message)).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: caps\\.max_kills`));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('createPolicy', () => {
  it('names its source <inline> by default', () => {
    expect(createPolicy(loadPolicy().document).file).toBe('<inline>');
  });

  it('states what matched in a classification, and reads a policy that recognises only some categories', () => {
    // recognise is a partial record: a category without patterns matches nothing (it must not crash the rules).
    const doc = loadPolicy().document;
    const walletOnly = createPolicy({ ...doc, recognise: { wallet_operations: doc.recognise.wallet_operations } });
    expect(walletOnly.classify('endpoints', 'x:80/wallet/withdraw')).toEqual([{ category: 'wallet_operations', reason: 'endpoint "x:80/wallet/withdraw" matches "*withdraw*"' }]);
    expect(walletOnly.classify('feature_flags', 'maintenance_mode')).toEqual([]);
  });

  it('allows an UNLINK key under any one of several prefixes', () => {
    const doc = loadPolicy().document;
    const p = createPolicy({ ...doc, caps: { ...doc.caps, redis_unlink_prefixes: ['cache:*', 'session:*'] } });
    expect(p.isUnlinkAllowed('session:42')).toBe(true);
    expect(p.isUnlinkAllowed('cache:42')).toBe(true);
    expect(p.isUnlinkAllowed('wallet:42')).toBe(false);
  });
});
