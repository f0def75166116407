/**
 * The connection-exhaustion analysis of seed scenario 3, read-only, on one MySQL/MariaDB
 * connection: connections per user and host mapped to services (the service map's database
 * users), the service that holds most of them, long transactions (information_schema.innodb_trx),
 * slow queries, the idle-connection settings, and max_connections with its usage (InnoDB refreshes
 * its innodb_trx view at most every 0.1 s, so a transaction a few ms old may be missing). rds_query runs
 * it through {@link connectionAnalysisOutputs} and publishes the result as step outputs.
 */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { ServiceMap } from '../../policy/services';

/** Threads that belong to the server itself (replication, event scheduler, RDS management). */
export const SYSTEM_USERS: ReadonlySet<string> = new Set(['system user', 'event_scheduler', 'rdsadmin', 'rdsrepladmin', 'repl', 'replication']);

/** What counts as long or slow, and how much of each is listed. */
export interface AnalysisOptions {
  /** A transaction open this long is listed. @default 60 */
  readonly longTransactionSeconds?: number;
  /** A statement running this long is listed. @default 10 */
  readonly slowQuerySeconds?: number;
  /** Rows listed per kind, longest first. @default 10 */
  readonly limit?: number;
}

export interface LongTransaction {
  readonly thread: number;
  readonly user: string | null;
  readonly service: string | null;
  readonly seconds: number;
  readonly state: string;
  /** The statement it runs now (first 200 characters), or null when idle inside the transaction. */
  readonly query: string | null;
}

export interface SlowQuery {
  readonly thread: number;
  readonly user: string;
  readonly service: string | null;
  readonly seconds: number;
  readonly query: string;
}

export interface ConnectionAnalysis {
  /** Client connections (Threads_connected), this one included. */
  readonly connections: number;
  /** max_connections in force. */
  readonly max: number;
  /** connections / max. */
  readonly usage: number;
  readonly max_used_connections: number | null;
  readonly by_user: Record<string, number>;
  /** Client host without the port. */
  readonly by_host: Record<string, number>;
  /** Per service of the service map; users the map does not know are under `user:<name>`. */
  readonly by_service: Record<string, number>;
  /** The service holding more than half of the non-system connections, or null. */
  readonly leaking_service: string | null;
  /** The database user holding more than half of them (known to the map or not), or null. */
  readonly leaking_user: string | null;
  readonly sleeping: number;
  readonly long_transactions: LongTransaction[];
  readonly slow_queries: SlowQuery[];
  /** Idle connections live until wait_timeout; max_user_connections 0 = no per-user limit. */
  readonly pool: { readonly wait_timeout: number | null; readonly max_user_connections: number | null };
}

/** The key over half of the total, or null. */
function majority(counts: Readonly<Record<string, number>>): string | null {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return Object.entries(counts).find(([, n]) => n * 2 > total)?.[0] ?? null;
}

function num(v: unknown): number | null {
  const n = Number(v);
  return v === null || v === undefined || !Number.isFinite(n) ? null : n;
}

/**
 * Reads the analysis. Every query is a read of information_schema / server variables.
 * @example const a = await analyseConnections(conn, policy.services); a.leaking_service // 'order-service'
 */
