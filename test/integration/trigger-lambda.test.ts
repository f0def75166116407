/**
 * The trigger Lambda as deployed: its handler module with Powertools idempotency on a real
 * DynamoDB API (dynalite, reached through AWS_ENDPOINT_URL_DYNAMODB) and Step Functions mocked
 * at the SDK boundary (aws-sdk-client-mock), run under the IAM check as its synthesized role (the
 * idempotency records in the dedupe table included); without states:StartExecution the alarm is
 * refused with AccessDeniedException, as AWS would.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { getIncident, listIncidents } from '../../lib/incident';
import type { IamCheck } from '../../lib/local/iam';
import { listDeadLetters } from '../../lib/runtime/intake';
import { allowedResources, checkedFake, lambdaIamCheck, withoutGrant } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';

const sfn = mockClient(SFNClient);
const tables = LAMBDA_TEST_TABLES;
let trigger: (event: unknown, context: Context) => Promise<{ outcome: string; incidentId?: string }>;
const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'trigger', awsRequestId: 'r1' } as unknown as Context;

function alarmEvent(name: string, at: string): Record<string, unknown> {
  const sample = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/events/aws-doc-single-metric-alarm.json'), 'utf8'));
  sample.detail.alarmName = name;
  sample.detail.state.timestamp = at;
  return sample;
}

const lambda = lambdaHarness({
  environment: {
    STATE_MACHINES: JSON.stringify({ 'kafka-consumer-lag': 'arn:aws:states:us-east-1:123456789012:stateMachine:kafka-consumer-lag' }),
  },
  dedupeTable: true,
  afterStart: async () => {
    ({ handler: trigger } = await import('../../lambdas/trigger'));
  },
});

beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake(checkedFake(SFNClient, StartExecutionCommand, (input: { name: string }) => ({ executionArn: `arn:aws:states:us-east-1:123456789012:execution:kafka-consumer-lag:${input.name}`, startDate: new Date() })));
});

/** The trigger function invoked as itself, under `as` (the stack's roles as they are unless a test says). */
function handler(event: unknown, ctx: Context, as: IamCheck = lambda.check): Promise<{ outcome: string; incidentId?: string }> {
  return as.runAs('trigger', () => trigger(event, ctx));
}

describe('trigger Lambda', () => {
  it('starts one execution named after the incident, and a redelivered event starts nothing', async () => {
    const event = alarmEvent('sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag', '2026-02-09T14:15:00.000+0000');
    const first = await handler(event, context);
    const again = await handler(event, context);
    expect(first).toMatchObject({ outcome: 'started', incidentId: 'INC-20260209-001' });
    expect(again).toEqual(first);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toMatchObject({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:kafka-consumer-lag', name: 'INC-20260209-001' });
    expect((await getIncident(lambda.dynamo.doc, tables, 'INC-20260209-001')).executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:kafka-consumer-lag:INC-20260209-001');
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'trigger', 'states:StartExecution')).toEqual(['arn:aws:states:us-east-1:123456789012:stateMachine:kafka-consumer-lag']);
    // The redelivery was answered from the idempotency record in the dedupe table.
    expect(allowedResources(lambda.check, 'trigger', 'dynamodb:PutItem')).toEqual(expect.arrayContaining(['arn:aws:dynamodb:us-east-1:123456789012:table/dedupe', 'arn:aws:dynamodb:us-east-1:123456789012:table/inc']));
  });

  it('treats ExecutionAlreadyExists as the incident\'s execution already running', async () => {
    sfn.on(StartExecutionCommand).callsFake(
      checkedFake(SFNClient, StartExecutionCommand, () => {
        throw new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
      }),
    );
    const r = await handler(alarmEvent('sre-agent/kafka-consumer-lag/payment-consumer/kafka_consumer_lag', '2026-02-09T15:00:00.000+0000'), context);
    expect(r.outcome).toBe('already_started');
    expect(lambda.check.denials()).toEqual([]);
  });

  it('dead-letters an alarm no playbook owns, without throwing and without an incident', async () => {
    const before = (await listIncidents(lambda.dynamo.doc, tables)).length;
    const r = await handler(alarmEvent('ServerCpuTooHigh', '2026-02-09T16:00:00.000+0000'), context);
    expect(r.outcome).toBe('dead_letter');
    expect((await listIncidents(lambda.dynamo.doc, tables)).length).toBe(before);
    expect((await listDeadLetters(lambda.dynamo.doc, tables))[0].reason).toContain('no playbook for alarm "ServerCpuTooHigh"');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(lambda.check.denials()).toEqual([]);
  });

  it('is refused with AccessDeniedException when its role lacks states:StartExecution, as AWS would refuse it', async () => {
    // GIVEN the trigger's role without its StartExecution grant
    const without = lambdaIamCheck(lambda.env, { editTemplate: withoutGrant('trigger', 'states:StartExecution') });
    // WHEN an alarm comes in
    const refused = handler(alarmEvent('sre-agent/kafka-consumer-lag/refund-consumer/kafka_consumer_lag', '2026-02-11T09:00:00.000+0000'), context, without);
    // THEN the call is denied and the function fails (EventBridge retries it)
    await expect(refused).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(without.denials()).toEqual([expect.objectContaining({ function: 'trigger', action: 'states:StartExecution', resource: 'arn:aws:states:us-east-1:123456789012:stateMachine:kafka-consumer-lag' })]);
  });
});
