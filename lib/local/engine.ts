/**
 * The embedded engine behind `npm start`: dynalite for DynamoDB, the compiled
 * statemachines/*.asl.json run by aws-local-stepfunctions, and every Lambda resource mapped to the
 * same in-process code the Lambdas run (action dispatcher, core operations). One code path, two hosts.
 */
import './polyfill';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { StateMachine } from 'aws-local-stepfunctions';
import pLimit from 'p-limit';
import { ACTIONS, type ActionTargets } from '../actions';
import { dispatchAction, type DispatchDeps } from '../actions/dispatch';
import { inMemoryKey, localKeyFile, type SigningKey } from '../approval/links';
import { createNotifier, notifierConfigFromEnv, notifyOpsFor, type Channel, type Notifier } from '../notify';
import { withOutbox, type Outbox } from './outbox';
import { PagerDutyOnCall, parsePagerDutyRoles, type OnCallLookup } from '../approval/oncall';
import type { BreakerConfig } from '../breaker';
import { LocalMetricStore } from '../metrics';
import { type MetricCatalogue } from '../playbook/catalogue';
import { L4_STATES, type Asl } from '../playbook/compile';
import { compiledPlaybooks, type CompiledPlaybooks, type Manifest, type MachineManifest } from '../compiled/manifest';
import { type Policy } from '../policy/policy';
import { undoConfigChanges } from '../runtime/config-undo';
import { reconcileAfterRestart, type ReconcileReport } from '../runtime/reconcile';
import type { ConfigOps } from '../actions/ports';
import { recordBreakerChangesOf, recordExecutionEnded, runCore, type CoreDeps, type CoreTables, type ExecutionEnd } from '../runtime/core';
import { dispatchDepsOf } from '../runtime/dispatch-deps';
import { RecentAlarmEvents, type IntakeDeps } from '../runtime/intake';
import { recordOutcomes } from '../runtime/notifications';
import type { ExecutionStarter, StartRequest, StartResult } from '../runtime/executions';
import { createTables, startDynalite, type LocalDynamo } from './dynalite';
import { authorizeLocal, IamCheck, installSdkHook } from './iam/check';
import { authorizeSigningKey, guardedConfig, guardedNotifier, localIamCheck, type LocalIamOptions } from './iam/local';
import { CORE_FUNCTIONS } from '../compiled/manifest';
import type { Summarizer } from '../analysis/summary';
import type { SimilarIncidentsLookup } from '../analysis/types';
import type { InvestigationDeps } from '../runtime/investigate';
import { TaskTokens } from './task-tokens';
import { statusPublisherFromEnv } from '../runtime/status-page-config';
import type { KnowledgeStore } from '../knowledge/store';
import { MemoryEntries } from '../knowledge/entries';
import { localKnowledgeStore } from '../knowledge/local';
import { OramaKnowledgeStore } from '../knowledge/orama';
import { FileReportStore, MemoryReportStore, type ReportDeps, type ReportStore } from '../report';

/** A report store that also tells `onReport` of each report it saves. */
function reportsTold(store: ReportStore, onReport: (incidentId: string, markdown: string) => void): ReportStore {
  return {
    save: async (report) => {
      const saved = await store.save(report);
      onReport(report.json.incidentId, report.markdown['zh-CN']);
      return saved;
    },
    get: (id) => store.get(id),
  };
}
import { LocalEngineError, UsageError } from './errors';
import { DEFAULT_ONCALL_FILE, loadRotationFile } from '../approval/oncall-file';
import { defaultCatalogue } from '../playbook/catalogue-file';
import { defaultPolicy } from '../policy/files';
import { loadStatusComponents } from '../runtime/status-page-file';

export const LOCAL_CORE_TABLES: CoreTables = {
  incidents: 'sre-agent-incidents',
  breakers: 'sre-agent-breakers',
  approvals: 'sre-agent-approvals',
};

