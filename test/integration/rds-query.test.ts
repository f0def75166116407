/** Integration tests of rds_query against the real MariaDB at 127.0.0.1:3306 (user root, no password). */
import * as mysql from 'mysql2/promise';
import type { ActionContext, ActionTargets } from '../../lib/actions/define';
import { InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from '../../lib/actions/errors';
import { action } from '../../lib/actions/rds_query';
import { createPolicy, loadPolicy, PolicyViolationError, type Policy } from '../../lib/policy';
import { actionContext } from '../helpers/action-context';

const HOST = '127.0.0.1';
const IDLE_USER = 'sre_idle_test';
const SCRATCH_DB = `sre_rds_query_${process.pid}`;
const IDLE_QUERY = `SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND user = '${IDLE_USER}' AND time >= 0`;

let admin: mysql.Pool;
let agent: mysql.Pool;
let idle: mysql.Connection[] = [];

function context(targets: ActionTargets, policy: Policy = loadPolicy()): ActionContext {
  return actionContext({ incidentId: 'inc-test', step: 'kill_idle_connections', targets, policy, now: () => new Date() });
}

async function countIdleUser(): Promise<number> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?', [IDLE_USER]);
  return Number(rows[0]?.n);
}

/** Polls until `count()` returns `expected` (KILL and disconnects take effect asynchronously). */
async function settle(expected: number, count: () => Promise<number> = countIdleUser): Promise<number> {
  let n = await count();
  for (let i = 0; i < 50 && n !== expected; i += 1) {
    await new Promise((r) => setTimeout(r, 50));
    n = await count();
  }
  return n;
}

async function openIdle(n: number): Promise<void> {
  const opened = await Promise.all(Array.from({ length: n }, () => mysql.createConnection({ host: HOST, user: IDLE_USER })));
  for (const c of opened) c.on('error', () => undefined); // killed by the test on purpose
  idle.push(...opened);
  await settle(idle.length);
}

/** Closes the test's idle connections and kills any straggler left by an earlier, aborted run. */
async function closeIdle(): Promise<void> {
  for (const c of idle) c.destroy();
  idle = [];
  if ((await settle(0)) === 0) return;
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT id FROM information_schema.processlist WHERE user = ?', [IDLE_USER]);
  for (const r of rows) await admin.query('KILL ?', [r.id]).catch(() => undefined);
  await settle(0);
}

beforeAll(async () => {
  admin = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 2 });
  agent = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 2 });
  for (const host of ['localhost', '%']) await admin.query(`CREATE USER IF NOT EXISTS '${IDLE_USER}'@'${host}'`);
  await closeIdle();
});

afterEach(closeIdle);

afterAll(async () => {
  for (const host of ['localhost', '%']) await admin.query(`DROP USER IF EXISTS '${IDLE_USER}'@'${host}'`);
  await agent.end();
  await admin.end();
});

