/**
 * Seed scenario 3 on the real MariaDB at 127.0.0.1:3306: rds_query's analysis (connections per
 * service through the service map, long transactions, slow queries, max_connections and usage)
 * and rds_parameter_change's local target (SET GLOBAL max_connections, restored after each test).
 */
import * as mysql from 'mysql2/promise';
import { analyseConnections } from '../../lib/actions/rds/analysis';
import { MysqlServerParameters } from '../../lib/actions/rds/mysql-parameters';
import { action as rdsParameterChange } from '../../lib/actions/rds_parameter_change';
import { action as rdsQuery } from '../../lib/actions/rds_query';
import { createPolicy } from '../../lib/policy';
import { createServiceMap } from '../../lib/policy/services';
import { actionContext } from '../helpers/action-context';
import { loadPolicy } from '../../lib/policy/files';

const HOST = '127.0.0.1';
const LEAKY_USER = 'sre_data_leaky';
const DB = `sre_data_analysis_${process.pid}`;
const services = createServiceMap({
  services: { 'order-service': { kubernetes: true, namespace: 'trading', containers: [], database_users: [LEAKY_USER], consumer_groups: [] } },
});
const policy = createPolicy(loadPolicy().document, '<test>', services);

let admin: mysql.Pool;
let opened: mysql.Connection[] = [];

/** Polls `check` every 50 ms until it holds or `timeoutMs` passed (the caller's expectations then fail). */
async function settle(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
}

async function countUser(user: string): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?', [user]);
  return Number(rows[0]?.n);
}

async function open(n: number, user = LEAKY_USER): Promise<mysql.Connection[]> {
  const conns = await Promise.all(Array.from({ length: n }, () => mysql.createConnection({ host: HOST, user, database: DB })));
  for (const c of conns) c.on('error', () => undefined);
  opened.push(...conns);
  await settle(async () => (await countUser(user)) >= n);
  return conns;
}