export interface LocalEngineOptions {
  /** Persistent dynalite folder; omitted = in memory. */
  readonly dataDir?: string;
  /**
   * Divides every Wait, approval window (waitForTaskToken timeout) and retry interval: 60 runs a
   * 5-minute wait in 5 s (drills, tests). Lambda Task timeouts stay as they are: in-process work
   * does not get faster, and 60 s / 600 = 100 ms timed out on a busy machine. @default 1 (real time)
   */
  readonly speedUp?: number;
  /**
   * States, by name, that keep their full length however large `speedUp` is: Wait states and the
   * windows of waitForTaskToken Tasks (approval levels). A test holds one window open this way, so
   * that a loaded machine cannot let it pass before the test acts, while the others stay fast. A
   * name that no compiled machine has is refused at start() (a typo would hold nothing).
   * @default - none
   */
  readonly realTimeStates?: readonly string[];
  /** Real systems the actions work on (Redis, MySQL...); missing ones fail as "target not configured". */
  readonly targets?: ActionTargets;
  readonly metrics?: LocalMetricStore;
  /**
   * For the store the engine makes (no `metrics` given): a value put stays current until another is
   * put (LocalMetricStoreOptions.holdLatest). @default false
   */
  readonly holdMetrics?: boolean;
  readonly catalogue?: MetricCatalogue;
  readonly policy?: Policy;
  readonly breakerConfig?: BreakerConfig;
  /** @default statemachines/index.json */
  readonly manifestFile?: string;
  /**
   * Sends approval requests, escalations, hand-overs and breaker changes, and backs the
   * `notify` target of send_alert. `false` sends nothing.
   * @default channels configured by environment (see notifierConfigFromEnv); the others answer "not configured"
   */
  readonly notifier?: Notifier | false;
  /**
   * Keeps what the channels without configuration would send (lib/local/outbox), instead of
   * recording them "not configured". Wraps the notifier (ignored when `notifier` is false).
   * @default - none
   */
  readonly outbox?: Outbox;
  /**
   * Who holds a role. `false` resolves nobody.
   * @default the rotation file ($SRE_AGENT_ONCALL_FILE, else playbooks/oncall.yaml), behind PagerDuty when
   * SRE_AGENT_PAGERDUTY_API_KEY and SRE_AGENT_PAGERDUTY_ONCALL_ROLES are set
   */
  readonly oncall?: OnCallLookup | false;
  /** Signed approve/reject links per person (see `LocalEngine.approvalLinks`). @default - none */
  readonly approvalLinks?: CoreDeps['approvalLinks'];
  /**
   * The knowledge base's search: similar past incidents join each investigation.
   * @default - none
   */
  readonly similarIncidents?: SimilarIncidentsLookup;
  /**
   * An LLM summary of each concluded investigation, stored beside it and labelled advisory (tests
   * pass a fake; AWS wires Bedrock when the stack names a model).
   * @default - none
   */
  readonly summarizer?: Summarizer;
  /**
   * The public status page: features per service and the publisher of approved notices.
   * @default playbooks/status-page.yaml, and the publisher the environment configures (lib/runtime/status-page-config)
   */
  readonly statusPage?: CoreDeps['statusPage'];
  now?(): Date;
  /**
   * `now` is a simulated clock that runs `speedUp` times faster than real time while the engine
   * waits (drills, lib/local/drill): durations the engine hands to core operations (an approval
   * window's length) are then given in that clock's seconds, not in real ones. @default false
   */
  readonly simulatedClock?: boolean;
  /**
   * Told when the engine starts working (a Task handler runs) and when it has no handler running
   * any more: a drill's simulated clock runs at real speed while the agent works. @default - none
   */
  onBusyChange?(busy: boolean): void;
  /** Called with every report written (zh-CN Markdown). */
  onReport?(incidentId: string, markdown: string): void;
  /**
   * Where reports go.
   * @default `<dataDir>/reports`, or in memory without a data folder
   */
  readonly reports?: ReportStore;
  /**
   * The knowledge base closed incidents are written to (and similar incidents read from).
   * @default Orama over `<dataDir>/knowledge/entries.json`, or in memory without a data folder
   */
  readonly knowledge?: KnowledgeStore;
  /**
   * Runs every in-process handler under its function's role of the synthesized stack
   * (lib/local/iam): each AWS call it makes is evaluated against that role and denied as AWS
   * denies it. `true` synthesizes the stack from this engine's manifest; an IamCheck is used as it is.
   * @default false
   */
  readonly iam?: boolean | LocalIamOptions | IamCheck;
}

