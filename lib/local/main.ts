/** `npm start`: the local engine, its targets and the HTTP server, wired together. */
import { connectRedis } from '../actions/redis/nodes';
import * as mysql from 'mysql2/promise';
import type { ActionTargets } from '../actions';
import type { KubeOps } from '../actions/ports';
import { mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CertificateSources } from '../actions/certificates/sources';
import { FileConfigStore } from '../actions/config/file-config';
import { LocalReplicationGroups } from '../actions/elasticache/local-replication-groups';
import { FetchHttp } from '../actions/http/fetch-ops';
import { KafkajsConsumerGroups, kafkaConfig } from '../actions/kafka/consumer-groups';
import { MysqlServerParameters } from '../actions/rds/mysql-parameters';
import { TicketDesk } from '../actions/tickets/desk';
import { parseBreakerConfig, type BreakerConfig } from '../breaker';
import { startSchedules } from './schedules';
import { LocalEngine, type LocalEngineOptions } from './engine';
import { Outbox } from './outbox';
import { localApprovalLinks, startServer } from './server';
import { dataDirTokenFile, makePrivate, newApiToken, runtimeTokenFile, writeApiToken } from './api-token';
import { UsageError } from './errors';
import { loadPolicy } from '../policy/files';

export interface StartOptions {
  readonly port: number;
  /** Persistent dynalite folder; undefined = in memory. */
  readonly dataDir?: string;
  readonly speedUp: number;
  readonly redisUrl?: string;
  /** `redisUrl` is a cluster's endpoint: the Redis actions act on every master (`--redis-cluster`). @default false */
  readonly redisCluster?: boolean;
  readonly mysqlUrl?: string;
  /** Breaker thresholds as JSON (`--breakers`, e.g. `{"coolDownSeconds":60}`); unset: the defaults. */
  readonly breakers?: string;
  /** Kafka bootstrap brokers (`--kafka host:port,...`) and the group the playbooks watch (`--kafka-group`). */
  readonly kafkaBrokers?: string;
  readonly kafkaGroup?: string;
  /** External domains check_certificates handshakes with (`--tls-domains a.example:443,b.example`). */
  readonly tlsDomains?: string;
  /** api_call may call admin endpoints (`--admin-http`). @default false */
  readonly adminHttp?: boolean;
  /**
   * The cluster of the Kubernetes actions: a kubeconfig file (`--kubeconfig`, any cluster: kind,
   * minikube, a staging EKS), or `false` for none (their steps fail "target not configured").
   * @default $KUBECONFIG, else the Kubernetes API sandbox (the seed's exchange) in this process
   */
  readonly kube?: string | false;
  /** Context of the kubeconfig (`--kube-context`). @default its current-context */
  readonly kubeContext?: string;
  /**
   * Keep what unconfigured channels would send in the local outbox (`--no-outbox`: record them
   * "not configured", as the stack does). @default true
   */
  readonly outbox?: boolean;
  /**
   * Run every handler under its function's role of the synthesized stack (`--iam-check`): AWS calls
   * a role does not allow fail as AccessDeniedException (lib/local/iam). A path is a synthesized
   * template (`cdk.out/SreAgent.template.json`); true synthesizes the stack in process.
   * @default false
   */
  readonly iamCheck?: boolean | string;
  /**
   * Targets given as they are, over the configured ones (drills: the drill world's stand-ins,
   * such as its Kafka consumer group). @default - none
   */
  readonly targets?: Partial<ActionTargets>;
  /**
   * Run the scheduled playbooks on their schedules (drills start theirs themselves, and a simulated
   * clock crossing a schedule's time would open an incident the drill does not expect). @default true
   */
  readonly schedules?: boolean;
  /** The engine's clock, for drills that run it on a simulated one (see LocalEngineOptions). @default real time */
  readonly clock?: Pick<LocalEngineOptions, 'now' | 'simulatedClock' | 'onBusyChange'>;
  log(line: string): void;
}

export interface RunningAgent {
  readonly engine: LocalEngine;
  readonly url: string;
  /** The API token state-changing routes require, and the file the CLI reads it from. */
  readonly token: string;
  readonly tokenFile: string;
  stop(): Promise<void>;
}

