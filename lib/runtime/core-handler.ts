/** A core Lambda's handler: Powertools logging around `runCore` for one function key. */
import { Logger } from '@aws-lambda-powertools/logger';
import { awsCoreDeps } from './aws';
import { coreMetrics, emitAgentMetrics, powertoolsSink } from './agent-metrics';
import { runCore } from './core';

export function coreHandler(fn: string): (event: unknown) => Promise<unknown> {
  const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: fn } });
  return async (event) => {
    const op = (event as { op?: string } | null)?.op;
    try {
      const result = await runCore(fn, event, awsCoreDeps());
      emitAgentMetrics(powertoolsSink, coreMetrics(fn, op, result));
      return result;
    } catch (err) {
      logger.error(`${fn} ${op ?? '(no op)'} failed`, err as Error);
      throw err;
    }
  };
}