/** The function of the stack behind a `${...}` key of the ASL: `Fn_evaluate` → `evaluate`, `Action_x` → `action:x`. */
export function functionIdOf(key: string): string {
  if (key.startsWith('Action_')) return `action:${key.slice('Action_'.length)}`;
  const core = (Object.entries(CORE_FUNCTIONS) as [string, string][]).find(([, k]) => k === key)?.[0];
  return core ?? key;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly playbook: string;
  readonly input: string;
  readonly startDate: string;
  status: ExecutionStatus;
  stopDate?: string;
  output?: unknown;
  error?: { error: string; cause: string };
  /** Settles when the execution ends (never rejects). */
  readonly done: Promise<void>;
  /**
   * Settles when the execution ends, or when it has handed its incident to people at level 4 and
   * only its periodic recovery checks remain (which go on for hours in real time).
   */
  readonly quiet: Promise<void>;
  /** Task states entered, in order (the dashboard shows where an execution is). */
  readonly states: string[];
  /**
   * State transitions so far, as Step Functions bills them: every state entered, those of Parallel
   * branches included (bench/cost counts a walked incident's with it).
   */
  transitions: number;
  /** When the first action Task was invoked (for the engine-overhead benchmark). */
  firstActionAt?: number;
  /**
   * When the first Task after Start incident was invoked: the investigation's first check, or the
   * first step's when the playbook has no investigation (the benchmarks' end of "opening").
   */
  firstWorkAt?: number;
}

/** How long (real ms) no Task may run before the engine tells `onBusyChange` it is idle. */
const IDLE_GRACE_MS = 50;

/** Repeat firings handled at once by the local engine's intake. */
const REPEAT_LANE_CONCURRENCY = 2;

const DEFAULT_MANIFEST = path.resolve(__dirname, '../../statemachines/index.json');

/**
 * `$$.State.EnteredTime` as aws-local-stepfunctions resolves it: one static value per execution
 * (the library keeps no State in the context object). Each Task handler puts the time it started in
 * its place, which is when the library enters the Task and starts counting its TimeoutSeconds.
 */
const STATE_ENTERED_TIME = 'replaced-per-task:$$.State.EnteredTime';

/** The payload with `$$.State.EnteredTime` resolved to `entered` (the compiler writes it as a top-level field). */
function withEnteredTime(payload: Record<string, unknown>, entered: Date): Record<string, unknown> {
  if (!Object.values(payload).includes(STATE_ENTERED_TIME)) return payload;
  return Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, v === STATE_ENTERED_TIME ? entered.toISOString() : v]));
}

/** Channels configured by environment; an SNS client only when a topic is set (it needs AWS credentials). */
function defaultNotifier(now: () => Date, env: NodeJS.ProcessEnv = process.env): Notifier {
  const config = notifierConfigFromEnv(env);
  return createNotifier(config, { now, sns: config.sns || config.email ? new SNSClient({}) : undefined });
}

/** The component map (validated now: a broken file stops `npm start` with its positions) and the configured publisher. */
function defaultStatusPage(env: NodeJS.ProcessEnv = process.env): CoreDeps['statusPage'] {
  const publisher = statusPublisherFromEnv(env);
  return { components: loadStatusComponents(), ...(publisher ? { publisher } : {}) };
}

/** The rotation file, validated now (a broken file stops `npm start` with its positions); PagerDuty in front when configured. */
function defaultOnCall(env: NodeJS.ProcessEnv = process.env): OnCallLookup {
  const rotation = loadRotationFile(env.SRE_AGENT_ONCALL_FILE || DEFAULT_ONCALL_FILE);
  const key = env.SRE_AGENT_PAGERDUTY_API_KEY;
  const roles = env.SRE_AGENT_PAGERDUTY_ONCALL_ROLES;
  if (!key || !roles) return rotation;
  return new PagerDutyOnCall({
    roles: parsePagerDutyRoles(roles, 'SRE_AGENT_PAGERDUTY_ONCALL_ROLES'),
    apiKey: async () => key,
    fallback: rotation,
    baseUrl: env.SRE_AGENT_PAGERDUTY_API_URL || undefined,
  });
}

/**
 * Scales the waiting durations of a definition by 1/speedUp (fractional seconds are fine locally),
 * except those of the states named in `realTime`.
 */
function scaled(asl: Asl, speedUp: number, realTime: ReadonlySet<string> = new Set()): Asl {
  if (speedUp === 1) return asl;
  const states = Object.fromEntries(
    Object.entries(asl.States).map(([name, s]) => [name, typeof s.TimeoutSeconds === 'number' && String(s.Resource).endsWith('.waitForTaskToken') && !realTime.has(name) ? { ...s, TimeoutSeconds: s.TimeoutSeconds / speedUp } : s]),
  );
  return { ...asl, TimeoutSeconds: asl.TimeoutSeconds / speedUp, States: states };
}