beforeAll(async () => {
  admin = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 3 });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${DB}.orders (id INT PRIMARY KEY, qty INT) ENGINE=InnoDB`);
  await admin.query(`INSERT IGNORE INTO ${DB}.orders VALUES (1, 1)`);
  for (const host of ['localhost', '%']) {
    await admin.query(`CREATE USER IF NOT EXISTS '${LEAKY_USER}'@'${host}'`);
    await admin.query(`GRANT SELECT, UPDATE ON ${DB}.* TO '${LEAKY_USER}'@'${host}'`);
  }
});

afterEach(async () => {
  for (const c of opened) c.destroy();
  opened = [];
  await settle(async () => (await countUser(LEAKY_USER)) === 0);
});

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.end();
});

describe('rds_query analysis (seed scenario 3)', () => {
  it('maps connections to services through the service map and names the leaking SERVICE', async () => {
    // prepare: order-service (database user sre_data_leaky) leaks 15 idle connections
    await open(15);
    const agent = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 1 });
    try {
      // act: the seed's first step, with a threshold that kills nothing
      const result = await rdsQuery.run({ query: "SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 100000", follow_up: 'KILL {id}', max_kills: 50 }, actionContext({ targets: { mysql: agent }, policy }));

      // assess
      expect(result.outputs).toMatchObject({ identified_leaking_service: 'order-service', leaking_service: 'order-service', leaking_user: LEAKY_USER });
      const bySvc = result.outputs?.connections_by_service as Record<string, number>;
      expect(bySvc['order-service']).toBeGreaterThanOrEqual(15);
      expect(result.outputs?.max).toBeGreaterThan(0);
      expect(result.outputs?.connections).toBeGreaterThanOrEqual(16);
      expect(result.outputs?.connection_usage).toBeCloseTo((result.outputs?.connections as number) / (result.outputs?.max as number));
      expect(result.summary).toContain('order-service holds most of them');
      // How long the leaked connections may idle, and whether a per-user limit would have stopped them: the server's own settings.
      const [[vars]] = await admin.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.wait_timeout AS w, @@GLOBAL.max_user_connections AS m');
      expect(result.outputs?.pool_configuration).toEqual({ wait_timeout: Number(vars?.w), max_user_connections: Number(vars?.m) });
      const byHost = result.outputs?.connections_by_host as Record<string, number>;
      expect(byHost[HOST] ?? byHost.localhost).toBeGreaterThanOrEqual(15);
    } finally {
      await agent.end();
    }
  });

  it('lists a long transaction from information_schema.innodb_trx with its service', async () => {
    // prepare: a transaction holding a row lock, idle inside the transaction
    const [holder] = await open(1);
    await holder!.query('BEGIN');
    await holder!.query(`UPDATE ${DB}.orders SET qty = qty + 1 WHERE id = 1`);
    // InnoDB refreshes the innodb_trx view at most every 0.1 s: the previous test read it just now.
    await new Promise((r) => setTimeout(r, 200));
    const conn = await admin.getConnection();
    try {
      // act
      const a = await analyseConnections(conn, services, { longTransactionSeconds: 0 });

      // assess
      const mine = a.long_transactions.find((t) => t.user === LEAKY_USER);
      expect(mine).toMatchObject({ service: 'order-service', state: 'RUNNING' });
      expect(mine!.seconds).toBeGreaterThanOrEqual(0);
    } finally {
      conn.release();
      await holder!.query('ROLLBACK');
    }
  });

  it('lists a statement running longer than the slow-query threshold', async () => {
    // prepare: a statement that runs until the test ends it (a fixed SLEEP(2) read 1.2 s in raced
    // the statement's end on a loaded machine), read once the server counts it past the threshold
    const [sleeper] = await open(1);
    const running = sleeper!.query('SELECT SLEEP(60) AS slept').catch(() => undefined);
    const secondsRunning = async () => Number((await admin.query<mysql.RowDataPacket[]>('SELECT time FROM information_schema.processlist WHERE id = ? AND command = ?', [sleeper!.threadId, 'Query']))[0][0]?.time ?? -1);
    await settle(async () => (await secondsRunning()) >= 1, 10_000);
    const conn = await admin.getConnection();
    try {
      // act
      const a = await analyseConnections(conn, services, { slowQuerySeconds: 1 });

      // assess
      expect(a.slow_queries.find((q) => q.user === LEAKY_USER)).toMatchObject({ service: 'order-service', query: 'SELECT SLEEP(60) AS slept' });
    } finally {
      conn.release();
      await admin.query('KILL QUERY ?', [sleeper!.threadId]);
      await running;
    }
  });
});

describe('rds_parameter_change on the local MariaDB (SET GLOBAL)', () => {
  let original: number;
  const read = async () => Number((await admin.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.max_connections AS v'))[0][0]?.v);
  beforeEach(async () => {
    original = await read();
  });
  afterEach(async () => {
    // Shared server: put the global back whatever the test did.
    await admin.query('SET GLOBAL max_connections = ?', [original]);
  });

  it('raises max_connections by current * 1.5 and records before/after', async () => {
    const target = new MysqlServerParameters(admin, `mysql://${HOST}:3306`);

    const result = await rdsParameterChange.run({ parameter: 'max_connections', new_value: 'current * 1.5' }, actionContext({ targets: { rds: target }, policy }));

    const expected = Math.round(original * 1.5);
    expect(await read()).toBe(expected);
    expect(result.before).toMatchObject({ max_connections: original });
    expect(result.after).toMatchObject({ max_connections: expected });
  });

  it('refuses over the policy ceiling and leaves the global as it was', async () => {
    const target = new MysqlServerParameters(admin, `mysql://${HOST}:3306`);

    await expect(rdsParameterChange.run({ parameter: 'max_connections', new_value: 'current * 10' }, actionContext({ targets: { rds: target }, policy }))).rejects.toMatchObject({ name: 'PolicyViolationError' });
    expect(await read()).toBe(original);
  });
});
