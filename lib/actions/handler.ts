/**
 * An action's Lambda handler: Powertools logging around the shared dispatcher. Each action file
 * exports `handler = actionHandler(action)`, and the stack points that action's function at its
 * own file, so each bundle carries only the dependencies of its action. Nothing is loaded until
 * the first invocation: importing the registry (the compiler, the CLI, tests) creates no logger
 * and pulls in no AWS client or database driver.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ActionDefinition } from './define';
import { dispatchAction, type DispatchResult } from './dispatch';

export function actionHandler<P>(def: ActionDefinition<P>): (event: unknown) => Promise<DispatchResult> {
  let logger: Logger | undefined;
  return async (event) => {
    const [{ awsDispatchDeps }, { Logger: PowertoolsLogger }] = await Promise.all([import('../runtime/aws'), import('@aws-lambda-powertools/logger')]);
    logger ??= new PowertoolsLogger({ serviceName: 'sre-agent', persistentKeys: { action: def.name } });
    try {
      const result = await dispatchAction(def as unknown as ActionDefinition<Record<string, unknown>>, event, await awsDispatchDeps());
      logger.info('action done', { summary: result.summary });
      return result;
    } catch (err) {
      // Thrown on: Step Functions matches the error's name in Retry/Catch.
      logger.error('action failed', err as Error);
      throw err;
    }
  };
}
