/** rds_query: runs one read-only SQL query on RDS/MySQL and optionally KILLs the threads it lists, under a cap. */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import type { BlacklistHit } from '../policy/types';
import type { Policy } from '../policy/policy';
import { PolicyViolationError } from '../policy/errors';
import { defineAction } from './define';
import { actionHandler } from './handler';
import { ActionError, InvalidParameterError, TargetNotConfiguredError, TransientTargetError } from './errors';
import { ANALYSIS_OUTPUTS, connectionAnalysisOutputs } from './rds/analysis';

const params = z.strictObject({
  /** A single SELECT / SHOW / EXPLAIN statement. */
  query: z.string().min(1),
  /** `KILL {id}` (or `KILL CONNECTION {id}`, `KILL QUERY {id}`), run once per result row. */
  follow_up: z.string().min(1).optional(),
  /** Threads killed per invocation, at most. @default policy.caps.max_kills */
  max_kills: z.number().int().positive().optional(),
  description: z.string().optional(),
});

/** Parameters of rds_query, as written in the playbook. */
export type RdsQueryParams = z.infer<typeof params>;

/** Threads that belong to the server itself (replication, event scheduler, RDS management). */
const SYSTEM_USERS = new Set(['system user', 'event_scheduler', 'rdsadmin']);

/** Network failures worth a retry; "too many connections" is one, since this action runs while they run out. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR',
]);

const FOLLOW_UP = /^KILL\s+(?:(CONNECTION|QUERY)\s+)?\{(\w+)\}\s*;?\s*$/i;

/** Connection count per database user, and the total. */
interface ConnectionCounts {
  readonly total: number;
  readonly by_user: Record<string, number>;
}

/**
 * The user holding more than half of all non-system connections, or null when no user does.
 * @example findLeakingUser({ order_svc: 90, api: 10 }) // 'order_svc'
 */
export function findLeakingUser(byUser: Readonly<Record<string, number>>): string | null {
  const counted = Object.entries(byUser).filter(([user]) => !SYSTEM_USERS.has(user));
  const total = counted.reduce((sum, [, n]) => sum + n, 0);
  return counted.find(([, n]) => n * 2 > total)?.[0] ?? null;
}

function classify(p: RdsQueryParams, policy: Policy): BlacklistHit[] {
  const hits: BlacklistHit[] = [];
  const allowed = policy.document.sql_allow.join(', ');
  for (const [field, sql] of [['query', p.query], ['follow_up', p.follow_up]] as const) {
    if (sql === undefined) continue;
    const verb = policy.forbiddenSqlVerb(sql);
    if (verb) hits.push({ category: 'database_writes', reason: `${field}: SQL verb ${verb} is not allowed (allowed: ${allowed})` });
    // Strict on purpose: a `;` inside a string literal is refused too; a false refusal beats a hidden second statement.
    if (/;\s*\S/.test(sql)) hits.push({ category: 'database_writes', reason: `${field}: multi-statement SQL is not allowed` });
  }
  return hits;
}

function checkCaps(p: RdsQueryParams, policy: Policy): string[] {
  const problems: string[] = [];
  const cap = policy.caps.max_kills;
  if (p.max_kills !== undefined && p.max_kills > cap) problems.push(`max_kills ${p.max_kills} is over the policy cap of ${cap}`);
  if (policy.forbiddenSqlVerb(p.query) === undefined && /^\s*KILL\b/i.test(p.query)) {
    problems.push('query must read (SELECT, SHOW, EXPLAIN); kills go through follow_up, where max_kills and the system-thread guard apply');
  }
  if (p.follow_up !== undefined && !FOLLOW_UP.test(p.follow_up)) {
    problems.push(`follow_up must be "KILL {column}" (or KILL CONNECTION / KILL QUERY), got "${p.follow_up}"`);
  }
  return problems;
}

/** Validates parameters and policy at run time: the action refuses even when invoked directly. */
function guard(raw: unknown, policy: Policy): RdsQueryParams {
  const parsed = params.safeParse(raw);
  if (!parsed.success) throw new InvalidParameterError(`rds_query: invalid parameters: ${z.prettifyError(parsed.error)}`);
  const hit = classify(parsed.data, policy)[0];
  if (hit) throw new PolicyViolationError(`rds_query refused (${hit.category}): ${hit.reason}`, { category: hit.category });
  const capProblems = checkCaps(parsed.data, policy);
  if (capProblems.length > 0) throw new PolicyViolationError(`rds_query refused: ${capProblems.join('; ')}`);
  return parsed.data;
}

