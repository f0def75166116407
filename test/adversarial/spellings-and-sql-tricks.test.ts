/**
 * Issue 9, attacked once more as an attacker would, at the rules the compiler and the runtime
 * guard share (no servers: `npm run mutate` runs these too). Each case is something a playbook
 * author or a forged parameter could try: SQL that hides a write or a side effect from a parser,
 * kill lists that reach busy threads, a protected service spelled another way, flags spelled
 * another way, scaling expressions out of bounds. What got through on main is marked FOUND.
 */
import { findAction } from '../../lib/actions';
import { deriveBounds, loadPlaybookText } from '../../lib/playbook';
import { analyseSql, idleFilterOf } from '../../lib/policy/sql';
import { runRules, type Finding, type Phase, type Policy } from '../../lib/policy';
import { facts } from '../helpers/step-facts';
import { defaultPolicy } from '../../lib/policy/files';

// Read in each test, not while the file loads: Stryker counts what runs at load as "static" and
// restarts a test process for every mutant it reaches (npm run mutate, stryker.config.json).
let policy: Policy;
beforeEach(() => {
  policy = defaultPolicy();
});

/** The findings of every rule for one step, in both phases the rules run in. */
function findings(action: string, params: Record<string, unknown>, phase: Phase = 'runtime'): Finding[] {
  const def = findAction(action)!;
  const parsed = def.params.safeParse(params);
  const p = parsed.success ? (parsed.data as Record<string, unknown>) : params;
  return runRules(facts(action, p, phase === 'compile' ? { bounds: deriveBounds({ action: def, params: p }) } : {}), policy, phase);
}
const refusedBy = (fs: Finding[]) => fs.filter((f) => f.effect === 'refuse').map((f) => f.rule);
const approvalBy = (fs: Finding[]) => fs.filter((f) => f.effect === 'needs_approval').map((f) => f.rule);

