/**
 * lib/policy/sql.ts directly: what analyseSql reports for each kind of statement (kinds, tables,
 * problems, word for word) and what idleFilterOf takes as a kill list's idle filter. The rules
 * (sql-read-only, kill-idle-only, blacklisted-parameters) build on these.
 */
import { analyseSql, idleFilterOf } from '../../../lib/policy/sql';

const facts = (sql: string) => {
  const f = analyseSql(sql);
  return { kinds: f.kinds, tables: f.tables, problems: f.problems };
};

describe('analyseSql', () => {
  it.each([
    ['  ;  ', { kinds: [], tables: [], problems: ['the statement is empty'] }],
    ['SELECT 1 ;  ', { kinds: ['select'], tables: [], problems: [] }],
    ['SHOW   FULL   PROCESSLIST', { kinds: ['show'], tables: [], problems: [] }],
    ["show global status like 'Threads%'", { kinds: ['show'], tables: [], problems: [] }],
    ['EXPLAIN SELECT 1', { kinds: ['explain'], tables: [], problems: [] }],
    ['SELECT 1 UNION SELECT 2', { kinds: ['select'], tables: [], problems: [] }],
    ['DELETE users now please', { kinds: ['delete'], tables: [], problems: ['DELETE is not a read (allowed: SELECT, SHOW, EXPLAIN)'] }],
    ['(  UPDATE t SET', { kinds: ['update'], tables: [], problems: ['UPDATE is not a read (allowed: SELECT, SHOW, EXPLAIN)'] }],
    ['SELECT * FROM Exchange.Sessions s JOIN users u ON 1', { kinds: ['select'], tables: [{ db: 'exchange', table: 'sessions' }, { table: 'users' }], problems: [] }],
    ['SELECT * FROM sessions FOR UPDATE', { kinds: ['select'], tables: [{ table: 'sessions' }], problems: ['locking read (FOR UPDATE) takes row locks'] }],
    ['SELECT 1 INTO @a', { kinds: ['select'], tables: [], problems: ['SELECT ... INTO VAR writes outside the result set'] }],
    ["SELECT 1 INTO OUTFILE '/x'", { kinds: ['select'], tables: [], problems: ['SELECT ... INTO OUTFILE writes outside the result set'] }],
    ['SELECT @a := 1', { kinds: ['select'], tables: [], problems: ['variable assignment (:=) changes session state'] }],
    ['SELECT mydb.sleep(1)', { kinds: ['select'], tables: [], problems: ['SLEEP() has side effects (sleeps, locks, waits or reads files)'] }],
    ['SELECT SLEEP(1), sleep(2)', { kinds: ['select'], tables: [], problems: ['SLEEP() has side effects (sleeps, locks, waits or reads files)'] }],
    ['SELECT 1; SELECT 2', { kinds: ['select', 'select'], tables: [], problems: ['2 statements: one statement per parameter'] }],
    ['SET @a = 1', { kinds: ['set'], tables: [], problems: ['SET is not a read (allowed: SELECT, SHOW, EXPLAIN)', 'variable assignment (:=) changes session state'] }],
    ['SELECT /*!50000 1 */', { kinds: [], tables: [], problems: ['executable comments (/*! ... */) are not allowed: MariaDB runs what they hold'] }],
    ['SELECT 1 /*m! 2 */', { kinds: [], tables: [], problems: ['executable comments (/*! ... */) are not allowed: MariaDB runs what they hold'] }],
  ])('%j', (sql, expected) => {
    expect(facts(sql)).toEqual(expected);
  });

  it('refuses what does not parse with the first line of the parser\'s message, at most 160 characters', () => {
    const f = facts('FROB 1');
    expect(f.kinds).toEqual([]);
    expect(f.problems).toHaveLength(1);
    expect(f.problems[0]).toMatch(/^cannot be parsed as MariaDB SQL, so it is not sent \(Expected .* but "1" found\.\)$/);
    const long = facts(`SELECT ${'a,'.repeat(40)} FROM WHERE`).problems[0]!;
    expect(long.length).toBeLessThanOrEqual('cannot be parsed as MariaDB SQL, so it is not sent ()'.length + 160);
    expect(long).not.toContain('\n');
  });

  it('keeps the parsed statement for the kill-list check, and reads no table where there is none', () => {
    expect(analyseSql('SELECT 1').ast).toMatchObject({ type: 'select' });
    expect(analyseSql('SHOW PROCESSLIST').ast).toBeUndefined();
  });
});

