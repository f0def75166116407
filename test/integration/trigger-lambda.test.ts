/**
 * The trigger Lambda as deployed: its handler module with Powertools idempotency on a real
 * DynamoDB API (dynalite, reached through AWS_ENDPOINT_URL_DYNAMODB) and Step Functions mocked
 * at the SDK boundary (aws-sdk-client-mock).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand, ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import { getIncident, listIncidents } from '../../lib/incident';
import { listDeadLetters } from '../../lib/runtime/intake';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';

const sfn = mockClient(SFNClient);
const tables = LAMBDA_TEST_TABLES;
let dynamo: LocalDynamo;
let handler: (event: unknown, context: Context) => Promise<{ outcome: string; incidentId?: string }>;
const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'trigger', awsRequestId: 'r1' } as unknown as Context;

function alarmEvent(name: string, at: string): Record<string, unknown> {
  const sample = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/events/aws-doc-single-metric-alarm.json'), 'utf8'));
  sample.detail.alarmName = name;
  sample.detail.state.timestamp = at;
  return sample;
}

const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  await dynamo.client.send(new CreateTableCommand({ TableName: 'dedupe', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }] }));
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint, {
    STATE_MACHINES: JSON.stringify({ 'kafka-consumer-lag': 'arn:aws:states:us-east-1:123456789012:stateMachine:kafka-consumer-lag' }),
  }));
  ({ handler } = await import('../../lambdas/trigger'));
});

afterAll(async () => {
  process.env = savedEnv;
  await dynamo.stop();
});

beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `arn:aws:states:us-east-1:123456789012:execution:kafka-consumer-lag:${input.name}`, startDate: new Date() }));
});

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
    expect((await getIncident(dynamo.doc, tables, 'INC-20260209-001')).executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:kafka-consumer-lag:INC-20260209-001');
  });

  it('treats ExecutionAlreadyExists as the incident\'s execution already running', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const r = await handler(alarmEvent('sre-agent/kafka-consumer-lag/payment-consumer/kafka_consumer_lag', '2026-02-09T15:00:00.000+0000'), context);
    expect(r.outcome).toBe('already_started');
  });

  it('dead-letters an alarm no playbook owns, without throwing and without an incident', async () => {
    const before = (await listIncidents(dynamo.doc, tables)).length;
    const r = await handler(alarmEvent('ServerCpuTooHigh', '2026-02-09T16:00:00.000+0000'), context);
    expect(r.outcome).toBe('dead_letter');
    expect((await listIncidents(dynamo.doc, tables)).length).toBe(before);
    expect((await listDeadLetters(dynamo.doc, tables))[0].reason).toContain('no playbook for alarm "ServerCpuTooHigh"');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