describe('SQL past the parser', () => {
  it.each([
    ['a second statement after a block comment', 'SELECT 1 /* x */ ; DELETE FROM users'],
    ['a second statement after a # comment', 'SELECT 1 # note\n; DELETE FROM users'],
    ['two reads', 'SELECT 1; SELECT 2'],
    ['the client separator \\g', 'SELECT 1 \\g DELETE FROM users'],
    ['an executable comment with a version', 'SELECT /*!50000 SLEEP(5) */ 1'],
    ['an executable comment holding a write', '/*!DELETE FROM users*/'],
    ['a MariaDB-only executable comment', 'SELECT 1 /*M! , SLEEP(10)*/'],
    ['an executable comment for a future version', "SELECT 'a' /*!99999 , (SELECT SLEEP(1)) */"],
    ['SELECT ... INTO @var', 'SELECT id FROM users INTO @x'],
    ['SELECT ... INTO two variables', 'SELECT a, b FROM t INTO @a, @b'],
    ['an assignment', 'SELECT @v := 1'],
    ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/a'"],
    ['INTO DUMPFILE', 'SELECT * FROM users INTO DUMPFILE "/tmp/x"'],
    ['HANDLER OPEN', 'HANDLER users OPEN'],
    ['HANDLER READ', 'HANDLER users READ FIRST'],
    ['DO SLEEP', 'DO SLEEP(5)'],
    ['DO of anything', 'DO 1'],
    ['SLEEP with a comment before its parenthesis', 'SELECT sleep/**/(5)'],
    ['SLEEP quoted as an identifier', 'SELECT `sleep`(5)'],
    ['SLEEP after a tab, in lower case', 'select\tsleep(5)'],
    ['SLEEP in a derived table', 'SELECT * FROM (SELECT SLEEP(5)) t'],
    ['SLEEP in a UNION', 'SELECT 1 UNION SELECT SLEEP(5)'],
    ['SLEEP in IF', 'SELECT IF(1, SLEEP(5), 0)'],
    ['SLEEP in CASE', 'SELECT CASE WHEN 1 THEN SLEEP(5) END'],
    ['SLEEP in WHERE', 'SELECT * FROM t WHERE a = 1 AND SLEEP(5)'],
    ['SLEEP in EXISTS', 'SELECT 1 FROM DUAL WHERE EXISTS(SELECT SLEEP(5))'],
    ['SLEEP in an aggregate', 'SELECT JSON_ARRAYAGG(SLEEP(1)) FROM t'],
    ['BENCHMARK', 'SELECT BENCHMARK(1000000, MD5(1))'],
    ['GET_LOCK', 'SELECT GET_LOCK("a", 10)'],
    ['RELEASE_ALL_LOCKS', 'SELECT RELEASE_ALL_LOCKS()'],
    ['MASTER_POS_WAIT', 'SELECT MASTER_POS_WAIT("f", 4)'],
    ['LOAD_FILE', 'SELECT LOAD_FILE("/etc/passwd")'],
    ['NEXTVAL (advances a sequence)', 'SELECT NEXTVAL(seq)'],
    ['SETVAL', 'SELECT SETVAL(seq, 100)'],
    ['FOR UPDATE', 'SELECT * FROM users FOR UPDATE'],
    ['FOR UPDATE NOWAIT', 'SELECT 1 FOR UPDATE NOWAIT'],
    ['FOR UPDATE SKIP LOCKED', 'SELECT 1 FOR UPDATE SKIP LOCKED'],
    ['FOR SHARE', 'SELECT * FROM users FOR SHARE'],
    ['LOCK IN SHARE MODE', 'SELECT * FROM users LOCK IN SHARE MODE'],
    ['a locking read in a subquery', 'SELECT * FROM t WHERE x IN (SELECT y FROM u FOR UPDATE)'],
    ['PROCEDURE ANALYSE', 'SELECT 1 PROCEDURE ANALYSE()'],
    ['EXPLAIN of a write', 'EXPLAIN DELETE FROM users'],
    ['EXPLAIN ANALYZE of a write (it runs it)', 'EXPLAIN ANALYZE DELETE FROM users'],
    ['ANALYZE TABLE', 'ANALYZE TABLE users'],
    ['SET GLOBAL', 'SET GLOBAL max_connections = 1'],
    ['SET of a variable', 'SET @a = 1'],
    ['CALL', 'CALL proc()'],
    ['KILL as the query', 'KILL 5'],
    ['DESCRIBE (not a form the agent sends)', 'DESCRIBE users'],
  ])('refuses %s', (_what, query) => {
    expect(refusedBy(findings('rds_query', { query }))).toContain('sql-read-only');
  });

  it.each([
    ['reading the accounts table (password hashes) — FOUND on main', 'SELECT user, password FROM mysql.user', 'sql-read-only'],
    ['reading the accounts table by its 10.4+ name — FOUND on main', 'SELECT * FROM `mysql`.`global_priv`', 'sql-read-only'],
    ['SHOW CREATE TABLE of a wallet table — FOUND on main', 'SHOW CREATE TABLE wallet_balances', 'blacklisted-parameters'],
    ['SHOW COLUMNS of a wallet table — FOUND on main', 'SHOW COLUMNS FROM `exchange`.`wallet_balances`', 'blacklisted-parameters'],
    ['SHOW INDEX of an order table — FOUND on main', 'SHOW INDEX FROM orders', 'blacklisted-parameters'],
    ['a wallet table in back-quotes', 'SELECT * FROM `wallet_balances`', 'blacklisted-parameters'],
    ['a wallet table qualified by its database', 'SELECT * FROM exchange.wallet_balances', 'blacklisted-parameters'],
    ['a wallet table in upper case', 'SELECT * FROM WALLET_BALANCES', 'blacklisted-parameters'],
    ['a wallet table in a scalar subquery', 'SELECT (SELECT 1 FROM wallet_balances)', 'blacklisted-parameters'],
  ])('refuses %s', (_what, query, rule) => {
    expect(refusedBy(findings('rds_query', { query }))).toContain(rule);
  });

  it.each([
    ['a trailing line comment (one statement)', 'SELECT 1 -- ; DROP TABLE users'],
    ['a CTE', 'WITH x AS (SELECT 1) SELECT * FROM x'],
    ['SHOW PROCESSLIST', 'SHOW FULL PROCESSLIST'],
    ['EXPLAIN of a read', 'EXPLAIN SELECT * FROM sessions'],
    ['a global variable read', 'SELECT @@global.max_connections'],
    ['SHOW COLUMNS of an unlisted table', 'SHOW COLUMNS FROM sessions'],
  ])('safe twin: lets %s pass', (_what, query) => {
    expect(refusedBy(findings('rds_query', { query }))).toEqual([]);
  });

  it('names the table a SHOW statement reads', () => {
    expect(analyseSql('SHOW CREATE TABLE `Exchange`.`Wallet_Balances`').tables).toEqual([{ db: 'exchange', table: 'wallet_balances' }]);
    expect(analyseSql('show   columns from sessions').tables).toEqual([{ table: 'sessions' }]);
  });
});