function toActionError(err: unknown, doing: string): ActionError {
  const code = (err as { code?: string }).code ?? '';
  const message = `rds_query: ${doing} failed: ${(err as Error).message}`;
  return TRANSIENT_CODES.has(code) ? new TransientTargetError(message, { cause: err }) : new ActionError(message, { cause: err });
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
  const value: unknown = row[column];
  const id = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new InvalidParameterError(`rds_query: follow_up column "${column}" must hold a thread id (integer), got ${JSON.stringify(value)}`);
  }
  return id;
}

/** KILLs up to `limit` of `ids`, skipping our own connection, system threads and threads already gone. */
async function killThreads(conn: PoolConnection, statement: string, ids: number[], limit: number): Promise<number> {
  if (ids.length === 0 || limit === 0) return 0;
  const [[self]] = await conn.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
  const [owners] = await conn.query<RowDataPacket[]>('SELECT id, user FROM information_schema.processlist WHERE id IN (?)', [ids]);
  const userOf = new Map(owners.map((r) => [Number(r.id), String(r.user)]));
  let killed = 0;
  for (const id of ids) {
    if (killed >= limit) break;
    const user = userOf.get(id);
    if (id === Number(self?.id) || user === undefined || SYSTEM_USERS.has(user)) continue;
    try {
      await conn.query(`${statement} ${id}`);
      killed += 1;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_NO_SUCH_THREAD') throw err; // ended on its own meanwhile
    }
  }
  return killed;
}

/**
 * Runs one read-only query (seed scenario 3: idle connections) and, with `follow_up: "KILL {id}"`,
 * kills at most min(max_kills, policy cap) of the listed threads. Publishes connections per user
 * and the user holding most of them (`identified_leaking_service`).
 */
export const action = defineAction<RdsQueryParams>({
  name: 'rds_query',
  description: 'Runs a read-only SQL query on RDS/MySQL and optionally KILLs the listed threads (capped by max_kills).',
  kind: 'remediation',
  mutates: true,
  defaultRisk: 'LOW',
  params,
  outputs: ['killed', 'idle_connections', 'connections_by_user', ...ANALYSIS_OUTPUTS],
  // None: it talks the MySQL protocol to the database endpoint over the network, with database credentials.
  iamActions: [],
  timeoutSeconds: 60,
  classify,
  checkCaps,
  async run(raw, ctx) {
    const p = guard(raw, ctx.policy);
    const pool: Pool | undefined = ctx.targets.mysql;
    if (!pool) throw new TargetNotConfiguredError('rds_query: no MySQL/RDS target configured');
    const cap = ctx.policy.caps.max_kills;
    const limit = Math.min(p.max_kills ?? cap, cap);

    let conn: PoolConnection;
    try {
      conn = await pool.getConnection(); // one connection, so CONNECTION_ID() is the one issuing the KILLs
    } catch (err) {
      throw toActionError(err, 'connecting');
    }
    try {
      const before = await countConnections(conn);
      // Seed scenario 3's analysis, read before any KILL: the leak is visible in what the kills remove.
      const analysis = await connectionAnalysisOutputs(conn, ctx.policy.services);
      const [rows] = await conn.query<RowDataPacket[]>({ sql: p.query, timeout: 30_000 });
      const list = Array.isArray(rows) ? rows : [];
      let killed = 0;
      const follow = p.follow_up?.match(FOLLOW_UP);
      if (follow) {
        const column = follow[2] as string;
        const ids = [...new Set(list.map((row) => threadId(row, column)))];
        killed = await killThreads(conn, follow[1] ? `KILL ${follow[1].toUpperCase()}` : 'KILL', ids, limit);
      }
      const after = await countConnections(conn);
      const summary = follow
        ? `killed ${killed} of ${list.length} idle connections (cap ${limit})`
        : `query returned ${list.length} rows`;
      return {
        summary: `${summary}; ${analysis.summary}`,
        before,
        after,
        outputs: {
          killed,
          idle_connections: list.length,
          connections_by_user: before.by_user,
          ...analysis.outputs,
        },
      };
    } catch (err) {
      throw err instanceof ActionError ? err : toActionError(err, 'query');
    } finally {
      conn.release();
    }
  },
});

/** The Lambda entry point of this action (lib/infra points its function here). */
export const handler = actionHandler(action);