/** Connects the configured real targets; anything not configured stays absent (steps fail "target not configured"). */
async function connectTargets(o: StartOptions): Promise<{ targets: ActionTargets; close(): Promise<void>; kubeBanner?: string }> {
  const targets: Record<string, unknown> = {};
  const closers: (() => Promise<unknown>)[] = [];
  // update_config, feature_flags and the local replication group keep their state in the data folder (a temporary one with --memory).
  const stateDir = o.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sre-agent-config-'));
  if (o.redisUrl) {
    const redis = await connectRedis(o.redisUrl, { cluster: o.redisCluster, connectNow: true });
    targets.redis = redis;
    // elasticache_modify on the same Redis: a node type one tier up raises its maxmemory in proportion.
    targets.elasticache = new LocalReplicationGroups({ file: path.join(stateDir, 'elasticache.json'), redis });
    closers.push(() => redis.quit());
  }
  if (o.mysqlUrl) {
    const pool = mysql.createPool({ uri: o.mysqlUrl, connectionLimit: 4 });
    await pool.query('SELECT 1');
    targets.mysql = pool;
    // rds_parameter_change on the same server: SET GLOBAL is what ModifyDBParameterGroup does in AWS.
    targets.rds = new MysqlServerParameters(pool, new URL(o.mysqlUrl).host);
    closers.push(() => pool.end());
  }
  targets.config = new FileConfigStore(path.join(stateDir, 'config-store.json'));
  if (o.kafkaBrokers) {
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ ...(await kafkaConfig({ brokers: o.kafkaBrokers })), logLevel: logLevel.ERROR }).admin();
    await admin.connect();
    const services = loadPolicy().services;
    targets.kafka = new KafkajsConsumerGroups({ admin, defaultGroup: o.kafkaGroup, serviceOf: (g) => { const s = services.serviceOfConsumerGroup(g); return s ? { service: s, deployment: services.entry(s).deployment } : undefined; } });
    closers.push(() => admin.disconnect());
  }
  const kube = await connectKube(o, closers);
  if (kube) targets.kube = kube.ops;
  // check_certificates reads the cluster's kubernetes.io/tls secrets too (the seed's kubernetes_secrets source).
  if (o.tlsDomains || kube) targets.certificates = new CertificateSources({ domains: o.tlsDomains?.split(',').map((d) => d.trim()).filter(Boolean), ...(kube ? { kube: kube.ops } : {}) });
  if (o.adminHttp) targets.http = new FetchHttp();
  Object.assign(targets, o.targets ?? {});
  return { targets, close: async () => void (await Promise.all(closers.map((c) => c()))), ...(kube ? { kubeBanner: kube.banner } : {}) };
}

/**
 * The Kubernetes target: the kubeconfig asked for, else the sandbox cluster in this process
 * (its kubeconfig written beside the data, so kubectl can look at what the agent does).
 */
async function connectKube(o: StartOptions, closers: (() => Promise<unknown>)[]): Promise<{ ops: KubeOps; banner: string } | undefined> {
  if (o.kube === false) return undefined;
  // Loaded on use (require, not import(): tsx runs this file as CommonJS): most commands never need the client.
  const { createKubeOps, kubeConfigFromFile, kubeConfigFromString } = require('../kube') as typeof import('../kube');
  const file = o.kube ?? process.env.KUBECONFIG;
  if (file) {
    const config = kubeConfigFromFile(file, o.kubeContext);
    return { ops: createKubeOps({ config }), banner: `kubernetes: ${config.getCurrentCluster()?.server ?? '?'} (context ${config.getCurrentContext()} of ${file})` };
  }
  const { startKubeSandbox } = require('../sandbox/kube') as typeof import('../sandbox/kube');
  const sandbox = await startKubeSandbox({ services: loadPolicy().services });
  closers.push(() => sandbox.close());
  const kubeconfig = path.join(o.dataDir ?? mkdtempSync(path.join(tmpdir(), 'sre-agent-kube-')), 'sandbox-kubeconfig');
  sandbox.writeKubeconfig(kubeconfig, 'trading');
  return {
    ops: createKubeOps({ config: kubeConfigFromString(sandbox.kubeconfig('trading')) }),
    banner: `kubernetes: the SANDBOX cluster (simulated, lib/sandbox/kube) at ${sandbox.url}, the seed's exchange; look with KUBECONFIG=${kubeconfig} kubectl get deploy -A  (a real cluster: --kubeconfig or KUBECONFIG)`,
  };
}

/** `--breakers` → thresholds; a bad value stops the start with the field at fault. */
export function parseBreakersOption(raw: string | undefined): Required<BreakerConfig> {
  let input: unknown = {};
  if (raw) {
    try {
      input = JSON.parse(raw);
    } catch (err) {
      throw new UsageError(`--breakers: not JSON (${(err as Error).message}); e.g. --breakers '{"coolDownSeconds":600}'`, '--breakers', { cause: err });
    }
  }
  try {
    return parseBreakerConfig(input);
  } catch (err) {
    throw new UsageError(`--breakers: ${(err as Error).message}`, '--breakers', { cause: err });
  }
}