export class LocalEngine implements ExecutionStarter {
  public readonly tokens = new TaskTokens();
  public readonly metrics: LocalMetricStore;
  public readonly policy: Policy;
  public readonly tables = LOCAL_CORE_TABLES;
  public readonly executions = new Map<string, LocalExecution>();
  /** §5.1 reports: `<data-dir>/reports` (kept between runs), or in memory. */
  public readonly reports: ReportStore;
  /** The §5.2 knowledge base. */
  public readonly knowledge: KnowledgeStore;
  /**
   * Signs the approval links the local server serves: a 0600 key file in the data folder (links
   * survive a restart), or a random in-memory key when the engine runs in memory.
   */
  public readonly signingKey: SigningKey;
  private readonly machines = new Map<string, { manifest: MachineManifest; machine: StateMachine; asl: Asl; waits: Record<string, number>; retries: Record<string, number> }>();
  private dynamo?: LocalDynamo;
  private compiledPlaybooks?: CompiledPlaybooks;
  /** The IAM check every handler runs under (the `iam` option), once started. */
  public iam?: IamCheck;
  /** Task handlers still running: one whose state timed out keeps writing until it ends (stop waits). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** How to abort each running execution (aws-local-stepfunctions' handle); removed when it ends. */
  private readonly aborts = new Map<string, () => void>();
  /** Set by stop(): the executions it aborts failed to finish. */
  private stopping = false;
  private readonly speedUp: number;
  private readonly catalogue: MetricCatalogue;
  /** The engine's clock (real time, or a drill's simulated clock). */
  public readonly now: () => Date;
  public readonly notifier?: Notifier;
  /** Channels that really deliver (configured); with an outbox the others are kept in it. */
  public readonly deliveringChannels: readonly Channel[];
  /** What the unconfigured channels would have sent (see the `outbox` option). */
  public readonly outbox?: Outbox;
  public readonly oncall?: OnCallLookup;
  /**
   * Links for approval requests; settable after start, because the links point at the HTTP
   * server, which starts after the engine.
   */
  public approvalLinks?: CoreDeps['approvalLinks'];
  private idleTimer?: NodeJS.Timeout;
  public readonly statusPage: CoreDeps['statusPage'];

  public constructor(private readonly options: LocalEngineOptions = {}) {
    this.speedUp = options.speedUp ?? 1;
    if (!(this.speedUp > 0)) throw new UsageError(`speedUp must be positive, got ${options.speedUp}`, 'speedUp');
    this.catalogue = options.catalogue ?? defaultCatalogue();
    this.now = options.now ?? (() => new Date());
    this.metrics = options.metrics ?? new LocalMetricStore({ catalogue: this.catalogue, clock: this.now, holdLatest: options.holdMetrics ?? false });
    this.policy = options.policy ?? defaultPolicy();
    const notifier = options.notifier === false ? undefined : (options.notifier ?? defaultNotifier(this.now));
    this.outbox = notifier ? options.outbox : undefined;
    this.deliveringChannels = notifier?.configured ?? [];
    this.notifier = notifier && this.outbox ? withOutbox(notifier, this.outbox) : notifier;
    this.oncall = options.oncall === false ? undefined : (options.oncall ?? defaultOnCall());
    this.approvalLinks = options.approvalLinks;
    this.statusPage = options.statusPage ?? defaultStatusPage();
    this.signingKey = options.dataDir ? localKeyFile(path.join(options.dataDir, 'approval-signing.key')) : inMemoryKey();
    const reports = options.reports ?? (options.dataDir ? new FileReportStore(path.join(options.dataDir, 'reports')) : new MemoryReportStore());
    this.reports = options.onReport ? reportsTold(reports, options.onReport) : reports;
    this.knowledge = options.knowledge ?? (options.dataDir ? localKnowledgeStore(options.dataDir) : new OramaKnowledgeStore(new MemoryEntries()));
  }

  /** The compiled state machine of a playbook as this engine runs it (unscaled), for the dashboard's graph. */
  public aslOf(playbook: string): Asl | undefined {
    return this.machines.get(playbook)?.asl;
  }

