/**
 * What `npm run compile` writes beside the state machines (statemachines/index.json), and the
 * names of the `${...}` placeholders in the ASL. The CDK stack reads both: one source of truth.
 * Every function bundles the manifest too: its compiled steps are what the runtime guard
 * enforces, pinned by each playbook's content hash.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ActionKind, FactorBound, Risk, TargetRef } from '../policy';

/** Core functions every compiled machine may call, by DefinitionSubstitutions key. */
export const CORE_FUNCTIONS = {
  evaluate: 'Fn_evaluate',
  breaker: 'Fn_breaker',
  approvalRequest: 'Fn_approval_request',
  escalate: 'Fn_escalate',
  incident: 'Fn_incident',
  report: 'Fn_report',
  investigate: 'Fn_investigate',
} as const;
export type CoreFunction = keyof typeof CORE_FUNCTIONS;

/** DefinitionSubstitutions key of an action's Lambda: `Action_patch_hpa_max`. */
export function actionFunctionKey(action: string): string {
  return `Action_${action}`;
}

/** A detection rule as the playbook writes it: an expression, or a one-key map (`log_pattern: "..."`). */
export type DetectionRuleAsWritten = string | Readonly<Record<string, string | number>>;

export type MachineTrigger =
  | {
      readonly type: 'alarm';
      /**
       * Alarm names that start `sre-agent/<playbook>/<service>/` trigger this machine (the
       * trigger Lambda parses the service from the name).
       */
      readonly alarmNamePrefix: string;
      /** Service used when an alarm names none. */
      readonly defaultService?: string;
      /** Detection metrics that get a CloudWatch alarm in the stack. */
      readonly metrics: readonly { readonly metric: string; readonly threshold: string; readonly source: string }[];
      /** The playbook's detection rules as written: the stack makes one alarm per rule and service (lib/metrics/detection.ts). */
      readonly detection?: { readonly primary: readonly DetectionRuleAsWritten[]; readonly secondary?: readonly DetectionRuleAsWritten[] };
      /** The playbook's `variables:` (name → catalogue metric) the rules may use. */
      readonly variables?: Readonly<Record<string, string>>;
    }
  | { readonly type: 'schedule'; readonly expression: string };

/**
 * One step as compiled: what the runtime guard requires of it, whatever an invocation payload
 * says. Parameters are as written (templates unresolved); the guard resolves them from stored state.
 */
export interface CompiledStep {
  readonly name: string;
  readonly action: string;
  /** The action's kind and whether it mutates (the breakers' accounting reads them). */
  readonly kind: ActionKind;
  readonly mutates: boolean;
  readonly mode: 'auto' | 'approval';
  readonly risk: Risk;
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly params: Readonly<Record<string, unknown>>;
  /** Parameters whose whole string is an expression, and the locals each offers (for resolving). */
  readonly expressionParams: readonly string[];
  readonly locals: Readonly<Record<string, readonly string[]>>;
  /** What the step works on, as written (templates rendered at run time for approvals). */
  readonly targets: readonly TargetRef[];
  /** Factor ranges of its scaling expressions (the runtime checks each result against them). */
  readonly bounds: readonly FactorBound[];
  readonly onFail: 'skip' | 'abort';
  readonly timeoutSeconds: number;
  /**
   * The step's condition as written (`consumers_healthy and lag_increasing`): what `Fn_evaluate`
   * evaluates, whatever condition text an invocation payload carries (one that differs is refused).
   */
  readonly condition?: string;
  /** For a condition `... after <step>`: that earlier step (its metrics must show data newer than its end). */
  readonly afterStep?: string;
  readonly approvalMessage?: string;
  readonly note?: string;
}

/**
 * The read-only checks of the investigation (issue 13), one per kind; each runs in its own branch
 * of the machine's `Investigate` Parallel state (lib/analysis/checks.ts implements them).
 */
export const INVESTIGATION_CHECK_KINDS = [
  'recent_deploys',
  'anomaly_metric',
  'traffic_vs_cpu',
  'pair_distribution',
  'capacity',
  'resources',
  'dependencies',
  'traffic',
  'db_connections',
  'redis_memory',
  'kafka_lag',
  'pod_health',
  'certificates',
] as const;
export type InvestigationCheckKind = (typeof INVESTIGATION_CHECK_KINDS)[number];

/** A threshold of the anomaly metric: a number in base units, or a factor of another metric (`max_connections * 0.8`). */
export interface ThresholdSpec {
  readonly value?: number;
  readonly factor?: number;
  /** The catalogue metric the factor applies to. */
  readonly of?: string;
  /** The rule or condition it comes from, as written. */
  readonly source: string;
}

