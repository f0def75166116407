/**
 * The reconcile Lambda (every 5 minutes in AWS) on dynalite, with Step Functions' DescribeExecution
 * mocked at the SDK boundary (aws-sdk-client-mock, the documented response shapes), run under the
 * IAM check as its synthesized role: incidents whose execution is no longer RUNNING get what
 * execution-ended would have done, and PENDING approvals past their expiry become EXPIRED.
 */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { findApprovalForStep, requestApproval } from '../../lib/approval/store';
import { getIncident, openOrJoinIncident } from '../../lib/incident';
import { allowedResources, checkedFake } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';
import { startedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
const sfn = mockClient(SFNClient);
// No notifier credentials stored: the escalations' pages fail, and their timelines say so.
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).callsFake(
  checkedFake(SecretsManagerClient, GetSecretValueCommand, () => {
    throw new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} });
  }),
);
const lambda = lambdaHarness({
  beforeStop: () => {
    sfn.restore();
    secrets.restore();
  },
});

describe('reconcile Lambda', () => {
  it('fails, escalates or leaves each incident as its execution says, and expires late approvals', async () => {
    // GIVEN incidents whose executions are RUNNING, FAILED, ABORTED, unknown, and one never started
    const playbook = 'redis-memory-pressure';
    const running = await startedIncident(lambda.dynamo.doc, tables, { playbook, service: 'rc-running' });
    const failed = await startedIncident(lambda.dynamo.doc, tables, { playbook, service: 'rc-failed' });
    const aborted = await startedIncident(lambda.dynamo.doc, tables, { playbook, service: 'rc-aborted' });
    const missing = await startedIncident(lambda.dynamo.doc, tables, { playbook, service: 'rc-missing' });
    const old = new Date(Date.now() - 20 * 60_000);
    const neverStarted = (await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook, service: 'rc-never', severity: 'MEDIUM', alarm: { name: 'a' }, detectedAt: old, anomalyStartedAt: old })).incident;
    const late = await requestApproval(lambda.dynamo.doc, tables, { incidentId: running.incident.id, step: 'scale_redis_cluster', action: 'elasticache_modify', level: 4, approvers: ['oncall_sre'], minApprovals: 1, taskToken: 't', timeoutSeconds: 1, totalSeconds: 1, binding: { action: 'elasticache_modify', paramsHash: 'c'.repeat(64), target: 'cache:redis' }, params: {} }, new Date(Date.now() - 60_000));
    const status: Record<string, string> = { [running.executionArn]: 'RUNNING', [failed.executionArn]: 'FAILED', [aborted.executionArn]: 'ABORTED' };
    sfn.on(DescribeExecutionCommand).callsFake(
      checkedFake(SFNClient, DescribeExecutionCommand, (input: { executionArn: string }) => {
        if (input.executionArn === missing.executionArn) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${input.executionArn}'`, $metadata: {} });
        return { executionArn: input.executionArn, status: status[input.executionArn] ?? 'RUNNING', startDate: new Date(), stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:redis-memory-pressure' };
      }),
    );
    // WHEN the function runs as itself
    const { handler } = await import('../../lambdas/reconcile');
    const report = (await lambda.check.runAs('reconcile', () => handler())) as { escalated: string[]; failed: string[]; approvalsClosed: string[] };
    // THEN
    const statusOf = async (id: string) => (await getIncident(lambda.dynamo.doc, tables, id)).status;
    expect(await statusOf(running.incident.id)).toBe('MITIGATING');
    expect(await statusOf(failed.incident.id)).toBe('FAILED');
    expect(await statusOf(aborted.incident.id)).toBe('ESCALATED');
    expect(await statusOf(missing.incident.id)).toBe('ESCALATED');
    expect(await statusOf(neverStarted.id)).toBe('ESCALATED');
    expect(report.failed).toEqual([failed.incident.id]);
    expect(report.escalated.sort()).toEqual([aborted.incident.id, missing.incident.id, neverStarted.id].sort());
    expect(report.approvalsClosed).toEqual([late.approvalId]);
    expect(await findApprovalForStep(lambda.dynamo.doc, tables, running.incident.id, 'scale_redis_cluster')).toMatchObject({ status: 'EXPIRED' });
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn).sort()).toEqual([running, failed, aborted, missing].map((i) => i.executionArn).sort());
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'reconcile', 'states:DescribeExecution').sort()).toEqual([running, failed, aborted, missing].map((i) => i.executionArn).sort());
    // The escalations paged the on-call SRE: the function may read the notifier's secrets.
    expect(allowedResources(lambda.check, 'reconcile', 'secretsmanager:GetSecretValue')).toContain('arn:aws:secretsmanager:us-east-1:123456789012:secret:sre-agent/pagerduty-routing-key-AbCdEf');
  });
});