export async function analyseConnections(conn: PoolConnection, services: ServiceMap, options: AnalysisOptions = {}): Promise<ConnectionAnalysis> {
  const longSeconds = options.longTransactionSeconds ?? 60;
  const slowSeconds = options.slowQuerySeconds ?? 10;
  const limit = options.limit ?? 10;
  const serviceOf = (user: string | null) => (user === null ? null : (services.serviceOfDatabaseUser(user) ?? null));

  const [threads] = await conn.query<RowDataPacket[]>('SELECT id, user, host, command, time, info FROM information_schema.processlist WHERE id <> CONNECTION_ID()');
  const by_user: Record<string, number> = {};
  const by_host: Record<string, number> = {};
  const by_service: Record<string, number> = {};
  const slow: SlowQuery[] = [];
  let sleeping = 0;
  for (const t of threads) {
    const user = String(t.user);
    if (SYSTEM_USERS.has(user)) continue;
    by_user[user] = (by_user[user] ?? 0) + 1;
    const host = String(t.host ?? '').replace(/:\d+$/, '') || '(none)';
    by_host[host] = (by_host[host] ?? 0) + 1;
    const service = serviceOf(user);
    const key = service ?? `user:${user}`;
    by_service[key] = (by_service[key] ?? 0) + 1;
    if (t.command === 'Sleep') sleeping += 1;
    if (t.command === 'Query' && Number(t.time) >= slowSeconds && t.info) {
      slow.push({ thread: Number(t.id), user, service, seconds: Number(t.time), query: String(t.info).slice(0, 200) });
    }
  }

  const [trx] = await conn.query<RowDataPacket[]>(
    `SELECT t.trx_mysql_thread_id AS thread, p.user AS user, t.trx_state AS state, t.trx_query AS query,
            TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS seconds
       FROM information_schema.innodb_trx t LEFT JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
      WHERE TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) >= ? AND t.trx_mysql_thread_id <> CONNECTION_ID()
      ORDER BY seconds DESC LIMIT ?`,
    [longSeconds, limit],
  );
  const [[vars]] = await conn.query<RowDataPacket[]>('SELECT @@GLOBAL.max_connections AS max, @@GLOBAL.wait_timeout AS wait_timeout, @@GLOBAL.max_user_connections AS max_user_connections');
  const [status] = await conn.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN ('Threads_connected', 'Max_used_connections')");
  const statusOf = (name: string) => num(status.find((r) => r.Variable_name === name)?.Value);

  const max = num(vars?.max) ?? 0;
  const connections = statusOf('Threads_connected') ?? threads.length + 1;
  const mappedServices = Object.fromEntries(Object.entries(by_service).filter(([k]) => !k.startsWith('user:')));
  const leadingService = majority(by_service);
  return {
    connections,
    max,
    usage: max > 0 ? connections / max : 0,
    max_used_connections: statusOf('Max_used_connections'),
    by_user,
    by_host,
    by_service,
    // Only a service of the map can be restarted; a user the map does not know is reported as leaking_user.
    leaking_service: leadingService !== null && leadingService in mappedServices ? leadingService : null,
    leaking_user: majority(by_user),
    sleeping,
    long_transactions: trx.map((r) => ({
      thread: Number(r.thread),
      user: r.user === null || r.user === undefined ? null : String(r.user),
      service: serviceOf(r.user === null || r.user === undefined ? null : String(r.user)),
      seconds: Number(r.seconds),
      state: String(r.state),
      query: r.query ? String(r.query).slice(0, 200) : null,
    })),
    slow_queries: slow.sort((a, b) => b.seconds - a.seconds).slice(0, limit),
    pool: { wait_timeout: num(vars?.wait_timeout), max_user_connections: num(vars?.max_user_connections) },
  };
}

/** The step outputs {@link connectionAnalysisOutputs} publishes (listed in rds_query's definition). */
export const ANALYSIS_OUTPUTS = [
  'identified_leaking_service',
  'leaking_service',
  'leaking_user',
  'connections',
  'max',
  'connection_usage',
  'connections_by_service',
  'connections_by_host',
  'pool_configuration',
  'long_transactions',
  'slow_queries',
] as const;

/**
 * rds_query's hook: runs the analysis and returns its step outputs and one line for the summary.
 * `identified_leaking_service` and `leaking_service` are service names of the service map (the
 * rolling restart's deployment comes from them), never database users.
 */
export async function connectionAnalysisOutputs(conn: PoolConnection, services: ServiceMap, options?: AnalysisOptions): Promise<{ analysis: ConnectionAnalysis; outputs: Record<(typeof ANALYSIS_OUTPUTS)[number], unknown>; summary: string }> {
  const a = await analyseConnections(conn, services, options);
  const parts = [`${a.connections}/${a.max} connections (${(a.usage * 100).toFixed(0)}%)`];
  if (a.leaking_service) parts.push(`${a.leaking_service} holds most of them`);
  else if (a.leaking_user) parts.push(`database user ${a.leaking_user} holds most of them (not in the service map)`);
  if (a.long_transactions.length) parts.push(`${a.long_transactions.length} long transaction(s), longest ${a.long_transactions[0]?.seconds} s`);
  if (a.slow_queries.length) parts.push(`${a.slow_queries.length} slow quer${a.slow_queries.length === 1 ? 'y' : 'ies'}`);
  return {
    analysis: a,
    summary: parts.join('; '),
    outputs: {
      identified_leaking_service: a.leaking_service,
      leaking_service: a.leaking_service,
      leaking_user: a.leaking_user,
      connections: a.connections,
      max: a.max,
      connection_usage: a.usage,
      connections_by_service: a.by_service,
      connections_by_host: a.by_host,
      pool_configuration: a.pool,
      long_transactions: a.long_transactions,
      slow_queries: a.slow_queries,
    },
  };
}