describe('rds_query kill_idle_connections', () => {
  it('never kills more than max_kills connections', async () => {
    // prepare
    await openIdle(8);
    // act
    const result = await action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}', max_kills: 3 }, context({ mysql: agent }));
    // assess
    expect(result.outputs).toMatchObject({ killed: 3, idle_connections: 8 });
    expect(result.summary).toMatch(/^killed 3 of 8 idle connections \(cap 3\)/);
    expect(await settle(5)).toBe(5);
  });

  it('kills at most the policy cap when max_kills is not set', async () => {
    await openIdle(5);
    const policy = createPolicy({ ...loadPolicy().document, caps: { ...loadPolicy().caps, max_kills: 2 } });

    const result = await action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}' }, context({ mysql: agent }, policy));

    expect(result.outputs).toMatchObject({ killed: 2, idle_connections: 5 });
    expect(await settle(3)).toBe(3);
  });

  it('never kills its own connection', async () => {
    await openIdle(3);
    const query = `SELECT id FROM information_schema.processlist WHERE id = CONNECTION_ID() OR user = '${IDLE_USER}' ORDER BY id = CONNECTION_ID() DESC`;

    const result = await action.run({ query, follow_up: 'KILL {id}', max_kills: 2 }, context({ mysql: agent }));

    expect(result.outputs).toMatchObject({ killed: 2, idle_connections: 4 });
    expect(await settle(1)).toBe(1);
    await expect(agent.query('SELECT 1')).resolves.toBeDefined();
  });

  it('never kills system threads', async () => {
    const [[setting]] = await admin.query<mysql.RowDataPacket[]>("SELECT @@GLOBAL.event_scheduler AS v");
    await admin.query('SET GLOBAL event_scheduler = ON');
    const countScheduler = async () => {
      const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = 'event_scheduler'");
      return Number(rows[0]?.n);
    };
    try {
      expect(await settle(1, countScheduler)).toBe(1);

      const result = await action.run(
        { query: "SELECT id FROM information_schema.processlist WHERE user = 'event_scheduler'", follow_up: 'KILL {id}' },
        context({ mysql: agent }),
      );

      expect(result.outputs).toMatchObject({ killed: 0, idle_connections: 1 });
      expect(await countScheduler()).toBe(1);
    } finally {
      await admin.query(`SET GLOBAL event_scheduler = ${setting?.v === 'ON' ? 'ON' : 'OFF'}`);
    }
  });

  describe('refusing database writes', () => {
    // multipleStatements on: the action's own check is the only thing between a second statement and the table.
    let permissive: mysql.Pool;
    beforeAll(async () => {
      permissive = mysql.createPool({ host: HOST, user: 'root', connectionLimit: 1, multipleStatements: true });
      await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCRATCH_DB}`);
      await admin.query(`CREATE TABLE ${SCRATCH_DB}.balances (id INT PRIMARY KEY, v INT)`);
      await admin.query(`INSERT INTO ${SCRATCH_DB}.balances VALUES (1, 100)`);
    });
    afterAll(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${SCRATCH_DB}`);
      await permissive.end();
    });

    it.each([
      ['UPDATE', { query: `UPDATE ${SCRATCH_DB}.balances SET v = 0` }],
      ['DELETE', { query: `DELETE FROM ${SCRATCH_DB}.balances` }],
      ['DROP', { query: `DROP TABLE ${SCRATCH_DB}.balances` }],
      ['a multi-statement query', { query: `SELECT 1; DELETE FROM ${SCRATCH_DB}.balances` }],
      ['a writing follow_up', { query: `SELECT id FROM ${SCRATCH_DB}.balances`, follow_up: `DELETE FROM ${SCRATCH_DB}.balances WHERE id = {id}` }],
    ])('refuses %s with category database_writes and runs nothing', async (_label, params) => {
      const run = action.run(params, context({ mysql: permissive }));

      await expect(run).rejects.toBeInstanceOf(PolicyViolationError);
      await expect(run).rejects.toMatchObject({ category: 'database_writes' });
      const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, v FROM ${SCRATCH_DB}.balances`);
      expect(rows).toEqual([{ id: 1, v: 100 }]);
    });
  });

  it('refuses max_kills above the policy cap and kills nothing', async () => {
    await openIdle(2);

    const run = action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}', max_kills: 51 }, context({ mysql: agent }));

    await expect(run).rejects.toThrow(new PolicyViolationError('rds_query refused: max_kills 51 is over the policy cap of 50'));
    expect(await countIdleUser()).toBe(2);
  });

  it('refuses a row whose id is not an integer before killing anything', async () => {
    await openIdle(2);
    const query = `SELECT id FROM information_schema.processlist WHERE user = '${IDLE_USER}' UNION ALL SELECT 'x'`;

    const run = action.run({ query, follow_up: 'KILL {id}' }, context({ mysql: agent }));

    await expect(run).rejects.toBeInstanceOf(InvalidParameterError);
    expect(await countIdleUser()).toBe(2);
  });

  it('reports the target not configured', async () => {
    const run = action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}' }, context({}));

    await expect(run).rejects.toThrow(new TargetNotConfiguredError('rds_query: no MySQL/RDS target configured'));
  });

  it('reports a refused connection as transient', async () => {
    const unreachable = mysql.createPool({ host: HOST, port: 1, user: 'root', connectTimeout: 2000 });
    try {
      const run = action.run({ query: IDLE_QUERY }, context({ mysql: unreachable }));

      await expect(run).rejects.toBeInstanceOf(TransientTargetError);
    } finally {
      await unreachable.end();
    }
  });

  it('reports a database user the service map does not know as leaking_user, not as a service', async () => {
    await openIdle(20);

    const result = await action.run({ query: `${IDLE_QUERY} AND time > 300` }, context({ mysql: agent }));

    expect(result.outputs).toMatchObject({
      killed: 0,
      idle_connections: 0,
      identified_leaking_service: null,
      leaking_service: null,
      leaking_user: IDLE_USER,
      connections_by_user: expect.objectContaining({ [IDLE_USER]: 20 }),
    });
    expect(result.before).toMatchObject({ by_user: expect.objectContaining({ [IDLE_USER]: 20 }) });
  });
});
