/**
 * An action's Lambda: Powertools logging around the shared dispatcher, with the DynamoDB
 * wiring every action needs and the targets its entry (lambdas/actions/<name>.ts) names, which
 * are exactly those its definition declares in `uses`. Targets are built at the first
 * invocation, once per warm function.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ActionDefinition, ActionTargets, TargetName } from '../actions/define';
import { dispatchAction, type DispatchDeps, type DispatchResult } from '../actions/dispatch';
import type { Policy } from '../policy/policy';
import { actionMetrics, emitAgentMetrics, powertoolsSink } from './agent-metrics';
import { awsCoreDeps } from './aws';
import { bundledConfig } from './bundled-config';
import { dispatchDepsOf } from './dispatch-deps';
import type { TargetFactories } from './targets/types';

/** An action's handler, with what its entry wired (the architecture tests compare it with the definition). */
export interface ActionLambda {
  (event: unknown): Promise<DispatchResult>;
  readonly action: string;
  readonly targets: readonly TargetName[];
}

const built = new Map<string, Promise<ActionTargets>>();

/** Builds the entry's targets in order (a later factory may use an earlier one), once per warm function (also the investigate function's, keyed `investigate`). */
export async function wire(action: string, factories: TargetFactories, env: NodeJS.ProcessEnv, policy: Policy): Promise<ActionTargets> {
  let p = built.get(action);
  if (!p) {
    p = (async () => {
      const wired: Partial<Record<TargetName, unknown>> = {};
      for (const [name, factory] of Object.entries(factories) as [TargetName, NonNullable<TargetFactories[TargetName]>][]) {
        const target = await factory({ env, policy, wired });
        if (target !== undefined) wired[name] = target;
      }
      return wired as ActionTargets;
    })().catch((err: unknown) => {
      // A failed connection is tried again by the next invocation, not cached.
      built.delete(action);
      throw err;
    });
    built.set(action, p);
  }
  return p;
}

/** What the dispatcher needs in a Lambda, with this entry's targets. */
export async function awsDispatchDeps(action: string, factories: TargetFactories, env: NodeJS.ProcessEnv = process.env): Promise<DispatchDeps> {
  const policy = bundledConfig(env).policy();
  return dispatchDepsOf(awsCoreDeps(env), await wire(action, factories, env, policy), policy);
}

/**
 * The Lambda handler of one action with the targets its definition declares.
 * @example export const handler = actionLambda(action, { redis: redisTarget });
 */
export function actionLambda<P>(def: ActionDefinition<P>, factories: TargetFactories): ActionLambda {
  let logger: Logger | undefined;
  const handler = async (event: unknown): Promise<DispatchResult> => {
    logger ??= new Logger({ serviceName: 'sre-agent', persistentKeys: { action: def.name } });
    try {
      const result = await dispatchAction(def as unknown as ActionDefinition<Record<string, unknown>>, event, await awsDispatchDeps(def.name, factories));
      logger.info('action done', { summary: result.summary });
      emitAgentMetrics(powertoolsSink, actionMetrics());
      return result;
    } catch (err) {
      // Thrown on: Step Functions matches the error's name in Retry/Catch.
      logger.error('action failed', err as Error);
      emitAgentMetrics(powertoolsSink, actionMetrics(err));
      throw err;
    }
  };
  return Object.assign(handler, { action: def.name, targets: Object.keys(factories) as TargetName[] });
}

/** Closes the targets of every action wired in this process (tests; a Lambda keeps them for the next invocation). */
export async function closeActionTargets(): Promise<void> {
  const all = await Promise.allSettled([...built.values()]);
  built.clear();
  for (const r of all) {
    if (r.status !== 'fulfilled') continue;
    const t = r.value as { redis?: { quit(): Promise<unknown> }; mysql?: { end(): Promise<void> } };
    await t.redis?.quit();
    await t.mysql?.end();
  }
}
