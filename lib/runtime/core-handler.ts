/** A core Lambda's handler: Powertools logging around one core function's operations (its lib/runtime/core/ module only). */
import { Logger } from '@aws-lambda-powertools/logger';
import { awsCoreDeps, type AwsWiring } from './aws';
import { coreMetrics, emitAgentMetrics, powertoolsSink } from './agent-metrics';
import type { CoreOps } from './core/deps';
import { runCoreOp } from './core/ops';

/** @example export const handler = coreHandler('Fn_report', REPORT_OPS, { reporting: reportingFromEnvironment }); */
export function coreHandler(fn: string, ops: CoreOps, wiring: AwsWiring = {}): (event: unknown) => Promise<unknown> {
  // Created when first needed (it logs failures only), not at import: no work at cold start.
  let logger: Logger | undefined;
  return async (event) => {
    const op = (event as { op?: string } | null)?.op;
    try {
      const result = await runCoreOp(fn, ops, event, awsCoreDeps(process.env, wiring));
      emitAgentMetrics(powertoolsSink, coreMetrics(fn, op, result));
      return result;
    } catch (err) {
      logger ??= new Logger({ serviceName: 'sre-agent', persistentKeys: { function: fn } });
      logger.error(`${fn} ${op ?? '(no op)'} failed`, err as Error);
      throw err;
    }
  };
}
