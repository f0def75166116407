/**
 * An action's Lambda handler: Powertools logging around the shared dispatcher. Each action file
 * exports `handler = actionHandler(action)`, and the stack points that action's function at its
 * own file, so each bundle carries only the dependencies of its action. An action whose target
 * needs a heavy client (Kubernetes) names a lazy factory for it here, from its own file, so the
 * client lands in its bundle only. Nothing is loaded until the first invocation: importing the
 * registry (the compiler, the CLI, tests) creates no logger and pulls in no AWS client or driver.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ActionDefinition } from './define';
import { dispatchAction, type DispatchResult } from './dispatch';

/** Targets an action's own entry adds to the shared ones: name → a factory run once per warm function (undefined: not configured). */
export type TargetFactories = Readonly<Record<string, () => Promise<unknown>>>;

export function actionHandler<P>(def: ActionDefinition<P>, targets?: TargetFactories): (event: unknown) => Promise<DispatchResult> {
  let logger: Logger | undefined;
  return async (event) => {
    const [{ awsDispatchDeps }, { Logger: PowertoolsLogger }] = await Promise.all([import('../runtime/aws'), import('@aws-lambda-powertools/logger')]);
    logger ??= new PowertoolsLogger({ serviceName: 'sre-agent', persistentKeys: { action: def.name } });
    try {
      const result = await dispatchAction(def as unknown as ActionDefinition<Record<string, unknown>>, event, await awsDispatchDeps(process.env, targets));
      logger.info('action done', { summary: result.summary });
      return result;
    } catch (err) {
      // Thrown on: Step Functions matches the error's name in Retry/Catch.
      logger.error('action failed', err as Error);
      throw err;
    }
  };
}