export async function startLocal(o: StartOptions): Promise<RunningAgent> {
  const breakerConfig = parseBreakersOption(o.breakers);
  // Task tokens and approval records live in the data folder: nobody else may read it.
  if (o.dataDir) {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    makePrivate(o.dataDir);
  }
  const { targets, close, kubeBanner } = await connectTargets(o);
  const outbox = o.outbox === false ? undefined : Outbox.forDataDir(o.dataDir);
  const iam = o.iamCheck ? (typeof o.iamCheck === 'string' ? { template: o.iamCheck } : true) : undefined;
  // Metrics put by hand stay current until changed; a drill's world publishes its own (o.clock).
  const engine = await new LocalEngine({ dataDir: o.dataDir, speedUp: o.speedUp, targets, breakerConfig, outbox, iam, holdMetrics: !o.clock, ...o.clock }).start();
  // Tickets are kept with the incident in the engine's own tables (no ticket system locally).
  (targets as Record<string, unknown>).tickets = new TicketDesk({ doc: engine.doc, table: engine.tables.incidents });
  // Schedules keep the engine's time: its clock (a drill's simulated one) and its speed-up.
  const schedules = o.schedules === false ? { stop: () => undefined } : startSchedules(engine, { log: o.log, now: engine.now, speedUp: o.speedUp, simulatedClock: o.clock?.simulatedClock });
  let server;
  const token = newApiToken();
  let tokenFile: string | undefined;
  try {
    server = await startServer(engine, { port: o.port, token });
    // Approval requests carry each approver's signed links to this server's approval pages.
    engine.approvalLinks = (record, person, role) => localApprovalLinks(engine, record, person.name, role);
    tokenFile = o.dataDir ? dataDirTokenFile(o.dataDir) : runtimeTokenFile(Number(new URL(server.url).port));
    writeApiToken(tokenFile, token);
  } catch (err) {
    await engine.stop();
    await close();
    throw new UsageError(`cannot listen on 127.0.0.1:${o.port}: ${(err as Error).message} (use --port)`, '--port', { cause: err });
  }
  const configured = Object.keys(targets);
  o.log(`sre-agent local engine at ${server.url}`);
  // The token rides in the fragment, which the browser never sends: the page keeps it for its tab.
  o.log(`  dashboard: ${server.url}/#token=${token}  (this address decides approvals: keep it to yourself)`);
  o.log(`  data: ${o.dataDir ?? 'in memory'}; speed-up ×${o.speedUp}; breakers: cool-down ${breakerConfig.coolDownSeconds} s, service limit ${breakerConfig.serviceAttemptLimit} attempts / ${breakerConfig.serviceWindowSeconds} s (--breakers)`);
  o.log(`  playbooks: ${engine.playbooks.map((p) => p.playbook).join(', ')}`);
  if (engine.iam) o.log(`  IAM check: every handler runs under its role of the synthesized stack (${typeof o.iamCheck === 'string' ? o.iamCheck : 'synthesized in process'}); denied calls fail as AWS fails them`);
  const r = engine.reconciled;
  if (r && (r.escalated.length > 0 || r.approvalsClosed.length > 0)) {
    o.log(`  restarted on ${o.dataDir}: ${r.escalated.length} incident(s) whose execution ran in the last process handed to people (ESCALATED, LocalEngineRestarted: ${r.escalated.join(', ') || 'none'}); ${r.approvalsClosed.length} approval(s) expired`);
  }
  o.log(`  targets: ${configured.length ? configured.join(', ') : 'none'} configured; actions on other systems fail with "target not configured" (--redis, --mysql, --kubeconfig)`);
  o.log(`  ${kubeBanner ?? 'kubernetes: none (--no-kube-sandbox); the Kubernetes actions fail with "target not configured"'}`);
  const channels = engine.deliveringChannels;
  const others = engine.outbox ? 'the others are kept in the local outbox, signed approval links included (npx sre-agent outbox, the dashboard)' : 'the others are recorded as "not configured"';
  o.log(`  notifications: ${channels.length ? channels.join(', ') : 'no channel'} configured; ${others} (SRE_AGENT_PAGERDUTY_ROUTING_KEY, SRE_AGENT_SLACK_WEBHOOK_URL, SRE_AGENT_SNS_TOPIC_ARN); on-call from ${process.env.SRE_AGENT_ONCALL_FILE || 'playbooks/oncall.yaml'}`);
  // A scenario that works with no target configured: the Kubernetes steps run on the sandbox cluster.
  o.log(`  try: npx sre-agent metric put api_latency_p99 350 --service trading-api && npx sre-agent alarm traffic-surge   (README: Try it in five minutes; a whole scenario on its own engine: npx sre-agent drill traffic-surge --keep)`);
  return {
    engine,
    url: server.url,
    token,
    tokenFile: tokenFile!,
    stop: async () => {
      schedules.stop();
      await server.close();
      await engine.stop();
      await close();
      // A --memory engine's token goes with it; a data folder's is replaced at the next start.
      if (!o.dataDir && tokenFile) rmSync(tokenFile, { force: true });
    },
  };
}
