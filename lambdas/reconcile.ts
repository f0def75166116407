/**
 * reconcile Lambda (every 5 minutes): incidents whose execution is no longer RUNNING get what the
 * execution-ended function would have done (its event can be lost), and PENDING approvals past
 * their expiry become EXPIRED. Wiring only; the logic is lib/runtime/reconcile.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { awsCoreDeps } from '../lib/runtime/aws';
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { reconcileExecutions, type ExecutionLookup } from '../lib/runtime/reconcile';
import { lazyClient } from '../lib/runtime/lazy-sdk';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'reconcile' } });
// Loaded at the first DescribeExecution (a run with no incident to reconcile makes none).
const sfn = lazyClient<SFNClient>(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}));

const describe: ExecutionLookup = async (executionArn) => {
  const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  try {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return (out.status ?? 'missing') as Awaited<ReturnType<ExecutionLookup>>;
  } catch (err) {
    if ((err as { name?: unknown }).name === 'ExecutionDoesNotExist') return 'missing';
    throw err;
  }
};

export async function handler(): Promise<unknown> {
  const report = await reconcileExecutions(awsCoreDeps(process.env, { reporting: reportingFromEnvironment }), { describe });
  logger.info('reconciled', { ...report });
  return report;
}
