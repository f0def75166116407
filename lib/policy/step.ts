/**
 * What the policy rules see of a step: its action's facts, how it runs, and its parameters. The
 * compiler builds these from the playbook as written; the runtime guard from the compiled step and
 * the parameters resolved from stored state. Both run the same rules (lib/policy/rules).
 */
import type { SqlAnalysis } from './sql-facts';
import type { Policy } from './policy';
import type { BlacklistCategory, Risk } from './types';

/**
 * What an action does to the world. The safe-default rule reads it: a step that sets neither
 * `auto_execute` nor `requires_approval` runs on its own only for `diagnostic`, `notification`
 * and `ticket` actions.
 */
export type ActionKind = 'diagnostic' | 'notification' | 'ticket' | 'remediation';

/** A system an action works on, as written in the playbook (may hold `{{templates}}`) or resolved. */
export interface TargetRef {
  /** `service` for a Kubernetes deployment/service, `endpoint` for an HTTP admin call, etc. */
  readonly kind: 'service' | 'endpoint' | 'database' | 'cache' | 'cluster';
  readonly name: string;
}

/** Policy cap names that hold a factor's floor or ceiling. */
export type FactorCap = 'min_scale_factor' | 'max_scale_factor' | 'min_memory_factor' | 'max_memory_factor' | 'min_parameter_factor' | 'max_parameter_factor';

/**
 * How an expression parameter may scale the value the action reads (`new_max: current_max * 2`):
 * the factor (result ÷ `local`) must lie within the policy's `floor` and `ceiling` caps.
 */
export interface BoundSpec {
  /** The local the action reads and the expression scales (`current_max`). */
  readonly local: string;
  readonly floor: FactorCap;
  readonly ceiling: FactorCap;
}

/** What an action's parameters mean to the rules: which hold SQL, endpoints, flags, config keys. */
export interface ParameterRoles {
  /** Parameters holding one SQL statement each (read-only, tables not blacklisted). */
  readonly sql?: readonly string[];
  /** A `KILL {column}` follow-up run on the rows the `query` parameter selects. */
  readonly killFollowUp?: { readonly param: string; readonly query: string };
  /**
   * The SQL parser the rules read `sql` and `killFollowUp` parameters with (lib/policy/sql.ts:
   * SQL_ANALYSIS). Declared by the action that takes SQL, so only its bundle carries the parser;
   * without it a step's SQL cannot be checked and is refused.
   */
  readonly sqlAnalysis?: SqlAnalysis;
  /** Parameters holding an admin endpoint to call (allow-list, normalised URL, query held against the blacklist). */
  readonly endpoints?: readonly string[];
  /** Parameters holding the body of the request to that endpoint: its keys and strings are held against the blacklist. */
  readonly bodies?: readonly string[];
  /** Parameters holding lists of feature flags turned off / on (degradable features only). */
  readonly flagsOff?: readonly string[];
  readonly flagsOn?: readonly string[];
  /** Configuration keys the parameters write. */
  configKeys?(params: Readonly<Record<string, unknown>>): string[];
}

/** The registry entry of an action, as far as the policy is concerned (lib/actions' definitions satisfy it). */
export interface ActionFacts {
  readonly name: string;
  readonly kind: ActionKind;
  /** True when the action changes any system. */
  readonly mutates: boolean;
  /** Set when every use of this action is a §3.1 blacklisted operation: it is never executed. */
  readonly blacklist?: BlacklistCategory;
  readonly defaultRisk: Risk;
  readonly roles?: ParameterRoles;
  /** Expression parameters and how far they may scale what the action reads. */
  readonly bounds?: Readonly<Record<string, BoundSpec>>;
  /** Systems these parameters target. */
  targets?(params: any): TargetRef[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Cap violations (one message each), empty when within caps. */
  checkCaps?(params: any, policy: Policy): string[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The factor range an expression can produce over its local, derived at compile time. */
export interface FactorBound {
  /** The parameter holding the expression. */
  readonly param: string;
  /** Where inside the parameter, for a `{{template}}` inside a longer string. */
  readonly path?: readonly (string | number)[];
  readonly expression: string;
  readonly local: string;
  readonly min: number;
  readonly max: number;
  /** Why no range could be derived (the expression is not a scaling of `local`). */
  readonly reason?: string;
}

/** What is known about one step when the rules run. */
export interface StepFacts {
  readonly name: string;
  readonly action: ActionFacts;
  readonly mode: 'auto' | 'approval';
  readonly risk: Risk;
  readonly approvers: readonly string[];
  /** How many distinct approver roles must approve. @default every role in `approvers` */
  readonly minApprovals?: number;
  /** The service of the incident (run time) or the playbook's `service:` (compile time), if any. */
  readonly service?: string;
  /** Compile time: as written (`{{templates}}` unresolved). Run time: resolved from stored state. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Factor ranges of the step's bounded expressions (compile time). */
  readonly bounds?: readonly FactorBound[];
  /** What the playbook wrote, for the compile-only rules. */
  readonly written?: {
    readonly autoExecute?: boolean;
    readonly requiresApproval?: boolean;
    readonly risk?: Risk;
    readonly approvers?: boolean;
    readonly approvalMessage?: boolean;
  };
}

/** True when a value still holds a `{{template}}` (compile time: not known until run time). */
export function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && value.includes('{{');
}

/** The strings of a parameter value: itself, or the members of a list. */
export function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