describe('kill lists that could reach busy threads', () => {
  const IDLE = "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300";
  it.each([
    ['a UNION of every thread — FOUND on main', `${IDLE} UNION SELECT id FROM information_schema.processlist`],
    ['a UNION ALL', `${IDLE} UNION ALL SELECT id FROM information_schema.processlist WHERE 1`],
    ['a join of the processlist with itself — FOUND on main', "SELECT p2.id FROM information_schema.processlist p1, information_schema.processlist p2 WHERE p1.command = 'Sleep' AND p1.time > 300"],
    ['an explicit join', "SELECT p2.id FROM information_schema.processlist p1 JOIN information_schema.processlist p2 ON 1 WHERE p1.command = 'Sleep' AND p1.time > 300"],
    ['OR around the filter', "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' OR time > 300"],
    ['OR after the filter', `${IDLE} OR 1=1`],
    ['LIKE instead of =', "SELECT id FROM information_schema.processlist WHERE command LIKE 'Sleep' AND time > 300"],
    ['NOT around a negation', "SELECT id FROM information_schema.processlist WHERE NOT (command != 'Sleep') AND time > 300"],
    ['time as a string', "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > '300'"],
    ['idle under the policy minimum', "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 30"],
    ['an executable comment', `${IDLE} /*! OR 1=1 */`],
    ['another table', "SELECT id FROM sessions WHERE command = 'Sleep' AND time > 300"],
  ])('refuses %s', (_what, query) => {
    expect(refusedBy(findings('rds_query', { query, follow_up: 'KILL {id}' }))).toContain('kill-idle-only');
  });

  it('says why a UNION or a join is refused', () => {
    expect(idleFilterOf(`${IDLE} UNION SELECT id FROM information_schema.processlist`)).toEqual({ problem: 'the kill list must be one SELECT from information_schema.processlist alone, with no UNION, INTERSECT, EXCEPT or join: the idle filter holds only for the rows of its own SELECT' });
  });

  it.each([IDLE, "SELECT id FROM INFORMATION_SCHEMA.PROCESSLIST WHERE command = 'sleep' AND time > 300 AND (1 OR 1) LIMIT 10"])('safe twin: lets %j pass', (query) => {
    expect(refusedBy(findings('rds_query', { query, follow_up: 'KILL {id}' }))).toEqual([]);
  });
});

describe('a protected service spelled another way', () => {
  it.each([
    'http://matching-engine:8080/admin/gc',
    'http://MATCHING-ENGINE:8080/admin/gc',
    'HTTP://matching-engine:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local.:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local./admin/gc',
    'http://matching-engine.:8080/admin/gc',
    'http://matching-engine.trading.svc.cluster.local%2e:8080/admin/gc',
    'http://ｍatching-engine:8080/admin/gc',
    'http://matching\u200b-engine:8080/admin/gc',
    'http://matching%2Dengine:8080/admin/gc',
    'http://%6datching-engine:8080/admin/gc',
    'http://matching-engine:08080/admin/gc',
    'http://matching-engine:8080/admin/%2e%2e/admin/gc',
    'http://matching-engine:8080/admin//gc',
    'http://matching-engine:8080/admin/g%63',
    'matching-engine:8080/admin/gc',
  ])('%s is the matching engine: never automatic', (endpoint) => {
    const fs = findings('api_call', { endpoint });
    expect([...refusedBy(fs), ...approvalBy(fs)]).toContain(refusedBy(fs).length > 0 ? refusedBy(fs)[0] : 'protected-service-approval');
    if (refusedBy(fs).length === 0) expect(approvalBy(fs)).toContain('protected-service-approval');
  });

  it.each([
    'http://10.0.0.5:8080/admin/gc',
    'http://167772165:8080/admin/gc',
    'http://0x0a000005:8080/admin/gc',
    'http://012.0.0.5:8080/admin/gc',
    'http://[::ffff:10.0.0.5]:8080/admin/gc',
    'http://[::ffff:a00:5]:8080/admin/gc',
    'http://[::1]:8080/admin/gc',
    'http://127.1:8080/admin/gc',
    'http://2130706433/admin/gc',
    'http://localhost:8080/admin/gc',
    'http://user@matching-engine:8080/admin/gc',
    'http://matching-engine..trading/admin/gc',
    'http://matching-engine:8080\\admin\\gc',
    'http://matching-engine:8080/admin/gc%2f..%2fhalt',
    'http://matching-engine:8080/admin/gc/../halt',
    'http://matching-engine:8080/admin/gc;halt',
    'http://matching-engine:8080/admin/gc%00',
    'http://wallet-service.wallet.svc.cluster.local./admin/gc',
  ])('%s is refused (an address, not a service of the map; or a path off the allow-list)', (endpoint) => {
    expect(refusedBy(findings('api_call', { endpoint }))).not.toEqual([]);
  });

  it.each(['matching-engine', 'wallet-service', 'settlement-service'])('restarting %s needs approval', (deployment) => {
    expect(approvalBy(findings('rolling_restart', { deployment }))).toContain('protected-service-approval');
  });

  it.each(['MATCHING-ENGINE', 'trading/matching-engine', 'deployment/matching-engine', 'matching-engine.trading', 'ｍatching-engine', 'matching\u200b-engine', 'matching-engine.trading.svc.cluster.local.', 'settlement-service.'])(
    'a deployment spelled %j is not a Kubernetes name: the action refuses it before the rules',
    (deployment) => {
      expect(findAction('rolling_restart')!.params.safeParse({ deployment }).success).toBe(false);
    },
  );
});

