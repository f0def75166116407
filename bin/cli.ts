/** The `sre-agent` command line: validate, compile, graph, plan (and, as they land, the runtime). */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { dataDirTokenFile, readApiToken, runtimeTokenFile } from '../lib/local/api-token';
import { formatProblem, PlaybookError } from '../lib/playbook/errors';
import { LocalEngineError, PlaybookNotFoundError, UsageError } from '../lib/local/errors';

// Each command loads what it needs when it runs (require: tsx runs the CLI as CommonJS), so
// `sre-agent incidents` does not pay for the compiler, and `compile` not for the local engine.
const playbook = () => require('../lib/playbook') as typeof import('../lib/playbook');
const PLAYBOOK_DIR = path.resolve(__dirname, '../playbooks');
const policy = () => require('../lib/policy/files') as typeof import('../lib/policy/files');

/** A playbook argument: a path, or a name under playbooks/. */
export function resolvePlaybook(arg: string): string {
  if (existsSync(arg)) return path.resolve(arg);
  const named = path.join(PLAYBOOK_DIR, `${arg.replace(/\.ya?ml$/, '')}.yaml`);
  // Through the link when the CLI runs from .build/, so messages name playbooks/<name>.yaml.
  if (existsSync(named)) return realpathSync(named);
  throw new PlaybookNotFoundError(`no playbook "${arg}": not a file, and not a name in ${path.relative(process.cwd(), PLAYBOOK_DIR) || 'playbooks'}/`, arg);
}

/** An HTTP answer, read whole. */
interface HttpAnswer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

/**
 * One request with node:http (the engine is local and answers small JSON): fetch would load
 * undici, tens of milliseconds of every simple command's start (bench/cli.ts).
 */