  /** Starts dynalite, creates the tables, loads every compiled machine. */
  public async start(): Promise<this> {
    this.dynamo = await startDynalite({ path: this.options.dataDir });
    await createTables(this.dynamo.client, this.tables);
    const manifestFile = this.options.manifestFile ?? DEFAULT_MANIFEST;
    const iam = this.options.iam;
    if (iam) {
      this.iam = iam instanceof IamCheck ? iam : localIamCheck({ ...(iam === true ? {} : iam), manifestFile, tables: this.tables });
      installSdkHook();
    }
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    this.compiledPlaybooks = compiledPlaybooks(manifest);
    const root = path.resolve(path.dirname(manifestFile), '..');
    const realTime = new Set(this.options.realTimeStates ?? []);
    const unknown = new Set(realTime);
    for (const m of manifest.machines) {
      const asl = scaled(JSON.parse(readFileSync(path.join(root, m.file), 'utf8')) as Asl, this.speedUp, realTime);
      const states = Object.entries(asl.States);
      for (const [name] of states) unknown.delete(name);
      this.machines.set(m.playbook, {
        manifest: m,
        asl,
        machine: new StateMachine(asl as never, { validationOptions: { noValidate: true } }),
        // Wait states and retry intervals, sped up: the same for every execution of the machine.
        waits: Object.fromEntries(states.filter(([, s]) => s.Type === 'Wait').map(([name, s]) => [name, ((s.Seconds as number) * 1000) / (realTime.has(name) ? 1 : this.speedUp)])),
        retries: Object.fromEntries(states.filter(([, s]) => Array.isArray(s.Retry)).map(([name]) => [name, 2000 / this.speedUp])),
      });
    }
    if (unknown.size > 0) {
      await this.stop();
      throw new UsageError(`realTimeStates: no compiled machine has a state named ${[...unknown].map((n) => `"${n}"`).join(', ')}`, 'realTimeStates');
    }
    // A data folder from an earlier run: nothing of its executions runs in this process.
    if (this.options.dataDir) this.reconciled = await this.asFunction('reconcile', () => reconcileAfterRestart(this.coreDeps()));
    return this;
  }

  /** What start() put right in the data folder it found (incidents handed over, approvals expired). */
  public reconciled?: ReconcileReport;

  /**
   * Aborts the executions still running (they live in this process: nothing would resume them),
   * fails the task tokens they wait on, records their incidents FAILED, waits for the task
   * handlers already working, then stops dynalite. Nothing of the engine keeps the process alive
   * afterwards.
   */
  public async stop(): Promise<void> {
    this.stopping = true;
    for (const abort of [...this.aborts.values()]) abort();
    this.tokens.failAll('ExecutionAborted', 'the local engine stopped');
    // Each aborted run records its end (its incident is FAILED: nothing works on it any more).
    await Promise.all([...this.executions.values()].map((e) => e.done));
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.dynamo?.stop();
    this.dynamo = undefined;
  }

  /** The compiled playbooks the engine loaded: what its guard enforces. */
  public get compiled(): CompiledPlaybooks {
    if (!this.compiledPlaybooks) throw new LocalEngineError('local engine not started', 'compiled playbooks');
    return this.compiledPlaybooks;
  }

  public get doc() {
    if (!this.dynamo) throw new LocalEngineError('local engine not started', 'dynalite');
    return this.dynamo.doc;
  }

  /** Remembers handled alarm state changes, as Powertools idempotency does for the trigger Lambda. */
  public readonly recentAlarms = new RecentAlarmEvents();

  /**
   * Repeat firings, at most REPEAT_LANE_CONCURRENCY at a time (see IntakeDeps.repeatLane): a new
   * incident's calls wait behind at most that many others in the DynamoDB thread's queue. In the
   * alarm-storm benchmark two halved the slowest fresh incident's event → first action (four
   * kept more capacity but a longer tail; one cost too much capacity).
   */
  private readonly repeatLane = pLimit(REPEAT_LANE_CONCURRENCY);

  /** What the alarm intake needs from this engine (HTTP API, CLI, drills). */
  public intakeDeps(): IntakeDeps {
    return {
      recent: this.recentAlarms,
      doc: this.doc,
      tables: this.tables,
      breakerConfig: this.breakerConfig,
      starter: this,
      machines: this.playbooks,
      now: this.now,
      recordBreakerChanges: (incidentId, changes) => recordBreakerChangesOf(this.coreDeps(), incidentId, changes),
      repeatLane: this.repeatLane,
    };
  }

