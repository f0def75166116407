/** Integration tests of rds_query against the real MariaDB at 127.0.0.1:3306 (user root, no password). */
import * as mysql from 'mysql2/promise';
import type { ActionContext, ActionTargets } from '../../lib/actions/define';
import { InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from '../../lib/actions/errors';
import { action } from '../../lib/actions/rds_query';
import { createPolicy, createServiceMap, PolicyViolationError, type Policy } from '../../lib/policy';
import { actionContext } from '../helpers/action-context';
import { loadPolicy } from '../../lib/policy/files';

const HOST = '127.0.0.1';
const IDLE_USER = 'sre_idle_test';
const SCRATCH_DB = `sre_rds_query_${process.pid}`;
/** The seed's query, with `time > 0` instead of 300 so that a test waits one second, not five minutes. */
const IDLE_QUERY = `SELECT id, time, info FROM information_schema.processlist WHERE command = 'Sleep' AND user = '${IDLE_USER}' AND time > 0`;

/**
 * The policy with the kill threshold floor at 0 s (tests cannot wait for 60 s of idleness), and
 * IDLE_USER as the database user of a protected service when `protect` is set.
 * MariaDB 10.11's processlist TIME does not follow a session's `SET timestamp` (checked): a
 * connection ages only in real time.
 */
function testPolicy(options: { maxKills?: number; protect?: boolean } = {}): Policy {
  const base = loadPolicy();
  const services = createServiceMap({
    services: {
      ...Object.fromEntries(Object.values(base.services.services).map((e) => [e.name, { kubernetes: e.kubernetes, namespace: e.namespace, deployment: e.deployment, containers: [...e.containers], database_users: [...e.databaseUsers], consumer_groups: [...e.consumerGroups] }])),
      ...(options.protect ? { 'wallet-service': { kubernetes: true, namespace: 'wallet', containers: [], database_users: [IDLE_USER], consumer_groups: [] } } : {}),
    },
  });
  return createPolicy({ ...base.document, caps: { ...base.caps, min_kill_idle_seconds: 0, ...(options.maxKills ? { max_kills: options.maxKills } : {}) } }, base.file, services);
}

let admin: mysql.Pool;
let agent: mysql.Pool;
let idle: mysql.Connection[] = [];

/**
 * The agent's pool, whose answer to the kill-list query carries one more row than the database
 * returned: a thread that changed between the list and the KILL, or a row the first layer missed.
 * The list's SQL cannot select it any more (a UNION is refused before anything runs), so this is
 * how the KILL step's own re-check of every thread is reached.
 */
function withExtraRow(pool: mysql.Pool, query: string, extra: Record<string, unknown>): mysql.Pool {
  const getConnection = async () => {
    const conn = await pool.getConnection();
    return new Proxy(conn, {
      get(target, prop) {
        if (prop === 'query') {
          return async (arg: unknown, ...rest: unknown[]) => {
            const out = (await (target.query as (...a: unknown[]) => Promise<[unknown[], unknown]>)(arg, ...rest));
            if (typeof arg === 'object' && arg !== null && (arg as { sql?: string }).sql === query) return [[...out[0], extra], out[1]];
            return out;
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return { getConnection } as unknown as mysql.Pool;
}

function context(targets: ActionTargets, policy: Policy = testPolicy()): ActionContext {
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
  // Idle for more than 0 whole seconds: what `time > 0` selects.
  await new Promise((r) => setTimeout(r, 1100));
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
    const policy = testPolicy({ maxKills: 2 });

    const result = await action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}' }, context({ mysql: agent }, policy));

    expect(result.outputs).toMatchObject({ killed: 2, idle_connections: 5 });
    expect(await settle(3)).toBe(3);
  });

  it('refuses a kill list that is not limited to idle connections, and kills nothing', async () => {
    await openIdle(3);
    const query = `SELECT id FROM information_schema.processlist WHERE id = CONNECTION_ID() OR user = '${IDLE_USER}'`;

    const run = action.run({ query, follow_up: 'KILL {id}', max_kills: 2 }, context({ mysql: agent }));

    await expect(run).rejects.toMatchObject({ name: 'PolicyViolationError', rule: 'kill-idle-only', message: expect.stringContaining("command = 'Sleep'") });
    expect(await countIdleUser()).toBe(3);
  });

  it('never kills its own connection, even when the query selects it', async () => {
    await openIdle(3);
    const query = `SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0 AND (id = CONNECTION_ID() OR user = '${IDLE_USER}') ORDER BY id = CONNECTION_ID() DESC`;

    const result = await action.run({ query, follow_up: 'KILL {id}', max_kills: 5 }, context({ mysql: agent }));

    expect(result.outputs).toMatchObject({ killed: 3 });
    expect(await settle(0)).toBe(0);
    await expect(agent.query('SELECT 1')).resolves.toBeDefined();
  });

  it('never kills a thread that stopped being idle between the query and the KILL', async () => {
    await openIdle(2);
    // One of them runs a query now (Command = Query, not Sleep) while the kill list is read.
    // It stays busy until the test ends its statement: a fixed SLEEP(2) could end (and the thread
    // turn idle again) before the KILL on a loaded machine; the Query row is waited for, not slept for.
    const busy = idle[0]!;
    const running = busy.query('SELECT SLEEP(60)').catch(() => undefined);
    const busyRow = async () => (await admin.query<mysql.RowDataPacket[]>('SELECT id FROM information_schema.processlist WHERE id = ? AND command = ?', [busy.threadId, 'Query']))[0][0];
    await settle(1, async () => ((await busyRow()) ? 1 : 0));
    const row = await busyRow();
    const query = `SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0 AND user = '${IDLE_USER}'`;

    const result = await action.run({ query, follow_up: 'KILL {id}' }, context({ mysql: withExtraRow(agent, query, { id: Number(row?.id) }) }));

    expect(row?.id).toBe(busy.threadId);
    expect(result.outputs).toMatchObject({ killed: 1 });
    expect(result.after).toMatchObject({ skipped: { 'no longer idle': 1 } });
    await admin.query('KILL QUERY ?', [busy.threadId]);
    await running;
    expect(await countIdleUser()).toBe(1);
  });

  it("never kills the threads of a protected service's database user", async () => {
    await openIdle(2);

    const result = await action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}' }, context({ mysql: agent }, testPolicy({ protect: true })));

    expect(result.outputs).toMatchObject({ killed: 0, idle_connections: 2 });
    expect(result.after).toMatchObject({ skipped: { 'protected service': 2 } });
    expect(await countIdleUser()).toBe(2);
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

      // The event scheduler's command is "Daemon": the list is made to hold it by id.
      const [[sched]] = await admin.query<mysql.RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE user = 'event_scheduler'");
      // (Only this test's user besides it: other clients of the shared server are never touched.)
      const query = `SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0 AND user = '${IDLE_USER}'`;
      const result = await action.run({ query, follow_up: 'KILL {id}' }, context({ mysql: withExtraRow(agent, query, { id: Number(sched?.id) }) }));

      expect(result.after).toMatchObject({ skipped: expect.objectContaining({ 'system thread': 1 }) });
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
    const query = `SELECT id FROM information_schema.processlist WHERE command = 'Sleep' AND time > 0 AND user = '${IDLE_USER}'`;

    const run = action.run({ query, follow_up: 'KILL {id}' }, context({ mysql: withExtraRow(agent, query, { id: 'x' }) }));

    await expect(run).rejects.toBeInstanceOf(InvalidParameterError);
    expect(await countIdleUser()).toBe(2);
  });

  it('reports the target not configured', async () => {
    const run = action.run({ query: IDLE_QUERY, follow_up: 'KILL {id}' }, context({}));

    await expect(run).rejects.toThrow(new TargetNotConfiguredError('rds_query: no MySQL/RDS target configured'));
  });

  it('reports a refused connection as transient, naming the server', async () => {
    const unreachable = mysql.createPool({ host: HOST, port: 1, user: 'root', connectTimeout: 2000 });
    try {
      const run = action.run({ query: IDLE_QUERY }, context({ mysql: unreachable }));

      await expect(run).rejects.toBeInstanceOf(TransientTargetError);
      await expect(run).rejects.toMatchObject({ target: `${HOST}:1`, message: expect.stringContaining(`connecting to ${HOST}:1 failed`) });
    } finally {
      await unreachable.end();
    }
  });

  it('identifies the service whose database user holds most connections as the leaking service', async () => {
    await openIdle(20);

    const result = await action.run({ query: `${IDLE_QUERY} AND time > 300` }, context({ mysql: agent }, testPolicy({ protect: true })));

    expect(result.outputs).toMatchObject({
      killed: 0,
      idle_connections: 0,
      leaking_user: IDLE_USER,
      identified_leaking_service: 'wallet-service',
      leaking_service: 'wallet-service',
      connections_by_user: expect.objectContaining({ [IDLE_USER]: 20 }),
    });
    expect(result.before).toMatchObject({ by_user: expect.objectContaining({ [IDLE_USER]: 20 }) });
  });
});
