/**
 * The resolve Lambda (a person's hand resolve in AWS) on dynalite, with Step Functions mocked at
 * the SDK boundary (aws-sdk-client-mock), run under the IAM check as its synthesized role: the
 * incident becomes RESOLVED with the person's name, its approvals CANCELLED, its execution
 * stopped with StopExecution, and the role may stop only the executions of this stack's machines.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { findApprovalForStep, requestApproval } from '../../lib/approval/store';
import { attachExecution, getIncident, getTimeline, openOrJoinIncident } from '../../lib/incident';
import { checkedFake, LAMBDA_TEST_ACCOUNT, LAMBDA_TEST_REGION } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';
import { startedIncident } from '../helpers/started-incident';

const tables = LAMBDA_TEST_TABLES;
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);
const lambda = lambdaHarness({
  afterStart: () => {
    sns.on(PublishCommand).callsFake(checkedFake(SNSClient, PublishCommand, () => ({ MessageId: 'm-1' })));
    secrets.on(GetSecretValueCommand).callsFake(
      checkedFake(SecretsManagerClient, GetSecretValueCommand, (input: { SecretId: string }) => {
        throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret ${input.SecretId}`, $metadata: {} });
      }),
    );
  },
  beforeStop: () => {
    sfn.restore();
    sns.restore();
    secrets.restore();
  },
  timeoutMs: 120_000,
});

beforeEach(() => {
  sfn.reset();
  sfn.on(StopExecutionCommand).callsFake(checkedFake(SFNClient, StopExecutionCommand, () => ({ stopDate: new Date() })));
});

async function handler(event: unknown): Promise<unknown> {
  const mod = await import('../../lambdas/resolve');
  return lambda.check.runAs('resolve', () => mod.handler(event));
}

describe('resolve Lambda', () => {
  it("resolves with the person's name, cancels the approvals and stops the execution, as its own role", async () => {
    // GIVEN an incident of a machine of this stack, waiting on an approval
    const started = await startedIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'rs-hand' });
    const approval = await requestApproval(lambda.dynamo.doc, tables, { incidentId: started.incident.id, step: 'scale_redis_cluster', action: 'elasticache_modify', level: 2, approvers: ['oncall_sre'], minApprovals: 1, taskToken: 't-1', timeoutSeconds: 900, totalSeconds: 3600, binding: { action: 'elasticache_modify', paramsHash: 'c'.repeat(64), target: 'cache:redis' }, params: {} }, new Date());
    // WHEN a person resolves it by hand through the resolve function
    const result = await handler({ incidentId: started.incident.id, person: 'Li Na', reason: 'failed over the cache by hand' });
    // THEN
    expect(result).toEqual({ incidentId: started.incident.id, status: 'RESOLVED', executionStopped: started.executionArn, approvalsCancelled: [approval.approvalId] });
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ executionArn: started.executionArn, error: 'ResolvedByHand', cause: expect.stringContaining('Li Na') })]);
    expect(await getIncident(lambda.dynamo.doc, tables, started.incident.id)).toMatchObject({ status: 'RESOLVED' });
    expect(await findApprovalForStep(lambda.dynamo.doc, tables, started.incident.id, 'scale_redis_cluster')).toMatchObject({ status: 'CANCELLED' });
    const timeline = await getTimeline(lambda.dynamo.doc, tables, started.incident.id);
    expect(timeline.find((e) => e.type === 'execution_stopped')).toMatchObject({ actor: 'person:Li Na', data: { executionArn: started.executionArn } });
    expect(lambda.check.denials()).toEqual([]);
    expect(lambda.check.decisions.filter((d) => d.function === 'resolve' && d.action === 'states:StopExecution')).toEqual([expect.objectContaining({ allowed: true, resource: started.executionArn })]);
  });

  it("may not stop an execution of a machine outside this stack: the grant is scoped to the stack's machines", async () => {
    // GIVEN an incident whose execution belongs to a machine this stack does not have
    const now = new Date();
    const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'rs-foreign', severity: 'MEDIUM', alarm: { name: 'sre-agent/redis-memory-pressure/rs-foreign' }, detectedAt: now, anomalyStartedAt: now });
    const foreign = `arn:aws:states:${LAMBDA_TEST_REGION}:${LAMBDA_TEST_ACCOUNT}:execution:someone-elses-machine:${incident.id}`;
    await attachExecution(lambda.dynamo.doc, tables, incident.id, foreign, now);
    // WHEN
    const result = (await handler({ incidentId: incident.id, person: 'Li Na', reason: 'done by hand' })) as { status: string; executionStopped?: string };
    // THEN resolved, but the call was denied as AWS denies it and the timeline says the execution was not stopped
    expect(result.status).toBe('RESOLVED');
    expect(result.executionStopped).toBeUndefined();
    expect(lambda.check.denials()).toEqual([expect.objectContaining({ function: 'resolve', action: 'states:StopExecution', resource: foreign })]);
    expect((await getTimeline(lambda.dynamo.doc, tables, incident.id)).find((e) => e.type === 'execution_stop_failed')?.summary).toMatch(/AccessDenied/);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(1);
    lambda.check.decisions.length = 0;
  });

  it('refuses a bad request naming the field, an unknown incident and one already resolved', async () => {
    await expect(handler({ incidentId: 'INC-20260101-001', person: 'Li Na' })).rejects.toThrow(/reason/);
    await expect(handler({ incidentId: 'INC-20260101-001', person: 'Li Na', reason: 'x', stopExecution: false })).rejects.toThrow(/stopExecution/);
    await expect(handler({ incidentId: 'INC-20991231-999', person: 'Li Na', reason: 'x' })).rejects.toMatchObject({ name: 'IncidentNotFoundError' });
    const started = await startedIncident(lambda.dynamo.doc, tables, { playbook: 'redis-memory-pressure', service: 'rs-twice' });
    await handler({ incidentId: started.incident.id, person: 'Li Na', reason: 'first' });
    await expect(handler({ incidentId: started.incident.id, person: 'Wang Wei', reason: 'again' })).rejects.toMatchObject({ name: 'InvalidTransitionError' });
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(1);
  });
});