describe('analyseSql: edges a wrong parser wrapper would get wrong', () => {
  it('cuts a long parser message at 160 characters', () => {
    // `SELECT (` makes the parser list every token it expected (over 160 characters on one line).
    expect(facts('SELECT (').problems).toEqual([`cannot be parsed as MariaDB SQL, so it is not sent (${'Expected "!", "#", "$", "\'", "(", "+", "-", "--", "/*", "0x", ":", "?", "@", "@@", "AVG", "CASE", "CAST", "COUNT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIME'})`]);
  });

  it('names a write verb only when the statement starts with it: later words are not its verb', () => {
    // An unanchored verb pattern would read `@@@ UPDATE t` as an UPDATE; a missing match must not throw.
    expect(facts('@@@ UPDATE t').problems).toEqual(['cannot be parsed as MariaDB SQL, so it is not sent (Expected "+", "-", [0-9], or [A-Za-z_一-龥À-ſ] but "@" found.)']);
    expect(facts('@@@ UPDATE t').kinds).toEqual([]);
  });

  it('strips only a trailing semicolon with blanks: text after a semicolon is not dropped unread', () => {
    // `SELECT id FROM t;DROP` is sent as written; reading only `SELECT id FROM t` would pass it.
    expect(facts('SELECT id FROM t;DROP').problems).toHaveLength(1);
    expect(facts('SELECT id FROM t;DROP').problems[0]).toMatch(/^cannot be parsed as MariaDB SQL/);
  });

  it('lets ordinary functions through: only side-effect functions are refused', () => {
    expect(facts('SELECT COALESCE(a, 0), UPPER(b), NOW() FROM t')).toEqual({ kinds: ['select'], tables: [{ table: 't' }], problems: [] });
  });

  it('reads a back-quoted table name of a SHOW form whole', () => {
    // Split at the dash, `user-balances` would read as table balances of database user.
    expect(facts('SHOW COLUMNS FROM `user-balances`').tables).toEqual([{ table: 'user-balances' }]);
  });

  it('refuses the account tables of the mysql database only, with the reason', () => {
    expect(facts('SELECT host FROM mysql.user').problems).toEqual(['mysql.user holds database accounts and their password hashes; the agent does not read it']);
    // A table called user elsewhere is an ordinary table (the sql_tables blacklist decides about it).
    expect(facts('SELECT id FROM user').problems).toEqual([]);
    expect(facts('SELECT id FROM app.user').problems).toEqual([]);
  });
});

describe('idleFilterOf', () => {
  const Q = (where: string) => `SELECT id FROM information_schema.processlist${where}`;
  it.each([
    [Q(" WHERE command = 'Sleep' AND time > 300"), { idleOverSeconds: 300 }],
    [Q(" WHERE command = 'Sleep' AND time >= 300"), { idleOverSeconds: 299 }],
    [Q(" WHERE command = 'Sleep' AND time > 100 AND time > 400"), { idleOverSeconds: 400 }],
    [Q(" WHERE `command` = 'Sleep' AND `time` > 400"), { idleOverSeconds: 400 }],
    [Q(" p WHERE p.command = 'Sleep' AND p.time > 400"), { idleOverSeconds: 400 }],
    [Q(" WHERE command = 'SLEEP' AND time > 400.5"), { idleOverSeconds: 400.5 }],
  ])('takes %j as idle over the time it requires', (sql, expected) => {
    expect(idleFilterOf(sql)).toEqual(expected);
  });

  const NO_TIME = { problem: 'its WHERE must require time > N seconds (connections idle that long), joined by AND' };
  const NO_SLEEP = { problem: "its WHERE must require command = 'Sleep' (idle connections only), joined by AND" };
  it.each([
    [Q(" WHERE command = 'Sleep' AND time < 400"), NO_TIME],
    [Q(" WHERE command = 'Sleep' AND time = 400"), NO_TIME],
    [Q(" WHERE command = 'Sleep' AND user > 400"), NO_TIME],
    [Q(" WHERE command = 'Sleep' AND time > '400'"), NO_TIME],
    [Q(" WHERE command = 'Sleep'"), NO_TIME],
    [Q(" WHERE command = 'Query' AND time > 400"), NO_SLEEP],
    [Q(" WHERE state = 'Sleep' AND time > 400"), NO_SLEEP],
    [Q(' WHERE command = 1 AND time > 400'), NO_SLEEP],
    [Q(" WHERE 'Sleep' = command AND time > 400"), NO_SLEEP],
    [Q(' WHERE time > 400'), NO_SLEEP],
    [Q(''), NO_SLEEP],
    ['SHOW PROCESSLIST', { problem: 'the kill list must come from a SELECT' }],
    ['EXPLAIN SELECT 1', { problem: 'the kill list must come from a SELECT' }],
    ['SELECT 1', { problem: 'the kill list must be selected from information_schema.processlist alone (it names no table)' }],
    ["SELECT id FROM processlist WHERE command = 'Sleep' AND time > 400", { problem: 'the kill list must be selected from information_schema.processlist alone (it names .processlist)' }],
    ["SELECT id FROM sys.processlist WHERE command = 'Sleep' AND time > 400", { problem: 'the kill list must be selected from information_schema.processlist alone (it names sys.processlist)' }],
    // A subquery brings another table into the kill list's WHERE: both are named.
    [Q(" WHERE command = 'Sleep' AND time > 300 AND id IN (SELECT id FROM app.t)"), { problem: 'the kill list must be selected from information_schema.processlist alone (it names app.t, information_schema.processlist)' }],
    ['SELECT SLEEP(1), GET_LOCK(1, 2) FROM information_schema.processlist', { problem: 'GET_LOCK() has side effects (sleeps, locks, waits or reads files); SLEEP() has side effects (sleeps, locks, waits or reads files)' }],
  ])('refuses %j', (sql, expected) => {
    expect(idleFilterOf(sql)).toEqual(expected);
  });
});
