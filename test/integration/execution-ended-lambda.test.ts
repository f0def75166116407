/**
 * The execution-ended Lambda as deployed: its handler module on a real DynamoDB API (dynalite,
 * reached through AWS_ENDPOINT_URL_DYNAMODB), fed the AWS documentation's Step Functions
 * "Execution Status Change" sample with the execution named after an incident.
 */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { openOrJoinIncident, getIncident, getTimeline } from '../../lib/incident';
import { createTables, startDynalite, type LocalDynamo } from '../../lib/local/dynalite';
import sample from '../fixtures/events/aws-doc-sfn-execution-failed.json';
import { LAMBDA_TEST_TABLES, lambdaEnvironment } from '../helpers/lambda-env';

const tables = LAMBDA_TEST_TABLES;
// No notifier credentials stored: the page to the on-call SRE fails, and the timeline says so.
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} }));
let dynamo: LocalDynamo;
let handler: (event: unknown) => Promise<{ outcome: string; incidentId?: string }>;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.client, tables);
  Object.assign(process.env, lambdaEnvironment(dynamo.endpoint));
  ({ handler } = (await import('../../lambdas/execution-ended')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  process.env = savedEnv;
  await dynamo.stop();
});

function statusChange(name: string, status: string): unknown {
  const event = structuredClone(sample);
  event.detail.name = name;
  event.detail.status = status;
  event.detail.executionArn = `arn:aws:states:us-east-1:123456789012:execution:kafka-consumer-lag:${name}`;
  return event;
}

describe('execution-ended Lambda', () => {
  it('fails the incident of the failed execution, with the error and cause on its timeline', async () => {
    // prepare
    const { incident } = await openOrJoinIncident(dynamo.doc, tables, { playbook: 'kafka-consumer-lag', service: 'order-consumer', severity: 'MEDIUM', alarm: { name: 'sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag' }, detectedAt: new Date(), anomalyStartedAt: new Date() });
    // act
    const result = await handler(statusChange(incident.id, 'FAILED'));
    // assess
    expect(result).toEqual({ outcome: 'failed', incidentId: incident.id });
    expect((await getIncident(dynamo.doc, tables, incident.id)).status).toBe('FAILED');
    const timeline = await getTimeline(dynamo.doc, tables, incident.id);
    expect(timeline.filter((e) => e.type === 'status_changed').at(-1)?.summary).toBe('OPEN → FAILED: playbook execution FAILED: States.TaskFailed (The task failed.)');
    expect(timeline.filter((e) => e.type === 'notification_failed').length).toBeGreaterThan(0);
  });

  it('leaves an execution not named after an incident alone (the sample as AWS sends it)', async () => {
    await expect(handler(structuredClone(sample))).resolves.toEqual({ outcome: 'not_an_incident' });
  });

  it('throws (EventBridge retries, then the dead-letter queue) for a status it does not handle', async () => {
    await expect(handler(statusChange('INC-20260209-001', 'SUCCEEDED'))).rejects.toThrow(/status/);
  });
});
