/**
 * The action registry's one shape. Each lib/actions/<name>.ts exports `defineAction({...})`:
 * its parameter schema, whether it mutates, the blacklist category it touches, its default risk,
 * the IAM actions it needs, and its implementation. The loader, compiler, runtime guard, CDK
 * stack and docs all read these definitions.
 */
import type * as z from '../yaml/zod';
import type { ActionKind, BoundSpec, ParameterRoles, TargetRef } from '../policy/step';
import type { BlacklistCategory, Risk } from '../policy/types';
import type { Policy } from '../policy/policy';

export type { ActionKind, TargetRef } from '../policy/step';

/**
 * The systems an action may reach, one name each: its definition's `uses` lists the ones it
 * needs, the thin Lambda entry (lambdas/actions/<name>.ts) wires exactly those, and the
 * dispatcher hands the action no other.
 */
export const TARGET_NAMES = ['redis', 'mysql', 'rds', 'elasticache', 'kafka', 'kube', 'config', 'http', 'certificates', 'tickets', 'notify'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** Clients for real systems. A missing one means "target not configured" (a failed step). */
export interface ActionTargets {
  /** One Redis server, or a cluster (every master is acted on): lib/actions/redis/nodes.ts. */
  readonly redis?: import('./redis/nodes').RedisTarget;
  readonly mysql?: import('mysql2/promise').Pool;
  /** Further clients (Kubernetes, ElastiCache, RDS, notifiers...) join here as they land. */
  readonly [other: string]: unknown;
}

/** Everything an action's `run` gets besides its parameters. */
export interface ActionContext {
  readonly incidentId: string;
  readonly step: string;
  readonly service?: string;
  readonly targets: ActionTargets;
  readonly policy: Policy;
  /**
   * Resolves a raw parameter value (a `{{template}}` string or an expression such as
   * `current_max * 2`) against the execution's variables plus `locals` the action read itself.
   * With `param` naming a bounded parameter (the definition's `bounds`), the result is checked
   * against its compiled factor range and the policy's floor and ceiling; a PolicyViolationError
   * is thrown before the action can use a value outside them.
   */
  resolve(value: unknown, locals?: Record<string, unknown>, param?: string): unknown;
  /**
   * The value recorded under `key` for this step of this incident by its first attempt, or, on
   * the first attempt, `compute()`'s value, recorded before it is returned. A retried step works
   * from what its first attempt read, so a retried "double the replicas" doubles once.
   */
  remember<T>(key: string, compute: () => Promise<T>): Promise<T>;
  now(): Date;
  /**
   * The time this step may take, in seconds: the compiled step's `timeout` (its Task's
   * TimeoutSeconds), never more than the action's own (its Lambda's). Waits inside the action
   * (rollouts, exec) end before it, so the step reports what happened instead of States.Timeout.
   */
  readonly timeoutSeconds: number;
}

/** What an action returns: recorded in the timeline and merged into the execution context. */
export interface ActionResult {
  /** One line for the timeline, e.g. "killed 12 idle connections (cap 50)". */
  readonly summary: string;
  /** State before and after, for every mutating action. */
  readonly before?: unknown;
  readonly after?: unknown;
  /** Variables published to later steps (must be listed in the definition's `outputs`). */
  readonly outputs?: Record<string, unknown>;
}

export interface ActionSpec<P> {
  /** Must equal the module's file name (lib/actions/<name>.ts); a test checks it. */
  readonly name: string;
  readonly description: string;
  readonly kind: ActionKind;
  /** True when the action changes any system. Read-only diagnostics and notifications are false. */
  readonly mutates: boolean;
  /** Set when every use of this action is a §3.1 blacklisted operation: it is never executed. */
  readonly blacklist?: BlacklistCategory;
  readonly defaultRisk: Risk;
  /** What the parameters mean to the policy rules (SQL, endpoints, flags, config keys). */
  readonly roles?: ParameterRoles;
  /** Expression parameters that scale what the action reads, and the policy caps bounding them. */
  readonly bounds?: Readonly<Record<string, BoundSpec>>;
  /** Schema of the parameters as written in the playbook (expressions are still strings). */
  readonly params: z.ZodMiniType<P>;
  /** Parameters whose whole string is an expression (`current_max * 2`), not a literal. */
  readonly expressionParams?: readonly string[];
  /** Variables an action reads itself and offers to a parameter's expressions, e.g. `{ new_max: ['current_max'] }`. */
  readonly locals?: Readonly<Record<string, readonly string[]>>;
  /** Variables this action publishes to later steps' conditions and templates. */
  readonly outputs: readonly string[];
  /** IAM actions the action's Lambda role needs (least privilege). */
  readonly iamActions: readonly string[];
  /**
   * The targets `run` reaches (`ctx.targets.<name>`). The action's Lambda entry wires these and
   * no others, so its bundle carries only their clients; the dispatcher hides every other target.
   */
  readonly uses: readonly TargetName[];
  /**
   * Upper bound of one invocation; becomes the Task's TimeoutSeconds.
   * @default 60
   */
  readonly timeoutSeconds?: number;
  /** Systems these parameters target, for the matching-engine rule and the plan. */
  targets?(params: P): TargetRef[];
  /** Cap violations (e.g. `max_kills` over the ceiling), one message each; empty when within caps. */
  checkCaps?(params: P, policy: Policy): string[];
  run(params: P, ctx: ActionContext): Promise<ActionResult>;
}

export interface ActionDefinition<P = Record<string, unknown>> extends ActionSpec<P> {
  readonly timeoutSeconds: number;
}

/** Declares an action. Keeps the spec as written and fills documented defaults. */
export function defineAction<P>(spec: ActionSpec<P>): ActionDefinition<P> {
  return { ...spec, timeoutSeconds: spec.timeoutSeconds ?? 60 };
}