describe('feature flags spelled another way', () => {
  it.each(['spot_trading', 'SPOT_TRADING', 'spot-trading', 'Spot_Trading', 'order_placement_api', 'market_history_api.v2', 'market_history_api_x', 'xmarket_history_api', 'withdrawals', 'trading_enabled'])('turning off %j is refused', (flag) => {
    expect(refusedBy(findings('feature_flags', { disable: [flag] }))).toContain('degradable-flags-only');
  });

  it('a flag name with a space or a control character is not a flag name', () => {
    for (const flag of ['spot_trading ', 'spot_trading\n', ' spot_trading', 'spot\u200btrading']) expect(findAction('feature_flags')!.params.safeParse({ disable: [flag] }).success).toBe(false);
  });

  it.each(['market_history_api', 'leaderboard_api', 'notification_service'])('safe twin: turning off %s passes', (flag) => {
    expect(refusedBy(findings('feature_flags', { disable: [flag] }))).toEqual([]);
  });
});

describe('expressions out of bounds (compile time)', () => {
  it.each([
    'current_max * 10',
    'current_max / 0.1',
    'current_max * 3.0000001',
    'current_max + 1000',
    'current_max * 2 + current_max * 2',
    '(current_max * 2) * 2',
    'current_max * current_max',
    'current_max * 0',
    'current_max * -1',
    '0 - current_max',
    'current_max - current_max',
    '{{current_max * 10}}',
    '{{ current_max*5 }}',
  ])('refuses new_max = %s', (new_max) => {
    const fs = findings('patch_hpa_max', { deployment: 'trading-api', new_max }, 'compile');
    expect(refusedBy(fs).length).toBeGreaterThan(0);
  });

  it.each(['current_max * 1e1', 'current_max * 0x10', '{{current_max * 1e1}}'])('the loader refuses new_max = %s as no number it knows, naming the field', (new_max) => {
    const yaml = `playbook: p\nrisk: LOW\nsteps:\n  - name: s\n    action: patch_hpa_max\n    params: { deployment: trading-api, new_max: "${new_max}" }\n    requires_approval: true\n    approvers: [oncall_sre]\n`;
    expect(() => loadPlaybookText('p.yaml', yaml)).toThrow(/^p\.yaml:6:\d+: steps\[0\]\.params\.new_max: step "s": unknown unit/);
  });

  it.each(['current_max * 2', 'current_max * 3', '{{current_max * 1.5}}', 'current_max + current_max / 2'])('safe twin: new_max = %s passes', (new_max) => {
    expect(refusedBy(findings('patch_hpa_max', { deployment: 'trading-api', new_max }, 'compile'))).toEqual([]);
  });
});

describe('a request body that hides a blacklisted word', () => {
  const deep = (n: number) => `${'['.repeat(n)}{"op":"halt"}${']'.repeat(n)}`;
  it('JSON nested past the reading depth inside a string body — FOUND on main (read as plain text, its words never classified)', () => {
    const fs = findings('api_call', { endpoint: 'matching-engine:8080/admin/gc', method: 'POST', body: deep(18) });
    expect(refusedBy(fs)).toContain('blacklisted-parameters');
    expect(fs.find((f) => f.rule === 'blacklisted-parameters')?.message).toBe('endpoint "(request body)": nested deeper than 16 levels: it is not read, so it is not sent');
  });

  it.each([deep(2), { op: 'halt' }, 'op=halt', 'op=%68alt', '{"op":"%68alt"}', ['halt']])('%j is matched against the blacklist', (body) => {
    expect(refusedBy(findings('api_call', { endpoint: 'matching-engine:8080/admin/gc', method: 'POST', body }))).toContain('blacklisted-parameters');
  });
});
