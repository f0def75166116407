/** sql-read-only: read-only statements pass; writes, locks, INTO, assignments and side effects do not. */
import { runRules } from '../../../../lib/policy';
import { facts, findingsOf } from '../../../helpers/step-facts';
import { defaultPolicy } from '../../../../lib/policy/files';

const RULE = 'sql-read-only';
const problems = (params: Record<string, unknown>) => findingsOf(RULE, facts('rds_query', params)).map((f) => f.message);

describe(RULE, () => {
  it.each([
    "SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300",
    'SELECT user, COUNT(*) AS n FROM information_schema.processlist GROUP BY user',
    'SELECT * FROM information_schema.innodb_trx',
    'EXPLAIN SELECT 1',
    'SHOW FULL PROCESSLIST',
    "SHOW GLOBAL STATUS LIKE 'Threads_connected'",
    "SHOW VARIABLES LIKE 'max_connections'",
    'SELECT 1;',
  ])('lets %j pass', (query) => {
    expect(problems({ query })).toEqual([]);
  });

  it.each([
    ['UPDATE users SET balance = 0', 'UPDATE is not a read'],
    ['delete from orders', 'DELETE is not a read'],
    ['SET GLOBAL max_connections = 1', 'SET is not a read'],
    ['SELECT 1; DROP TABLE users', '2 statements'],
    ['SELECT * FROM t FOR UPDATE', 'locking read'],
    ["SELECT * INTO OUTFILE '/tmp/x' FROM t", 'INTO OUTFILE'],
    ["SELECT a FROM t INTO DUMPFILE '/tmp/x'", 'INTO DUMPFILE'],
    ['SELECT a INTO @v FROM t', 'INTO'],
    ['SELECT @a := 1', 'variable assignment'],
    ['SELECT SLEEP(10)', 'SLEEP() has side effects'],
    ["SELECT id FROM t WHERE x = (SELECT GET_LOCK('a', 10))", 'GET_LOCK() has side effects'],
    ["SELECT BENCHMARK(100000000, MD5('a'))", 'BENCHMARK() has side effects'],
    ["SELECT LOAD_FILE('/etc/passwd')", 'LOAD_FILE() has side effects'],
    ['SELECT /*!50000 SLEEP(1) */ 1', 'executable comments'],
    ['SELECT 1 /*M! , SLEEP(1) */', 'executable comments'],
    ['SELECT * FROM t LOCK IN SHARE MODE', 'cannot be parsed'],
    ['HANDLER t OPEN', 'HANDLER is not a read'],
    ['CALL flush_balances()', 'CALL is not a read'],
    ['KILL 42', 'KILL is not a read'],
  ])('refuses %j (%s)', (query, why) => {
    expect(problems({ query }).join('; ')).toContain(why);
  });

  it('refuses a query built from a {{template}}', () => {
    expect(problems({ query: 'SELECT * FROM {{table}}' })).toEqual([expect.stringContaining('cannot be checked before it runs')]);
  });

  it.each(['SHOW {id}', 'KILL 42', 'KILL {id} ; KILL {other}', 'SELECT {id}', 'DELETE FROM sessions WHERE id = {id}'])('refuses follow_up %j', (follow_up) => {
    expect(problems({ query: "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300", follow_up })).toEqual([expect.stringContaining('follow_up must be "KILL {column}"')]);
  });

  it.each(['KILL {id}', 'KILL CONNECTION {id}', 'kill query {id};'])('lets follow_up %j pass', (follow_up) => {
    expect(problems({ query: "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 300", follow_up })).toEqual([]);
  });

  it('refuses SQL parameters of an action that declares no parser (fails closed, naming the action)', () => {
    // arrange: rds_query's roles without its sqlAnalysis, as a bundle without node-sql-parser would have them
    const step = facts('rds_query', { query: 'SELECT 1', follow_up: 'KILL {id}' });
    const { sqlAnalysis: _dropped, ...roles } = step.action.roles!;
    const bare = { ...step, action: { ...step.action, roles } };
    // act
    const found = runRules(bare, defaultPolicy(), 'runtime').filter((f) => f.effect === 'refuse').map((f) => `${f.rule}: ${f.message}`);
    // assess
    expect(found).toEqual([
      'sql-read-only: query: cannot be checked: action rds_query declares SQL parameters but no SQL parser (roles.sqlAnalysis)',
      'kill-idle-only: the kill list cannot be limited to idle connections: action rds_query declares no SQL parser (roles.sqlAnalysis), so the query cannot be read',
    ]);
  });
});
