/** rds_query: runs one read-only SQL query on RDS/MySQL and optionally KILLs the idle threads it lists, under a cap. */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import * as z from '../yaml/zod';
import type { Policy } from '../policy/policy';
import { PolicyViolationError } from '../policy/errors';
import { analyseSql, idleFilterOf, KILL_FOLLOW_UP, SQL_ANALYSIS } from '../policy/sql';
import { defineAction } from './define';
import { ActionError, InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from './errors';
import { ANALYSIS_OUTPUTS, connectionAnalysisOutputs, SYSTEM_USERS } from './rds/analysis';

const params = z.strictObject({
  /** A single SELECT / SHOW / EXPLAIN statement. */
  query: z.string().check(z.minLength(1)),
  /** `KILL {id}` (or `KILL CONNECTION {id}`, `KILL QUERY {id}`), run once per result row. */
  follow_up: z.optional(z.string().check(z.minLength(1))),
  /** Threads killed per invocation, at most. @default policy.caps.max_kills */
  max_kills: z.optional(z.int().check(z.positive())),
  description: z.optional(z.string()),
});

/** Parameters of rds_query, as written in the playbook. */
export type RdsQueryParams = z.infer<typeof params>;

/** Network failures worth a retry; "too many connections" is one, since this action runs while they run out. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR',
]);

/** Connection count per database user, and the total. */
interface ConnectionCounts {
  readonly total: number;
  readonly by_user: Record<string, number>;
}

/** Database users whose threads are never killed: the protected services' (wallet, settlement, matching engine). */
export function protectedDatabaseUsers(policy: Policy): Set<string> {
  const users = new Set<string>();
  for (const s of Object.values(policy.services.services)) if (policy.isProtected(s.name)) for (const u of s.databaseUsers) users.add(u.toLowerCase());
  return users;
}

function checkCaps(p: RdsQueryParams, policy: Policy): string[] {
  const problems: string[] = [];
  const cap = policy.caps.max_kills;
  if (p.max_kills !== undefined && p.max_kills > cap) problems.push(`max_kills ${p.max_kills} is over the policy cap of ${cap}`);
  return problems;
}

/** Refuses at run time what the policy rules refuse, even when the action is called directly; returns the idle threshold. */
function guard(raw: unknown, policy: Policy, step: string): { p: RdsQueryParams; idleOver?: number } {
  const parsed = params.safeParse(raw);
  if (!parsed.success) throw new InvalidParameterError(`rds_query: invalid parameters: ${z.prettifyError(parsed.error)}`);
  const p = parsed.data;
  const sql = analyseSql(p.query);
  if (sql.problems.length > 0) throw new PolicyViolationError(`rds_query refused (database_writes): query: ${sql.problems.join('; ')}`, { category: 'database_writes', rule: 'sql-read-only', step });
  const caps = checkCaps(p, policy);
  if (caps.length > 0) throw new PolicyViolationError(`rds_query refused: ${caps.join('; ')}`, { rule: 'parameter-caps', step });
  if (p.follow_up === undefined) return { p };
  if (!KILL_FOLLOW_UP.test(p.follow_up)) throw new PolicyViolationError(`rds_query refused (database_writes): follow_up must be "KILL {column}", got "${p.follow_up}"`, { category: 'database_writes', rule: 'sql-read-only', step });
  const filter = idleFilterOf(p.query, KILL_FOLLOW_UP.exec(p.follow_up)?.[2]);
  if ('problem' in filter) throw new PolicyViolationError(`rds_query refused: the kill list cannot be limited to idle connections: ${filter.problem}`, { category: 'database_writes', rule: 'kill-idle-only', step });
  if (filter.idleOverSeconds < policy.caps.min_kill_idle_seconds) {
    throw new PolicyViolationError(`rds_query refused: kills connections idle for more than ${filter.idleOverSeconds} s, under the policy's ${policy.caps.min_kill_idle_seconds} s`, { rule: 'kill-idle-only', step });
  }
  return { p, idleOver: filter.idleOverSeconds };
}

/** `host:port` of the pool's server, as errors name it (mysql2 keeps the connection options on the core pool). */
function poolHost(pool: Pool): string {
  const c = (pool as unknown as { pool?: { config?: { connectionConfig?: { host?: string; port?: number } } } }).pool?.config?.connectionConfig;
  return c?.host ? `${c.host}:${c.port ?? 3306}` : 'mysql';
}

function toActionError(err: unknown, doing: string, target: string): ActionError {
  const code = (err as { code?: string }).code ?? '';
  const message = `rds_query: ${doing} ${target} failed: ${(err as Error).message}`;
  return TRANSIENT_CODES.has(code) ? new TransientTargetError(message, { target, cause: err }) : new ActionError(message, { target, cause: err });
}

async function countConnections(conn: PoolConnection): Promise<ConnectionCounts> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT user, COUNT(*) AS connections FROM information_schema.processlist WHERE id <> CONNECTION_ID() GROUP BY user',
  );
  const byUser = Object.fromEntries(rows.map((r) => [String(r.user), Number(r.connections)]));
  return { total: Object.values(byUser).reduce((a, b) => a + b, 0), by_user: byUser };
}

/** Thread id from a result row; anything but a positive integer is refused before any KILL runs. */
function threadId(row: RowDataPacket, column: string): number {
  const key = Object.keys(row).find((k) => k.toLowerCase() === column.toLowerCase()) ?? column;
  const value: unknown = row[key];
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new InvalidParameterError(`rds_query: follow_up column "${column}" must hold a thread id (integer), got ${JSON.stringify(value)}`);
  }
  return id;
}

