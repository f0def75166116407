/**
 * execution-ended Lambda: EventBridge "Step Functions Execution Status Change" (FAILED, TIMED_OUT,
 * ABORTED) of the playbook machines → the incident nothing works on any more becomes FAILED, or
 * ESCALATED when someone stopped the execution. Wiring only; the logic is recordExecutionEnded
 * in lib/runtime/core/execution-ended.ts, which the local engine calls too.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { EventBridgeEvent } from 'aws-lambda';
import { awsCoreDeps } from '../lib/runtime/aws';
import { reportingFromEnvironment } from '../lib/runtime/aws-reporting';
import { recordExecutionEnded } from '../lib/runtime/core/execution-ended';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'execution-ended' } });

interface ExecutionStatusChange {
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly error?: string | null;
  readonly cause?: string | null;
}

export async function handler(event: EventBridgeEvent<'Step Functions Execution Status Change', ExecutionStatusChange>): Promise<unknown> {
  const { name, status, error, cause, executionArn } = event.detail;
  try {
    const result = await recordExecutionEnded({ executionName: name, status, error, cause }, awsCoreDeps(process.env, { reporting: reportingFromEnvironment }));
    logger.info('execution end recorded', { executionArn, status, ...result });
    return result;
  } catch (err) {
    logger.error('could not record the end of an execution', { executionArn, status, error: err as Error });
    throw err;
  }
}
