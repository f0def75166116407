/**
 * reconcile Lambda (every 5 minutes): incidents whose execution is no longer RUNNING get what the
 * execution-ended function would have done (its event can be lost), and PENDING approvals past
 * their expiry become EXPIRED. Wiring only; the logic is lib/runtime/reconcile.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { awsCoreDeps } from '../lib/runtime/aws';
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { reconcileExecutions, type ExecutionLookup } from '../lib/runtime/reconcile';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'reconcile' } });
const sfn = new SFNClient({});

const describe: ExecutionLookup = async (executionArn) => {
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return (out.status ?? 'missing') as Awaited<ReturnType<ExecutionLookup>>;
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist) return 'missing';
    throw err;
  }
};

export async function handler(): Promise<unknown> {
  const report = await reconcileExecutions(awsCoreDeps(process.env, { reporting: reportingFromEnvironment }), { describe });
  logger.info('reconciled', { ...report });
  return report;
}