/** What the KILL loop skipped and why, for the timeline. */
interface KillReport {
  killed: number;
  skipped: Record<string, number>;
}

/**
 * KILLs up to `limit` of `ids`. Each thread is looked at again just before: only a thread still
 * idle (`Command = 'Sleep'`) for more than `idleOver` seconds is killed, and never our own
 * connection, a system or replication thread, or a thread of a protected service's user.
 */
async function killThreads(conn: PoolConnection, statement: string, ids: number[], limit: number, idleOver: number, protectedUsers: ReadonlySet<string>): Promise<KillReport> {
  const report: KillReport = { killed: 0, skipped: {} };
  const skip = (why: string) => (report.skipped[why] = (report.skipped[why] ?? 0) + 1);
  if (ids.length === 0 || limit === 0) return report;
  const [[self]] = await conn.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
  const [rows] = await conn.query<RowDataPacket[]>('SELECT id, user, command, time FROM information_schema.processlist WHERE id IN (?)', [ids]);
  const now = new Map(rows.map((r) => [Number(r.id), { user: String(r.user), command: String(r.command), time: Number(r.time) }]));
  for (const id of ids) {
    if (report.killed >= limit) {
      skip('over max_kills');
      continue;
    }
    const t = now.get(id);
    if (id === Number(self?.id)) skip('own connection');
    else if (!t) skip('already gone');
    else if (SYSTEM_USERS.has(t.user.toLowerCase())) skip('system thread');
    else if (protectedUsers.has(t.user.toLowerCase())) skip('protected service');
    else if (t.command !== 'Sleep') skip('no longer idle');
    else if (!(t.time > idleOver)) skip('not idle long enough');
    else {
      try {
        await conn.query(`${statement} ${id}`);
        report.killed += 1;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ER_NO_SUCH_THREAD') throw err; // ended on its own meanwhile
        skip('already gone');
      }
    }
  }
  return report;
}

/**
 * Runs one read-only query (seed scenario 3: idle connections) and, with `follow_up: "KILL {id}"`,
 * kills at most min(max_kills, policy cap) of the listed threads that are still idle. Publishes
 * connections per user and the service holding most of them (`identified_leaking_service`,
 * through the service map's database users; null when that user belongs to no known service).
 */
export const action = defineAction<RdsQueryParams>({
  name: 'rds_query',
  description: 'Runs a read-only SQL query on RDS/MySQL and optionally KILLs the idle threads it lists (capped by max_kills).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params,
  roles: { sql: ['query'], killFollowUp: { param: 'follow_up', query: 'query' }, sqlAnalysis: SQL_ANALYSIS },
  outputs: ['killed', 'idle_connections', 'connections_by_user', ...ANALYSIS_OUTPUTS],
  // None: it talks the MySQL protocol to the database endpoint over the network, with database credentials.
  uses: ['mysql'],
  iamActions: [],
  timeoutSeconds: 60,
  checkCaps,
  async run(raw, ctx) {
    const { p, idleOver } = guard(raw, ctx.policy, ctx.step);
    const pool: Pool | undefined = ctx.targets.mysql;
    if (!pool) throw new TargetNotConfiguredError('rds_query: no MySQL/RDS target configured');
    const cap = ctx.policy.caps.max_kills;
    const limit = Math.min(p.max_kills ?? cap, cap);

    let conn: PoolConnection;
    try {
      conn = await pool.getConnection(); // one connection, so CONNECTION_ID() is the one issuing the KILLs
    } catch (err) {
      throw toActionError(err, 'connecting to', poolHost(pool));
    }
    try {
      const before = await countConnections(conn);
      // Seed scenario 3's analysis, read before any KILL: the leak is visible in what the kills remove.
      const analysis = await connectionAnalysisOutputs(conn, ctx.policy.services);
      const [rows] = await conn.query<RowDataPacket[]>({ sql: p.query, timeout: 30_000 });
      const list = Array.isArray(rows) ? rows : [];
      let report: KillReport = { killed: 0, skipped: {} };
      const follow = p.follow_up ? KILL_FOLLOW_UP.exec(p.follow_up) : null;
      if (follow && idleOver !== undefined) {
        const column = follow[2] as string;
        const ids = [...new Set(list.map((row) => threadId(row, column)))];
        report = await killThreads(conn, follow[1] ? `KILL ${follow[1].toUpperCase()}` : 'KILL', ids, limit, idleOver, protectedDatabaseUsers(ctx.policy));
      }
      const after = await countConnections(conn);
      const skipped = Object.entries(report.skipped).map(([why, n]) => `${n} ${why}`).join(', ');
      const summary = follow
        ? `killed ${report.killed} of ${list.length} idle connections (cap ${limit})${skipped ? `; skipped ${skipped}` : ''}`
        : `query returned ${list.length} rows`;
      return {
        summary: `${summary}; ${analysis.summary}`,
        before,
        after: { ...after, killed: report.killed, skipped: report.skipped },
        outputs: {
          killed: report.killed,
          idle_connections: list.length,
          connections_by_user: before.by_user,
          ...analysis.outputs,
        },
      };
    } catch (err) {
      throw err instanceof ActionError || err instanceof PolicyViolationError ? err : toActionError(err, 'query on', poolHost(pool));
    } finally {
      conn.release();
    }
  },
});
