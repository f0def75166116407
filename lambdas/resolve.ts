/**
 * resolve Lambda: a person resolves an incident by hand in AWS (what `sre-agent resolve` does
 * locally). Invoked directly (`aws lambda invoke`, payload `{"incidentId", "person", "reason"}`) by
 * someone allowed lambda:InvokeFunction on it: the incident becomes RESOLVED with their name, its
 * open approvals are CANCELLED and its execution is stopped with StopExecution, so nothing acts
 * on it any more. Wiring only; the logic is lib/runtime/core/resolve.ts (resolveIncidentByHand).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { awsCoreDeps } from '../lib/runtime/aws';
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { resolveIncidentByHand } from '../lib/runtime/core/resolve';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'resolve' } });
const sfn = new SFNClient({});

export async function handler(event: unknown): Promise<unknown> {
  try {
    const result = await resolveIncidentByHand(event, awsCoreDeps(process.env, { reporting: reportingFromEnvironment }), (executionArn, cause) => sfn.send(new StopExecutionCommand({ executionArn, error: 'ResolvedByHand', cause: cause.slice(0, 32768) })));
    logger.info('resolved by hand', { ...result });
    return result;
  } catch (err) {
    logger.error('hand resolve refused or failed', err as Error);
    throw err;
  }
}
