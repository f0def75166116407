/**
 * A real Redis Cluster of three masters on free local ports, made from the redis-server and
 * redis-cli on this machine (the ones .ci/run installs), with CONFIG disabled as ElastiCache does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface LocalRedisCluster {
  /** The ports of the masters; the first serves as the configuration endpoint. */
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Three ports whose cluster bus ports (port + 10000) are free too. */
async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < n && attempt < 200; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (!ports.includes(port) && (await portFree(port)) && (await portFree(port + 10000))) ports.push(port);
  }
  if (ports.length < n) throw new Error(`found only ${ports.length} of ${n} free port pairs for a Redis cluster`);
  return ports;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cli = (port: number, ...args: string[]) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });

/** Starts three cluster-enabled servers and joins them (16384 slots split three ways, no replicas). */
export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-redis-cluster-'));
  const ports = await freePorts(3);
  const servers: ChildProcess[] = ports.map((port) =>
    spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no',
      '--maxmemory', '64mb', '--rename-command', 'CONFIG', '""',
    ], { stdio: 'ignore' }),
  );
  const stop = async () => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => (s.exitCode !== null || s.signalCode !== null ? undefined : new Promise((r) => s.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => ports.every((p) => cli(p, 'PING').stdout.trim() === 'PONG'), 'the cluster nodes to answer PING');
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitFor(() => ports.every((p) => /cluster_state:ok/.test(cli(p, 'CLUSTER', 'INFO').stdout)), 'cluster_state:ok on every node');
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, stop };
}