  public get breakerConfig(): BreakerConfig {
    return this.options.breakerConfig ?? {};
  }

  public get playbooks(): MachineManifest[] {
    return [...this.machines.values()].map((m) => m.manifest);
  }

  /**
   * Runs `work` as the stack's function `fn` (`trigger`, `approvalCallback`, `action:x`...): with
   * the IAM check on, its AWS calls are checked against that function's role.
   */
  public asFunction<T>(fn: string, work: () => T): T {
    return this.iam ? this.iam.runAs(fn, work) : work();
  }

  /** What writing and reading reports needs (the report function's view of the engine). */
  public reportDeps(): ReportDeps {
    return { doc: this.doc, tables: this.tables, reports: this.reports, metrics: this.metrics, catalogue: this.catalogue, knowledge: this.knowledge, now: this.now };
  }

  public coreDeps(): CoreDeps {
    const approvalLinks = this.approvalLinks;
    const guard = !!this.iam;
    return {
      doc: this.doc,
      tables: this.tables,
      playbooks: this.compiled,
      policy: this.policy,
      tasks: guard
        ? {
            succeed: async (token, output) => {
              await authorizeLocal([{ action: 'states:SendTaskSuccess', resource: '*' }], 'SendTaskSuccess');
              this.tokens.succeed(token, output);
            },
            fail: async (token, error, cause) => {
              await authorizeLocal([{ action: 'states:SendTaskFailure', resource: '*' }], 'SendTaskFailure');
              this.tokens.fail(token, error, cause);
            },
          }
        : { succeed: (token, output) => this.tokens.succeed(token, output), fail: (token, error, cause) => this.tokens.fail(token, error, cause) },
      undoConfig: this.options.targets?.config ? (id, actor) => undoConfigChanges(id, { doc: this.doc, tables: this.tables, config: this.options.targets?.config as ConfigOps, now: this.now }, actor) : undefined,
      breakerConfig: this.options.breakerConfig ?? {},
      metrics: guard
        ? {
            series: async (q) => {
              await authorizeLocal([{ action: 'cloudwatch:GetMetricData', resource: '*' }], 'GetMetricData');
              return this.metrics.series(q);
            },
          }
        : this.metrics,
      catalogue: this.catalogue,
      now: this.now,
      reports: this.reports,
      knowledge: this.knowledge,
      notifier: guard && this.notifier ? guardedNotifier(this.notifier) : this.notifier,
      oncall: this.oncall,
      // The investigation reads the same systems as the actions (read-only).
      // Similar past incidents come from this engine's knowledge base unless the caller gives a lookup.
      investigation: { targets: (this.options.targets ?? {}) as NonNullable<InvestigationDeps['targets']>, similarIncidents: this.options.similarIncidents ?? ((query) => this.knowledge.search(query, 3)), ...(this.options.summarizer ? { summarizer: this.options.summarizer } : {}) },
      statusPage: this.statusPage,
      approvalLinks:
        guard && approvalLinks
          ? async (record, person, role) => {
              await authorizeSigningKey();
              return approvalLinks(record, person, role);
            }
          : approvalLinks,
    };
  }

  /** The configured targets, plus the notifier as send_alert's `notify` target unless one is given. */
  private targets(): ActionTargets {
    const given = this.options.targets ?? {};
    const targets = this.iam && given.config ? { ...given, config: guardedConfig(given.config as ConfigOps) } : given;
    if (!this.notifier || targets.notify) return targets;
    const notifier = this.iam ? guardedNotifier(this.notifier) : this.notifier;
    return { ...targets, notify: notifyOpsFor(notifier, { now: this.now, onOutcomes: (n, outcomes) => recordOutcomes(this.coreDeps(), n, outcomes) }) };
  }

  public dispatchDeps(): DispatchDeps {
    return dispatchDepsOf(this.coreDeps(), this.targets(), this.policy);
  }

