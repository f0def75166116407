/**
 * rds_query's KILL follow-up against the real MariaDB at 127.0.0.1:3306: the kill list's id column
 * must be processlist's own. On main a scalar subquery or an expression renamed to `id` passed the
 * kill-idle-only rule (its WHERE did require command = 'Sleep' AND time > N), so the list could
 * name a busy thread; only the KILL step's re-check of each thread stood in the way.
 */
import * as mysql from 'mysql2/promise';
import { action } from '../../lib/actions/rds_query';
import { createPolicy, runRules } from '../../lib/policy';
import { loadPolicy } from '../../lib/policy/files';
import { actionContext } from '../helpers/action-context';
import { facts } from '../helpers/step-facts';

let admin: mysql.Pool;
let busy: mysql.Connection;
let running: Promise<unknown>;

beforeAll(async () => {
  admin = mysql.createPool({ host: '127.0.0.1', user: 'root', connectionLimit: 3 });
  busy = await mysql.createConnection({ host: '127.0.0.1', user: 'root' });
  running = busy.query('SELECT SLEEP(60) AS kill_list_columns_busy').catch(() => undefined);
  for (let i = 0; i < 50; i++) {
    const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE command = 'Query' AND info LIKE 'SELECT SLEEP(60) AS kill_list_columns_busy%'");
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the busy thread never showed in the processlist');
});

afterAll(async () => {
  await admin.query('KILL QUERY ?', [busy.threadId]).catch(() => undefined);
  await running;
  await busy.end();
  await admin.end();
});

const BUSY = "(SELECT id FROM information_schema.processlist WHERE command = 'Query' AND info LIKE 'SELECT SLEEP(60) AS kill_list_columns_busy%' LIMIT 1)";

describe('a kill list whose id is not processlist\'s own id', () => {
  it.each([
    ['a scalar subquery renamed to id', `SELECT ${BUSY} AS id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0`],
    ['an expression renamed to id', `SELECT ${BUSY} + 0 AS id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0`],
    ['another id after the real one (a row keeps the last)', `SELECT id, ${BUSY} AS id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0`],
  ])('%s is refused before anything runs, and the busy thread lives — FOUND on main (the rule passed it; only the KILL step\'s re-check skipped the thread)', async (_what, query) => {
    // prepare: the kill floor at 0 s so that the test's own idle threads would qualify
    const base = loadPolicy();
    const policy = createPolicy({ ...base.document, caps: { ...base.caps, min_kill_idle_seconds: 0 } }, base.file, base.services);
    const message = "its id column must be processlist's own id, not an expression, a subquery or another column named id: it could name threads the idle filter did not select";
    // assess: the rule, as the compiler and the guard run it
    expect(runRules(facts('rds_query', { query, follow_up: 'KILL {id}' }), policy, 'runtime').filter((f) => f.rule === 'kill-idle-only').map((f) => f.message)).toEqual([`the kill list cannot be limited to idle connections: ${message}`]);
    // act: the action itself, with a real database
    const run = action.run({ query, follow_up: 'KILL {id}' }, actionContext({ targets: { mysql: admin }, policy }));
    // assess
    await expect(run).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'kill-idle-only', message: `rds_query refused: the kill list cannot be limited to idle connections: ${message}` });
    const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT command FROM information_schema.processlist WHERE id = ?', [busy.threadId]);
    expect(rows.map((r) => r.command)).toEqual(['Query']);
  });

  it.each([
    "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 60",
    "SELECT p.id AS id, time FROM information_schema.processlist p WHERE command = 'Sleep' AND time > 60",
    "SELECT ID FROM information_schema.processlist WHERE command = 'Sleep' AND time > 60",
    "SELECT * FROM information_schema.processlist WHERE command = 'Sleep' AND time > 60",
  ])('safe twin: %s passes the rule', (query) => {
    expect(runRules(facts('rds_query', { query, follow_up: 'KILL {id}' }), loadPolicy(), 'runtime').filter((f) => f.effect === 'refuse')).toEqual([]);
  });
});