/** One check as compiled: what it reads is decided here, never by an invocation payload. */
export interface InvestigationCheckSpec {
  /** Unique in the machine; the branch's state is `Investigate: <name>`. */
  readonly name: string;
  readonly kind: InvestigationCheckKind;
  /** Services whose deployments it reads (recent_deploys, capacity, pod_health). */
  readonly services?: readonly string[];
  /** Catalogue metrics it reads (resources, dependencies, traffic, anomaly_metric, traffic_vs_cpu). */
  readonly metrics?: readonly string[];
  /** Trading pairs (pair_distribution). */
  readonly pairs?: readonly string[];
  /** Look-back window in seconds. */
  readonly windowSeconds?: number;
  /** Thresholds of the anomaly metric (anomaly_metric), from the detection rules and step conditions. */
  readonly thresholds?: readonly ThresholdSpec[];
  /** The playbook's question this check answers, as written (scenario 1's 分析维度). */
  readonly question?: string;
  /** The check's TimeoutSeconds. */
  readonly timeoutSeconds: number;
}

export interface MachineManifest {
  readonly playbook: string;
  /** sha256 of the playbook's canonical content: incidents record it, the guard compares it. */
  readonly hash: string;
  /** The playbook's `service:` (scheduled runs and alarms that name none use it). */
  readonly service?: string;
  /** The compiled steps, in order. */
  readonly steps: readonly CompiledStep[];
  /** How long each escalation level waits for an approval, in seconds (the approval Tasks' TimeoutSeconds). */
  readonly escalationSeconds: { readonly oncall_sre: number; readonly team_lead: number; readonly director: number };
  /** Path of the ASL file relative to the repository root. */
  readonly file: string;
  readonly source: string;
  readonly risk: string;
  readonly trigger: MachineTrigger;
  /** Actions the machine invokes (each gets one Lambda). */
  readonly actions: readonly string[];
  /** Every `${key}` placeholder in the ASL. */
  readonly substitutions: readonly string[];
  /** The machine's overall TimeoutSeconds. */
  readonly timeoutSeconds: number;
  /** The investigation run when the incident opens: its checks (in parallel) and overall bound. */
  readonly investigation?: { readonly checks: readonly InvestigationCheckSpec[]; readonly timeoutSeconds: number };
  /** State transitions on the full-remediation path and on the quiet path (every condition false). */
  readonly transitions: { readonly fullPath: number; readonly quietPath: number };
}

export interface Manifest {
  readonly generated: string;
  readonly machines: readonly MachineManifest[];
}

/** The compiled playbooks a function was deployed with, by name. */
export interface CompiledPlaybooks {
  get(playbook: string): MachineManifest | undefined;
  step(playbook: string, step: string): CompiledStep | undefined;
  readonly all: readonly MachineManifest[];
}

export function compiledPlaybooks(manifest: Manifest): CompiledPlaybooks {
  const byName = new Map(manifest.machines.map((m) => [m.playbook, m]));
  const steps = new Map(manifest.machines.map((m) => [m.playbook, new Map((m.steps ?? []).map((s) => [s.name, s]))]));
  return {
    all: manifest.machines,
    get: (playbook) => byName.get(playbook),
    step: (playbook, step) => steps.get(playbook)?.get(step),
  };
}

/**
 * Where a function finds the manifest: `$SRE_AGENT_CONFIG_DIR/index.json` in a Lambda bundle,
 * else statemachines/index.json in the repository.
 */
export const DEFAULT_MANIFEST_FILE = process.env.SRE_AGENT_CONFIG_DIR
  ? path.join(process.env.SRE_AGENT_CONFIG_DIR, 'index.json')
  : path.resolve(__dirname, '../../statemachines/index.json');

/** An unreadable or malformed manifest: the function cannot know what it may do. */
export class ManifestError extends Error {
  public constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`compiled playbook manifest ${file}: ${reason}`, options);
    this.name = 'ManifestError';
  }
}

const loaded = new Map<string, CompiledPlaybooks>();

/** Reads the manifest once per process. @throws ManifestError */
export function loadCompiledPlaybooks(file: string = DEFAULT_MANIFEST_FILE): CompiledPlaybooks {
  const hit = loaded.get(file);
  if (hit) return hit;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (err) {
    throw new ManifestError(file, (err as Error).message, { cause: err });
  }
  if (!Array.isArray(manifest.machines)) throw new ManifestError(file, 'no "machines" list (run npm run compile)');
  const playbooks = compiledPlaybooks(manifest);
  loaded.set(file, playbooks);
  return playbooks;
}
