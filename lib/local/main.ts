/** `npm start`: the local engine, its targets and the HTTP server, wired together. */
import { mkdirSync } from 'node:fs';
import Redis from 'ioredis';
import * as mysql from 'mysql2/promise';
import type { ActionTargets } from '../actions';
import { parseBreakerConfig, type BreakerConfig } from '../breaker';
import { LocalEngine } from './engine';
import { startServer } from './server';

export interface StartOptions {
  readonly port: number;
  /** Persistent dynalite folder; undefined = in memory. */
  readonly dataDir?: string;
  readonly speedUp: number;
  readonly redisUrl?: string;
  readonly mysqlUrl?: string;
  /** Breaker thresholds as JSON (`--breakers`, e.g. `{"coolDownSeconds":60}`); unset: the defaults. */
  readonly breakers?: string;
  log(line: string): void;
}

export interface RunningAgent {
  readonly engine: LocalEngine;
  readonly url: string;
  stop(): Promise<void>;
}

/** Connects the configured real targets; anything not configured stays absent (steps fail "target not configured"). */
async function connectTargets(o: StartOptions): Promise<{ targets: ActionTargets; close(): Promise<void> }> {
  const targets: Record<string, unknown> = {};
  const closers: (() => Promise<unknown>)[] = [];
  if (o.redisUrl) {
    const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    targets.redis = redis;
    closers.push(() => redis.quit());
  }
  if (o.mysqlUrl) {
    const pool = mysql.createPool({ uri: o.mysqlUrl, connectionLimit: 4 });
    await pool.query('SELECT 1');
    targets.mysql = pool;
    closers.push(() => pool.end());
  }
  return { targets, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

/** `--breakers` → thresholds; a bad value stops the start with the field at fault. */
export function parseBreakersOption(raw: string | undefined): Required<BreakerConfig> {
  let input: unknown = {};
  if (raw) {
    try {
      input = JSON.parse(raw);
    } catch (err) {
      throw new Error(`--breakers: not JSON (${(err as Error).message}); e.g. --breakers '{"coolDownSeconds":600}'`);
    }
  }
  try {
    return parseBreakerConfig(input);
  } catch (err) {
    throw new Error(`--breakers: ${(err as Error).message}`);
  }
}

export async function startLocal(o: StartOptions): Promise<RunningAgent> {
  const breakerConfig = parseBreakersOption(o.breakers);
  if (o.dataDir) mkdirSync(o.dataDir, { recursive: true });
  const { targets, close } = await connectTargets(o);
  const engine = await new LocalEngine({ dataDir: o.dataDir, speedUp: o.speedUp, targets, breakerConfig }).start();
  let server;
  try {
    server = await startServer(engine, { port: o.port });
  } catch (err) {
    await engine.stop();
    await close();
    throw new Error(`cannot listen on 127.0.0.1:${o.port}: ${(err as Error).message} (use --port)`);
  }
  const configured = Object.keys(targets);
  o.log(`sre-agent local engine at ${server.url}  (dashboard: ${server.url}/)`);
  o.log(`  data: ${o.dataDir ?? 'in memory'}; speed-up ×${o.speedUp}; breakers: cool-down ${breakerConfig.coolDownSeconds} s, service limit ${breakerConfig.serviceAttemptLimit} attempts / ${breakerConfig.serviceWindowSeconds} s (--breakers)`);
  o.log(`  playbooks: ${engine.playbooks.map((p) => p.playbook).join(', ')}`);
  o.log(`  targets: ${configured.length ? configured.join(', ') : 'none'} configured; actions on other systems fail with "target not configured" (--redis, --mysql)`);
  const channels = engine.notifier?.configured ?? [];
  o.log(`  notifications: ${channels.length ? channels.join(', ') : 'no channel'} configured; the others are recorded as "not configured" (SRE_AGENT_PAGERDUTY_ROUTING_KEY, SRE_AGENT_SLACK_WEBHOOK_URL, SRE_AGENT_SNS_TOPIC_ARN); on-call from ${process.env.SRE_AGENT_ONCALL_FILE || 'playbooks/oncall.yaml'}`);
  o.log(`  try: npx sre-agent alarm redis-memory-pressure   then   npx sre-agent incidents`);
  return {
    engine,
    url: server.url,
    stop: async () => {
      await server.close();
      await engine.stop();
      await close();
    },
  };
}