  /** StartExecution with AWS's name semantics: same name + same input while running is a no-op; otherwise ExecutionAlreadyExists. */
  public async startExecution(req: StartRequest): Promise<StartResult> {
    const entry = this.machines.get(req.playbook);
    if (!entry) throw new LocalEngineError(`no compiled state machine for playbook "${req.playbook}" (run npm run compile)`, req.playbook);
    await authorizeLocal(() => [{ action: 'states:StartExecution', resource: this.iam?.facts.stateMachines.get(req.playbook) ?? `arn:aws:states:local:000000000000:stateMachine:${req.playbook}` }], 'StartExecution');
    const input = JSON.stringify(req.input);
    const existing = this.executions.get(req.name);
    if (existing) return { executionArn: existing.executionArn, alreadyStarted: true };
    const executionArn = `arn:aws:states:local:000000000000:execution:${req.playbook}:${req.name}`;
    let settle!: () => void;
    let quiet!: () => void;
    const exec: LocalExecution = {
      executionArn,
      name: req.name,
      playbook: req.playbook,
      input,
      startDate: this.now().toISOString(),
      status: 'RUNNING',
      done: new Promise<void>((r) => (settle = r)),
      quiet: new Promise<void>((r) => (quiet = r)),
      states: [],
      transitions: 0,
    };
    this.quieten.set(req.name, () => quiet());
    this.executions.set(req.name, exec);
    const run = entry.machine.run(JSON.parse(input), {
      overrides: {
        taskResourceLocalHandlers: this.handlers(entry.asl, exec) as never,
        waitTimeOverrides: entry.waits,
        retryIntervalOverrides: entry.retries,
      },
      // $$.Task.Token is one static value per execution here: each waitForTaskToken handler issues a fresh one.
      // $$.State.EnteredTime likewise: each Task handler puts the time it started in its place.
      context: { Execution: { Id: executionArn, Name: req.name, StartTime: exec.startDate, Input: JSON.parse(input) }, Task: { Token: 'replaced-per-task' }, State: { EnteredTime: STATE_ENTERED_TIME } } as never,
    });
    this.aborts.set(req.name, run.abort);
    // The run's event log queues every event until it is read: read it, and count the transitions.
    void (async () => {
      for await (const event of run.eventLogs) if (event.type === 'StateEntered') exec.transitions += 1;
    })().catch(() => undefined);
    run.result
      .then((output: unknown) => Object.assign(exec, { status: 'SUCCEEDED', output }))
      .catch((err: Error & { name: string }) => {
        const timedOut = /Timeout/.test(err.name) || /timed out/i.test(err.message);
        const aborted = err.name === 'ExecutionAbortedError';
        const status = aborted ? 'ABORTED' : timedOut ? 'TIMED_OUT' : 'FAILED';
        Object.assign(exec, { status, error: { error: err.name, cause: err.message } });
        // What the execution-ended Lambda does in AWS. Only stop() aborts here: the host went
        // away under the playbook, which is a failure to finish, not someone taking over.
        const end: ExecutionEnd = aborted && this.stopping ? { executionName: req.name, status: 'FAILED', error: 'LocalEngineStopped', cause: 'the local engine stopped while the playbook ran' } : { executionName: req.name, status, error: err.name, cause: err.message };
        void this.track(this.asFunction('executionEnded', () => recordExecutionEnded(end, this.coreDeps()))).catch((e: Error) => process.stderr.write(`sre-agent: could not record the end of execution ${req.name}: ${e.message}\n`));
      })
      .finally(() => {
        this.aborts.delete(req.name);
        this.quieten.delete(req.name);
        exec.stopDate = this.now().toISOString();
        settle();
        quiet();
      });
    return { executionArn, alreadyStarted: false };
  }

