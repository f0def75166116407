/**
 * The drill's database: a private MariaDB server (the machine's own mariadbd binary, an empty data
 * folder of its own, 127.0.0.1 on a free port) whose clock runs at the drill's speed under
 * libfaketime, so connections that sit idle for simulated minutes show those minutes in
 * information_schema.processlist.TIME, and the seed's own query (`command = 'Sleep' AND
 * time > 300`) finds them unchanged.
 *
 * Why not the shared server with `SET timestamp`: on MariaDB 10.11 a session's `SET timestamp`
 * changes NOW() but not the processlist's TIME of its idle thread (checked: an idle connection
 * that set its timestamp 400 s back shows TIME 1 after a second). And a private server keeps the
 * drill's idle connections, KILLs and `SET GLOBAL max_connections` away from everyone else on the
 * shared one. It runs with --skip-grant-tables (any user name logs in, as the services' database
 * users do in the seed's exchange), so no mysql.* tables need installing: it starts in seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';

/** Where Debian's libfaketime package puts the preload library (multi-threaded variant: mariadbd is threaded). */
export const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1'];
const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'];

/** The drill database cannot start: names what is missing and how to get it. */
export class DrillDatabaseError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DrillDatabaseError';
  }
}

export interface DrillDatabaseOptions {
  /** How much faster than real time the server's clock runs (the drill's speed). */
  readonly speed: number;
  /** The server's max_connections (the simulated RDS instance's). @default 100 */
  readonly maxConnections?: number;
  /** Database the exchange's services use. @default 'exchange' */
  readonly database?: string;
  /** @default 30000 */
  readonly startTimeoutMs?: number;
}

export interface DrillDatabase {
  /** `mysql://root@127.0.0.1:<port>/<database>`: the agent's --mysql target. */
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly maxConnections: number;
  /** A connection as one of the exchange's database users. */
  connect(user: string): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

function firstExisting(paths: readonly string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the private server. @throws DrillDatabaseError when mariadbd or libfaketime is missing, or the server does not come up */
export async function startDrillDatabase(o: DrillDatabaseOptions): Promise<DrillDatabase> {
  const bin = firstExisting(MARIADBD);
  if (!bin) throw new DrillDatabaseError(`no mariadbd binary (looked for ${MARIADBD.join(', ')}): apt-get install mariadb-server`);
  const faketime = firstExisting(LIBFAKETIME);
  if (!faketime) throw new DrillDatabaseError(`no libfaketime (looked for ${LIBFAKETIME.join(', ')}): apt-get install faketime (the drill database's clock runs at the drill's speed under it)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-drill-db-'));
  const port = await freePort();
  const maxConnections = o.maxConnections ?? 100;
  const database = o.database ?? 'exchange';
  const start = new Date().toISOString().replace('T', ' ').slice(0, 19);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    [
      '--no-defaults',
      `--datadir=${path.join(dir, 'data')}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--skip-grant-tables',
      '--skip-log-bin',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=16M',
      '--innodb-log-file-size=8M',
      `--max-connections=${maxConnections}`,
      // Network timeouts count on the server's fast clock: 10 s of connect_timeout would be 17 ms
      // at 600×, shorter than a handshake on a busy machine. They are not what the drill is about.
      '--connect-timeout=31536000',
      '--net-read-timeout=31536000',
      '--net-write-timeout=31536000',
    ],
    { env: { ...process.env, LD_PRELOAD: faketime, FAKETIME: `@${start} x${o.speed}` }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.startTimeoutMs ?? 30000);
  for (;;) {
    if (exited) {
      await stop();
      throw new DrillDatabaseError(`the drill's MariaDB (${bin} under ${faketime}) exited at start: ${output.trim().split('\n').slice(-5).join(' | ')}`);
    }
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
      await c.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
      await c.end();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new DrillDatabaseError(`the drill's MariaDB on 127.0.0.1:${port} did not accept connections within ${o.startTimeoutMs ?? 30000} ms: ${(err as Error).message}; log: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url: `mysql://root@127.0.0.1:${port}/${database}`,
    port,
    database,
    maxConnections,
    connect: (user) => mysql.createConnection({ host: '127.0.0.1', port, user, database }),
    stop,
  };
}
