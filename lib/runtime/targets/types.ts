/**
 * How an action's Lambda entry wires its targets: one factory per target name, each importing
 * only its own client, so a bundle carries the clients its action declares and no others.
 */
import type { TargetName } from '../../actions/define';
import type { Policy } from '../../policy/policy';

/** What a target factory reads: the function's environment, the policy it runs under, and the targets wired before it. */
export interface TargetWiring {
  readonly env: NodeJS.ProcessEnv;
  readonly policy: Policy;
  /** Targets already wired for this function, by name (check_certificates' sources read the cluster's TLS secrets). */
  readonly wired: Readonly<Partial<Record<TargetName, unknown>>>;
}

/**
 * Builds one target, once per warm function. Undefined means "not configured here": the action
 * then fails with TargetNotConfiguredError, never a silent success.
 */
export type TargetFactory = (wiring: TargetWiring) => Promise<unknown>;

/** The factories an action entry wires, by target name. */
export type TargetFactories = Readonly<Partial<Record<TargetName, TargetFactory>>>;