  /** Maps every Task state to the in-process handler its `${...}` FunctionName names. */
  private handlers(asl: Asl, exec: LocalExecution): Record<string, (input: unknown) => Promise<unknown>> {
    const out: Record<string, (input: unknown) => Promise<unknown>> = {};
    // The Tasks of Parallel branches (the investigation's checks) are looked up by name too.
    const all = (states: Asl['States']): [string, Asl['States'][string]][] =>
      Object.entries(states).flatMap(([n, st]) => [[n, st] as [string, Asl['States'][string]], ...((st.Branches as Asl[] | undefined) ?? []).flatMap((b) => all(b.States))]);
    for (const [name, state] of all(asl.States)) {
      if (state.Type !== 'Task') continue;
      const waits = String(state.Resource).endsWith('.waitForTaskToken');
      const timeoutMs = ((state.TimeoutSeconds as number) ?? 60) * 1000;
      out[name] = async (input: unknown) => {
        const entered = this.now();
        exec.states.push(name);
        // The host hands the Task its resolved Parameters: {FunctionName, Payload}. AWS hands the
        // Lambda only Payload and returns {Payload: result}; unwrap and wrap the same way.
        const { FunctionName, Payload: resolved } = input as { FunctionName: string; Payload: Record<string, unknown> };
        const Payload = withEnteredTime(resolved, entered);
        const key = /^\$\{(\w+)\}$/.exec(FunctionName)?.[1];
        if (!key) throw new LocalEngineError(`state "${name}": FunctionName ${FunctionName} is not a \${...} placeholder`, name);
        if (waits) {
          const { token, result } = this.tokens.issue(timeoutMs, exec.name);
          // The approval record expires with the (sped-up) task timeout, as it does in AWS.
          // The window in the engine clock's seconds: sped-up real seconds, or simulated ones.
          const timeoutSeconds = this.options.simulatedClock ? (timeoutMs * this.speedUp) / 1000 : timeoutMs / 1000;
          await this.track(this.asFunction(functionIdOf(key), () => runCore(key, { ...Payload, taskToken: token, timeout_seconds: timeoutSeconds }, this.coreDeps())));
          return result;
        }
        const result = { Payload: await this.track(this.invoke(key, Payload, exec)) };
        if (name === L4_STATES.report) this.quieten.get(exec.name)?.();
        return result;
      };
    }
    return out;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    if (this.idleTimer) {
      // Between two Tasks of the same run: the agent never stopped working.
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    } else if (this.inFlight.size === 1) this.options.onBusyChange?.(true);
    void work
      .catch(() => undefined)
      .finally(() => {
        this.inFlight.delete(work);
        if (this.inFlight.size > 0 || !this.options.onBusyChange) return;
        // Idle only once no Task follows within the grace: the state transitions between Tasks
        // (Choice, Pass, Parallel branches starting) are the agent's work too, not waiting.
        this.idleTimer = setTimeout(() => {
          this.idleTimer = undefined;
          if (this.inFlight.size === 0) this.options.onBusyChange?.(false);
        }, IDLE_GRACE_MS);
        this.idleTimer.unref?.();
      });
    return work;
  }

  /** Invokes one function by its substitution key, as the Lambda of that name would. */
  public async invoke(key: string, payload: unknown, exec?: LocalExecution): Promise<unknown> {
    return this.asFunction(functionIdOf(key), () => {
      if (key.startsWith('Action_')) {
        const def = ACTIONS[key.slice('Action_'.length)];
        if (!def) throw new LocalEngineError(`no action ${key}`, key);
        if (exec && exec.firstActionAt === undefined) exec.firstActionAt = performance.now();
        if (exec && exec.firstWorkAt === undefined) exec.firstWorkAt = exec.firstActionAt;
        return dispatchAction(def, payload, this.dispatchDeps());
      }
      if (exec && exec.firstWorkAt === undefined && key !== 'Fn_incident') exec.firstWorkAt = performance.now();
      return runCore(key, payload, this.coreDeps());
    });
  }

  /**
   * StopExecution: aborts a running execution of this engine (its waiting approval Tasks fail, so
   * their timers go). Its end is recorded as ABORTED, as the execution-ended Lambda records it in AWS.
   * @throws Error when no execution with that ARN is running here
   */
  public async stopExecution(executionArn: string, cause: string): Promise<void> {
    const exec = [...this.executions.values()].find((e) => e.executionArn === executionArn);
    const abort = exec ? this.aborts.get(exec.name) : undefined;
    if (!exec || !abort) throw new LocalEngineError(`ExecutionDoesNotExist: no running execution ${executionArn} in this engine`, executionArn);
    abort();
    this.tokens.failOwned(exec.name, 'ExecutionAborted', cause);
    await exec.done;
  }

  public sendTaskSuccess(token: string, output: unknown): void {
    this.tokens.succeed(token, output);
  }

  public sendTaskFailure(token: string, error: string, cause: string): void {
    this.tokens.fail(token, error, cause);
  }

  /** Resolves when every execution has ended. */
  public async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  /** Resolves when every execution has ended or only checks recovery at level 4 (see LocalExecution.quiet). */
  public async quiet(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.quiet));
  }

  private readonly quieten = new Map<string, () => void>();
}