function httpRequest(method: string, target: string, headers: Record<string, string>, body?: string): Promise<HttpAnswer> {
  const client = (target.startsWith('https:') ? require('node:https') : require('node:http')) as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

function program(io: Io): Command {
  const cli = new Command('sre-agent')
    .description('Self-healing SRE agent: YAML playbooks compiled to Step Functions.')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  cli
    .command('validate')
    .description('load, safety-check and compile playbooks without writing anything (default: all in playbooks/)')
    .argument('[files...]', 'playbook files or names')
    .action((files: string[]) => {
      const { compileFile, playbookFiles } = playbook();
      const list = files.length ? files.map(resolvePlaybook) : playbookFiles();
      const problems = [];
      for (const file of list) {
        try {
          compileFile(file);
          io.out(`ok  ${path.relative(process.cwd(), file)}\n`);
        } catch (err) {
          if (!(err instanceof PlaybookError)) throw err;
          problems.push(...err.problems);
        }
      }
      if (problems.length) throw new PlaybookError(problems);
    });

  cli
    .command('compile')
    .description('compile every playbook to statemachines/*.asl.json (+ index.json, playbooks/schema.json)')
    .option('--check', 'write nothing; exit 1 if the committed files differ from a fresh compile')
    .action((opts: { check?: boolean }) => {
      const { buildAll, writeBuild } = playbook();
      const out = buildAll();
      if (opts.check) {
        const stale = [...out.files].filter(([file, content]) => !existsSync(file) || readFileSync(file, 'utf8') !== content).map(([f]) => path.relative(process.cwd(), f));
        if (stale.length) throw new UsageError(`generated files are stale (run npm run compile): ${stale.join(', ')}`, '--check');
        io.out(`up to date: ${out.files.size} files\n`);
        return;
      }
      writeBuild(out);
      for (const m of out.machines) io.out(`compiled ${m.manifest.source} → ${m.manifest.file} (${Object.keys(m.asl.States).length} states)\n`);
    });

  cli
    .command('graph')
    .description('print the compiled state graph as a text tree (default) or Mermaid, with transition counts and cost')
    .argument('<playbook>', 'playbook file or name')
    .option('--mermaid', 'print a Mermaid flowchart instead of text')
    .action((arg: string, opts: { mermaid?: boolean }) => {
      const { compileFile, renderMermaid, renderText, PRICE_PER_TRANSITION_USD } = playbook();
      const m = compileFile(resolvePlaybook(arg));
      io.out(`${opts.mermaid ? renderMermaid(m.asl) : renderText(m.asl)}\n\n`);
      const { fullPath, quietPath } = m.manifest.transitions;
      const cost = (n: number) => `$${(n * PRICE_PER_TRANSITION_USD).toFixed(6)}`;
      io.out(`${opts.mermaid ? '%% ' : ''}states: ${Object.keys(m.asl.States).length}; transitions: full remediation path ${fullPath} (${cost(fullPath)} per incident), quiet path ${quietPath} (${cost(quietPath)}); machine timeout ${m.asl.TimeoutSeconds}s\n`);
    });

  cli
    .command('plan')
    .description('dry-run table: per step, effect, approval, condition, breakers, caps, target')
    .argument('<playbook>', 'playbook file or name')
    .action((arg: string) => {
      const { renderPlan } = require('../lib/playbook/plan') as typeof import('../lib/playbook/plan');
      const { checkPlaybookSafety } = require('../lib/playbook/safety') as typeof import('../lib/playbook/safety');
      const pb = playbook().loadPlaybook(resolvePlaybook(arg));
      const rules = policy().defaultPolicy();
      const problems = checkPlaybookSafety(pb, rules);
      io.out(`${renderPlan(pb, rules)}\n`);
      if (problems.length) throw new PlaybookError(problems);
    });

  cli
    .command('start')
    .description('run the agent on the embedded local engine: dynalite + the compiled machines + an HTTP API and dashboard')
    .option('--port <port>', 'HTTP port on 127.0.0.1', process.env.SRE_AGENT_PORT ?? '8787')
    .option('--data-dir <dir>', 'where dynalite keeps its data between runs', process.env.SRE_AGENT_DATA ?? '.sre-agent/data')
    .option('--memory', 'keep nothing on disk')
    .option('--speed-up <factor>', 'divide every wait and timeout (drills)', '1')
    .option('--redis <url>', 'Redis/ElastiCache target (e.g. redis://127.0.0.1:6379/0)', process.env.REDIS_URL)
    .option('--redis-cluster', 'the --redis URL is a cluster endpoint (cluster mode): act on every master', process.env.REDIS_CLUSTER === 'true')
    .option('--mysql <url>', 'MySQL/RDS target (e.g. mysql://root@127.0.0.1:3306)', process.env.MYSQL_URL)
    .option('--breakers <json>', 'circuit-breaker thresholds, e.g. \'{"coolDownSeconds":600}\' (see lib/breaker)', process.env.SRE_AGENT_BREAKERS)
    .option('--kafka <brokers>', 'Kafka bootstrap brokers for kafka_admin (host:port,...)', process.env.KAFKA_BROKERS)
    .option('--kafka-group <group>', 'consumer group kafka_admin describes when the step names none', process.env.KAFKA_CONSUMER_GROUP)
    .option('--tls-domains <list>', 'host[:port],... check_certificates handshakes with', process.env.SRE_AGENT_TLS_DOMAINS)
    .option('--admin-http', 'let api_call reach admin endpoints over HTTP')
    .option('--kubeconfig <file>', 'cluster of the Kubernetes actions (kind, minikube, a staging EKS); default $KUBECONFIG, else the sandbox cluster')
    .option('--kube-context <context>', 'context of the kubeconfig (default: its current-context)')
    .option('--no-kube-sandbox', 'without a kubeconfig, start no sandbox cluster (the Kubernetes actions then fail "target not configured")')
    .option('--no-outbox', 'record notifications of unconfigured channels as "not configured" instead of keeping them in the local outbox')
    .option('--iam-check [template]', 'run every handler under its role of the synthesized stack (a cdk.out template, or synthesized in process): calls the role does not allow fail as AccessDeniedException')
    .option('--once', 'start, print the status and stop (for checks)')
    .action(async (opts: { port: string; dataDir: string; memory?: boolean; speedUp: string; redis?: string; redisCluster?: boolean; mysql?: string; breakers?: string; once?: boolean; kafka?: string; kafkaGroup?: string; tlsDomains?: string; adminHttp?: boolean; kubeconfig?: string; kubeContext?: string; kubeSandbox?: boolean; outbox?: boolean; iamCheck?: boolean | string }) => {
      // Files the engine writes (DynamoDB data, keys, the API token) are the user's alone.
      process.umask(0o077);
      const { startLocal } = require('../lib/local/main') as typeof import('../lib/local/main');
      const running = await startLocal({
        port: Number(opts.port),
        dataDir: opts.memory ? undefined : opts.dataDir,
        speedUp: Number(opts.speedUp),
        redisUrl: opts.redis,
        redisCluster: opts.redisCluster,
        mysqlUrl: opts.mysql,
        breakers: opts.breakers,
        kafkaBrokers: opts.kafka,
        kafkaGroup: opts.kafkaGroup,
        tlsDomains: opts.tlsDomains,
        adminHttp: opts.adminHttp,
        kube: opts.kubeconfig ?? (opts.kubeSandbox === false && !process.env.KUBECONFIG ? false : undefined),
        kubeContext: opts.kubeContext,
        outbox: opts.outbox,
        iamCheck: opts.iamCheck,
        log: (line) => io.out(`${line}\n`),
      });
      if (opts.once) {
        await running.stop();
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = () => void running.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  cli
    .command('sandbox')
    .description("serve the Kubernetes API sandbox (the seed's exchange, simulated) on 127.0.0.1 and write a kubeconfig for kubectl")
    .option('--port <port>', 'HTTPS port on 127.0.0.1', '6443')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig', '.sre-agent/sandbox-kubeconfig')
    .option('--namespace <namespace>', "namespace of the kubeconfig's context", 'trading')
    .option('--once', 'start, print and stop (for checks)')
    .action(async (opts: { port: string; kubeconfigOut: string; namespace: string; once?: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${opts.port}"`, '--port');
      const { serveSandbox } = require('../lib/local/sandbox') as typeof import('../lib/local/sandbox');
      let running;
      try {
        running = await serveSandbox({ port, kubeconfigOut: opts.kubeconfigOut, namespace: opts.namespace, log: (line) => io.out(`${line}\n`) });
      } catch (err) {
        throw new UsageError(`cannot serve the sandbox on 127.0.0.1:${port}: ${(err as Error).message} (use --port)`, '--port', { cause: err });
      }
      if (opts.once) {
        await running.stop();
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = () => void running.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  cli
    .command('drill')
    .description('run a drill end to end on a simulated exchange: inject the fault, detect it with the stack\'s alarms, run the playbook on the local engine, check the path and the recovery')
    .argument('<scenario>', 'traffic-surge, matching-engine-latency, rds-connection-exhaustion, redis-memory-pressure, kafka-consumer-lag, pod-oom-killed, certificate-expiry-warning, global-breaker, service-breaker, or all')
    .option('--approve <mode>', 'answer approvals: auto (approve through the signed e-mail links), reject, or prompt', 'auto')
    .option('--speed <factor>', 'how much faster than real time the simulated clock runs while the agent waits', '60')
    .option('--json', 'print a JSON array, one object per drill, instead of progress and a table')
    .option('--iam-check [template]', 'run every handler under its role of the synthesized stack')
    .option('--redis <url>', 'Redis database the cache drill writes to and unlinks from', process.env.SRE_AGENT_DRILL_REDIS)
    .option('--report-dir <dir>', 'where reports and knowledge entries go', 'reports/drills')
    .option('--port <port>', "port of the drill engine's HTTP API and dashboard (its address is printed)", '0')
    .option('--keep', 'after the drill, keep its engine and dashboard up (incidents, timelines, reports, the graph) until Ctrl-C')
    .action(async (name: string, opts: { approve: string; speed: string; json?: boolean; iamCheck?: boolean | string; redis?: string; reportDir: string; port: string; keep?: boolean }) => {
      if (!['auto', 'reject', 'prompt'].includes(opts.approve)) throw new UsageError(`--approve must be auto, reject or prompt, got "${opts.approve}"`, '--approve');
      const speed = Number(opts.speed);
      if (!Number.isFinite(speed) || speed < 1) throw new UsageError(`--speed must be a number ≥ 1, got "${opts.speed}"`, '--speed');
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0 for any free one), got "${opts.port}"`, '--port');
      if (opts.keep && name === 'all') throw new UsageError('--keep keeps one drill\'s dashboard up: name one scenario, not all', '--keep');
      const keepOpen = opts.keep
        ? (dashboard: string) => {
            io.out(`\nThe drill is over; its dashboard stays up at ${dashboard}\nCtrl-C to stop.\n`);
            return new Promise<void>((resolve) => {
              process.once('SIGINT', () => resolve());
              process.once('SIGTERM', () => resolve());
            });
          }
        : undefined;
      const drill = require('../lib/local/drill') as typeof import('../lib/local/drill');
      const names = name === 'all' ? ['all'] : [drill.scenario(name).name];
      let ask: ((q: string) => Promise<boolean>) | undefined;
      let rl: import('node:readline').Interface | undefined;
      if (opts.approve === 'prompt') {
        // Answers typed (or piped) before their question are kept for it; at the end of input, no.
        const readline = require('node:readline') as typeof import('node:readline');
        rl = readline.createInterface({ input: process.stdin });
        const lines: string[] = [];
        const waiting: ((line: string | undefined) => void)[] = [];
        let ended = false;
        rl.on('line', (line) => (waiting.length ? waiting.shift()!(line) : lines.push(line)));
        rl.on('close', () => {
          ended = true;
          for (const w of waiting.splice(0)) w(undefined);
        });
        ask = async (q) => {
          io.out(q);
          const line = lines.length ? lines.shift() : ended ? undefined : await new Promise<string | undefined>((r) => waiting.push(r));
          if (line === undefined) io.out('(no answer: end of input) no\n');
          return /^y(es)?$/i.test((line ?? '').trim());
        };
      }
      try {
        const results = await drill.runDrills(names, { approve: opts.approve as 'auto', speed, iamCheck: opts.iamCheck, redisUrl: opts.redis, reportDir: opts.reportDir, port, ...(keepOpen ? { keepOpen } : {}), ask, log: (line) => (opts.json ? undefined : io.out(`${line}\n`)) });
        if (opts.json) io.out(`${JSON.stringify(results.map((r) => ({ scenario: r.scenario, passed: r.passed, steps: r.steps, mttdSeconds: r.mttdSeconds, mttiSeconds: r.mttiSeconds, mttrSeconds: r.mttrSeconds, firstAutoRemediationSeconds: r.firstAutoRemediationSeconds, incidents: r.incidents, deviations: r.deviations, simulatedSeconds: r.simulatedSeconds, wallSeconds: r.wallSeconds, reports: r.reports })), null, 2)}\n`);
        else io.out(`\n${drill.summaryTable(results)}\n`);
        if (results.some((r) => !r.passed)) throw new DrillFailed(results.filter((r) => !r.passed).map((r) => r.scenario));
      } finally {
        rl?.close();
      }
    });

  const url = (opts: { url?: string }) => opts.url ?? process.env.SRE_AGENT_URL ?? 'http://127.0.0.1:8787';
  /**
   * The engine's API token, found where the engine wrote it: SRE_AGENT_TOKEN, the data folder's
   * api-token (SRE_AGENT_DATA, default .sre-agent/data), or a --memory engine's runtime file for
   * the URL's port. Each is tried in turn until one is accepted.
   */
  const tokens = (target: string): string[] => {
    const port = Number(new URL(target).port || 80);
    const found = [process.env.SRE_AGENT_TOKEN, ...[dataDirTokenFile(process.env.SRE_AGENT_DATA ?? '.sre-agent/data'), runtimeTokenFile(port)].map((f) => readApiToken(f))];
    return [...new Set(found.filter((t): t is string => !!t))];
  };
  const call = async (method: string, target: string, body?: unknown): Promise<unknown> => {
    let res: HttpAnswer | undefined;
    // Reads send a token too when one is found: a few return signed links and need it.
    const found = tokens(target);
    const candidates = method === 'GET' && found.length === 0 ? [undefined] : found;
    if (candidates.length === 0) throw new LocalEngineError(`no API token for the local engine at ${new URL(target).origin}: start it with \`npm start\` (it writes one), or set SRE_AGENT_TOKEN`, new URL(target).origin);
    for (const token of candidates) {
      try {
        res = await httpRequest(method, target, { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body === undefined ? undefined : JSON.stringify(body));
      } catch (err) {
        throw new LocalEngineError(`cannot reach the local engine at ${new URL(target).origin} (is \`npm start\` running?): ${(err as Error).message}`, new URL(target).origin, { cause: err });
      }
      if (res.status !== 401) break;
    }
    if (!res) throw new LocalEngineError('no request was sent', new URL(target).origin);
    const { text } = res;
    const parsed = text && res.type.includes('json') ? JSON.parse(text) : text;
    if (res.status >= 300) throw new LocalEngineError(`${method} ${new URL(target).pathname} → ${res.status}: ${typeof parsed === 'string' ? parsed : JSON.stringify(parsed)}`, `${method} ${new URL(target).pathname}`);
    return parsed;
  };
  const print = (value: unknown) => io.out(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);

  cli
    .command('alarm')
    .description("post a realistic CloudWatch alarm event for a playbook to the local engine")
    .argument('<playbook>', 'playbook name')
    .option('--service <service>', "service (default: the playbook's)")
    .option('--metric <metric>', 'metric in the alarm name (default: the first detection metric)')
    .option('--state <state>', 'ALARM, OK or INSUFFICIENT_DATA', 'ALARM')
    .option('--url <url>', 'local engine URL')
    .action(async (name: string, opts: { service?: string; metric?: string; state: string; url?: string }) => {
      // The compiled manifest: what the engine runs (npm run compile refreshes it).
      const { loadCompiledPlaybooks } = require('../lib/compiled/manifest') as typeof import('../lib/compiled/manifest');
      const { buildAlarmEvent } = require('../lib/runtime/sample-event') as typeof import('../lib/runtime/sample-event');
      const machine = loadCompiledPlaybooks().get(name);
      if (!machine) throw new PlaybookNotFoundError(`no playbook "${name}" in the compiled manifest (names: ${loadCompiledPlaybooks().all.map((m) => m.playbook).join(', ')})`, name);
      if (!['ALARM', 'OK', 'INSUFFICIENT_DATA'].includes(opts.state)) throw new UsageError(`--state must be ALARM, OK or INSUFFICIENT_DATA, got "${opts.state}"`, '--state');
      if (machine.trigger.type === 'schedule') throw new UsageError(`playbook ${name} is started by its schedule (${machine.trigger.expression}), not by an alarm: start it now with \`sre-agent run ${name}\``, '<playbook>');
      const service = opts.service ?? machine.trigger.defaultService ?? machine.service;
      if (!service) throw new UsageError(`playbook ${name} has no default service: pass --service`, '--service');
      print(await call('POST', `${url(opts)}/events`, buildAlarmEvent({ playbook: name, service, metric: opts.metric, state: opts.state as 'ALARM' }, machine)));
    });

  const metric = cli.command('metric').description('metrics of the local metric store');
  metric
    .command('put')
    .description('record a metric value (in the catalogue unit, e.g. Percent 91, Milliseconds 350)')
    .argument('<name>', 'metric or alias from playbooks/metrics.yaml')
    .argument('<value>', 'number')
    .option('--service <service>', 'service dimension')
    .option('--unit <unit>', 'CloudWatch unit (default: the catalogue unit)')
    .option('--url <url>', 'local engine URL')
    .action(async (name: string, value: string, opts: { service?: string; unit?: string; url?: string }) => {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`value "${value}" is not a number`, '<value>');
      print(await call('POST', `${url(opts)}/api/metrics`, { name, value: n, ...(opts.service ? { service: opts.service } : {}), ...(opts.unit ? { unit: opts.unit } : {}) }));
    });

  const breaker = cli.command('breaker').description('circuit breakers (seed §3.2)');
  breaker.command('list').description('show every breaker').option('--url <url>', 'local engine URL').action(async (opts: { url?: string }) => print(await call('GET', `${url(opts)}/api/breakers`)));
  breaker
    .command('reset')
    .description('close the global breaker, or one service\'s')
    .argument('[service]', 'service whose breaker to reset (default: the global one)')
    .option('--as <person>', 'who resets it (recorded)', process.env.USER ?? 'cli')
    .option('--url <url>', 'local engine URL')
    .action(async (service: string | undefined, opts: { as: string; url?: string }) => print(await call('POST', `${url(opts)}/api/breakers/reset`, { service, actor: `cli:${opts.as}` })));

  for (const decision of ['approve', 'reject'] as const) {
    cli
      .command(decision)
      .description(`${decision} a pending step as one of its approver roles`)
      .argument('<approval-id>', 'from the dashboard or `incidents`')
      .requiredOption('--as <person>', 'who decides')
      .requiredOption('--role <role>', 'the approver role you decide for (e.g. oncall_sre, dba)')
      .option('--reason <text>', 'why (recorded)')
      .option('--url <url>', 'local engine URL')
      .action(async (id: string, opts: { as: string; role: string; reason?: string; url?: string }) => print(await call('POST', `${url(opts)}/api/approvals/${id}/${decision}`, { as: opts.as, role: opts.role, reason: opts.reason })));
  }

  cli
    .command('resolve')
    .description('resolve an escalated incident by hand (stops its escalation climb)')
    .argument('<incident-id>', 'INC-YYYYMMDD-NNN')
    .requiredOption('--as <person>', 'who resolves it (recorded)')
    .requiredOption('--reason <text>', 'what fixed it (recorded, goes into the report)')
    .option('--url <url>', 'local engine URL')
    .action(async (id: string, opts: { as: string; reason: string; url?: string }) => print(await call('POST', `${url(opts)}/api/incidents/${id}/resolve`, { as: opts.as, reason: opts.reason })));

  cli
    .command('run')
    .description('start a playbook now, as its schedule would (Start incident opens the incident)')
    .argument('<playbook>', 'playbook name')
    .option('--url <url>', 'local engine URL')
    .action(async (playbook: string, opts: { url?: string }) => print(await call('POST', `${url(opts)}/api/playbooks/${encodeURIComponent(playbook)}/run`)));

  const tickets = cli.command('tickets').description('tickets the agent opened (kept with the incident) ').option('--incident <id>', 'only this incident\'s').option('--url <url>', 'local engine URL');
  tickets.action(async (opts: { incident?: string; url?: string }) => print(await call('GET', `${url(opts)}/api/tickets${opts.incident ? `?incident=${encodeURIComponent(opts.incident)}` : ''}`)));
  tickets
    .command('close')
    .description('mark a ticket closed (a later run may open a new one for its subject)')
    .argument('<ticket-id>', 'TKT-...')
    .option('--url <url>', 'local engine URL')
    // `--url` after `close` is taken by the parent `tickets` command (it has one too): read both.
    .action(async (id: string, _opts: { url?: string }, command: Command) => print(await call('POST', `${url(command.optsWithGlobals())}/api/tickets/${encodeURIComponent(id)}/close`)));

  cli
    .command('config')
    .description('configuration changes of an incident')
    .command('undo')
    .description('restore the config and feature flags an incident changed (once; values changed since are left alone)')
    .argument('<incident-id>', 'INC-YYYYMMDD-NNN')
    .option('--as <person>', 'who undoes it (recorded)', process.env.USER ?? 'cli')
    .option('--url <url>', 'local engine URL')
    .action(async (id: string, opts: { as: string; url?: string }) => print(await call('POST', `${url(opts)}/api/incidents/${id}/config/undo`, { as: opts.as })));

  cli
    .command('outbox')
    .description('what the local engine kept instead of sending (channels without configuration), newest first, with the signed links of each e-mail')
    .option('--incident <id>', "only this incident's")
    .option('--channel <channel>', 'pagerduty, phone, slack, email or sns')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'print the entries as JSON')
    .option('--url <url>', 'local engine URL')
    .action(async (opts: { incident?: string; channel?: string; limit: string; json?: boolean; url?: string }) => {
      const q = new URLSearchParams({ limit: opts.limit, ...(opts.incident ? { incident: opts.incident } : {}), ...(opts.channel ? { channel: opts.channel } : {}) });
      const entries = (await call('GET', `${url(opts)}/api/outbox?${q}`)) as { id: string; at: string; channel: string; title: string; text: string; to: string[] }[];
      if (opts.json) return print(entries);
      if (entries.length === 0) return io.out('the outbox is empty\n');
      for (const e of entries) io.out(`── ${e.id}  ${e.at}  ${e.channel}${e.to.length ? ` → ${e.to.join(', ')}` : ''}\n${e.text}\n\n`);
    });

  cli
    .command('approvals')
    .description('pending approvals: the step, who may decide now, and each one\'s signed approve/reject links')
    .option('--json', 'print them as JSON')
    .option('--url <url>', 'local engine URL')
    .action(async (opts: { json?: boolean; url?: string }) => {
      const pending = (await call('GET', `${url(opts)}/api/approvals/pending`)) as import('../lib/local/server').PendingApproval[];
      if (opts.json) return print(pending);
      if (pending.length === 0) return io.out('no pending approvals\n');
      for (const a of pending) {
        io.out(`${a.approvalId}  ${a.incidentId}  step ${a.step}: ${a.minApprovals} of ${a.approvers.join(' + ')}, unanswered by ${a.expiresAt}\n`);
        for (const d of a.mayDecide) io.out(`  ${d.person} (${d.role})\n    approve: ${d.approveUrl}\n    reject:  ${d.rejectUrl}\n`);
        if (a.unheld.length) io.out(`  nobody holds ${a.unheld.join(', ')} now\n`);
        io.out(`  or: npx sre-agent approve ${a.approvalId} --as <person> --role <role>\n`);
      }
    });

  cli
    .command('report')
    .description('the §5.1 report of an incident, written now from its stored state (zh-CN by default)')
    .argument('<incident-id>', 'INC-YYYYMMDD-NNN')
    .option('--lang <lang>', 'zh-CN or en', 'zh-CN')
    .option('--json', 'print the report as JSON')
    .option('--url <url>', 'local engine URL')
    .action(async (id: string, opts: { lang: string; json?: boolean; url?: string }) => {
      const q = new URLSearchParams({ lang: opts.lang, format: opts.json ? 'json' : 'md' });
      const report = await call('POST', `${url(opts)}/api/incidents/${encodeURIComponent(id)}/report?${q}`);
      io.out(typeof report === 'string' ? report : `${JSON.stringify(report, null, 2)}\n`);
    });

  // The knowledge base works on its files directly: no engine needs to run.
  const knowledge = () => require('../lib/knowledge/local') as typeof import('../lib/knowledge/local');
  const kb = cli.command('kb').description('the knowledge base of past incidents (seed §5.2); works without a running engine');
  kb.command('import')
    .description('add or replace entries from a JSONL file (one seed §5.2 entry a line); a bad line imports nothing')
    .argument('<file>', 'file.jsonl')
    .option('--data-dir <dir>', 'the engine\'s data folder', process.env.SRE_AGENT_DATA ?? '.sre-agent/data')
    .action(async (file: string, opts: { dataDir: string }) => {
      const { importEntries } = require('../lib/knowledge/import') as typeof import('../lib/knowledge/import');
      const store = knowledge().localKnowledgeStore(opts.dataDir);
      const n = await importEntries(store, file);
      io.out(`imported ${n} entr${n === 1 ? 'y' : 'ies'} into ${store.location}\n`);
    });
  kb.command('search')
    .description('past incidents most similar to a text')
    .argument('<text>', 'what to look for (Chinese or English)')
    .option('--top <n>', 'how many', '3')
    .option('--json', 'print a JSON array (incident_id, score, root_cause, resolution_steps)')
    .option('--data-dir <dir>', 'the engine\'s data folder', process.env.SRE_AGENT_DATA ?? '.sre-agent/data')
    .action(async (text: string, opts: { top: string; json?: boolean; dataDir: string }) => {
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a whole number ≥ 1, got "${opts.top}"`, '--top');
      const hits = await knowledge().localKnowledgeStore(opts.dataDir).search(text, top);
      const rows = hits.map((h) => ({ incident_id: h.incidentId, score: Number(h.score.toFixed(4)), root_cause: h.rootCause, resolution_steps: h.resolutionSteps }));
      if (opts.json) return io.out(`${JSON.stringify(rows, null, 2)}\n`);
      if (rows.length === 0) return io.out('no similar incident\n');
      for (const r of rows) io.out(`${r.incident_id}  ${r.score}\n  根因: ${r.root_cause}\n${r.resolution_steps.map((s) => `  - ${s}`).join('\n')}\n`);
    });

  cli.command('incidents').description('list incidents').option('--url <url>', 'local engine URL').action(async (opts: { url?: string }) => print(await call('GET', `${url(opts)}/api/incidents`)));
  cli
    .command('timeline')
    .description("an incident with its timeline and MTTD/MTTI/MTTR")
    .argument('<incident-id>', 'INC-YYYYMMDD-NNN')
    .option('--url <url>', 'local engine URL')
    .action(async (id: string, opts: { url?: string }) => print(await call('GET', `${url(opts)}/api/incidents/${id}`)));
  return cli;
}

/** A drill left its expected path: exit 1, the table already says how. */
class DrillFailed extends Error {
  public constructor(scenarios: readonly string[]) {
    super(`drill failed: ${scenarios.join(', ')}`);
    this.name = 'DrillFailed';
  }
}

/** Runs the CLI; resolves to the exit code. Errors are printed, never thrown. */
export async function run(argv: readonly string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  try {
    await program(io).parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof PlaybookError) {
      io.err(`${err.problems.map(formatProblem).join('\n')}\n${err.problems.length} problem(s)\n`);
      return 1;
    }
    io.err(`sre-agent: ${(err as Error).message}\n`);
    return 1;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await run(argv);
}
