/**
 * resolve Lambda: a person resolves an incident by hand in AWS (what `sre-agent resolve` does
 * locally). Invoked directly (`aws lambda invoke`, payload `{"incidentId", "person", "reason"}`) by
 * someone allowed lambda:InvokeFunction on it: the incident becomes RESOLVED with their name, its
 * open approvals are CANCELLED and its execution is stopped with StopExecution, so nothing acts
 * on it any more. Wiring only; the logic is lib/runtime/core/resolve.ts (resolveIncidentByHand).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { awsCoreDeps } from '../lib/runtime/aws';
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { resolveIncidentByHand } from '../lib/runtime/core/resolve';
import { lazyClient } from '../lib/runtime/lazy-sdk';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'resolve' } });
// Loaded at the first StopExecution (an incident without a running execution needs none).
const sfn = lazyClient<SFNClient>(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}));

async function stopExecution(executionArn: string, cause: string): Promise<unknown> {
  const { StopExecutionCommand } = await import('@aws-sdk/client-sfn');
  return sfn.send(new StopExecutionCommand({ executionArn, error: 'ResolvedByHand', cause: cause.slice(0, 32768) }));
}

export async function handler(event: unknown): Promise<unknown> {
  try {
    const result = await resolveIncidentByHand(event, awsCoreDeps(process.env, { reporting: reportingFromEnvironment }), stopExecution);
    logger.info('resolved by hand', { ...result });
    return result;
  } catch (err) {
    logger.error('hand resolve refused or failed', err as Error);
    throw err;
  }
}
