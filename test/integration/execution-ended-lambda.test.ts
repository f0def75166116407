/**
 * The execution-ended Lambda as deployed: its handler module on a real DynamoDB API (dynalite,
 * reached through AWS_ENDPOINT_URL_DYNAMODB), fed the AWS documentation's Step Functions
 * "Execution Status Change" sample with the execution named after an incident, run under the IAM
 * check as its synthesized role.
 */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { openOrJoinIncident, getIncident, getTimeline } from '../../lib/incident';
import sample from '../fixtures/events/aws-doc-sfn-execution-failed.json';
import { allowedResources, checkedFake } from '../helpers/iam';
import { LAMBDA_TEST_TABLES } from '../helpers/lambda-env';
import { lambdaHarness } from '../helpers/lambda-harness';

const tables = LAMBDA_TEST_TABLES;
// No notifier credentials stored: the page to the on-call SRE fails, and the timeline says so.
const secrets = mockClient(SecretsManagerClient);
secrets.on(GetSecretValueCommand).callsFake(
  checkedFake(SecretsManagerClient, GetSecretValueCommand, () => {
    throw new ResourceNotFoundException({ message: 'Secrets Manager can’t find the specified secret.', $metadata: {} });
  }),
);
let executionEnded: (event: unknown) => Promise<{ outcome: string; incidentId?: string }>;
const lambda = lambdaHarness({
  afterStart: async () => {
    ({ handler: executionEnded } = (await import('../../lambdas/execution-ended')) as unknown as { handler: typeof executionEnded });
  },
  beforeStop: () => {
    secrets.restore();
  },
});

/** The execution-ended function invoked as itself. */
function handler(event: unknown): Promise<{ outcome: string; incidentId?: string }> {
  return lambda.check.runAs('executionEnded', () => executionEnded(event));
}

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
    const { incident } = await openOrJoinIncident(lambda.dynamo.doc, tables, { playbook: 'kafka-consumer-lag', service: 'order-consumer', severity: 'MEDIUM', alarm: { name: 'sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag' }, detectedAt: new Date(), anomalyStartedAt: new Date() });
    // act
    const result = await handler(statusChange(incident.id, 'FAILED'));
    // assess
    expect(result).toEqual({ outcome: 'failed', incidentId: incident.id });
    expect((await getIncident(lambda.dynamo.doc, tables, incident.id)).status).toBe('FAILED');
    const timeline = await getTimeline(lambda.dynamo.doc, tables, incident.id);
    expect(timeline.filter((e) => e.type === 'status_changed').at(-1)?.summary).toBe('OPEN → FAILED: playbook execution FAILED: States.TaskFailed (The task failed.)');
    expect(timeline.filter((e) => e.type === 'notification_failed').length).toBeGreaterThan(0);
    expect(lambda.check.denials()).toEqual([]);
    expect(allowedResources(lambda.check, 'executionEnded', 'dynamodb:UpdateItem')).toContain('arn:aws:dynamodb:us-east-1:123456789012:table/inc');
    expect(allowedResources(lambda.check, 'executionEnded', 'secretsmanager:GetSecretValue')).toContain('arn:aws:secretsmanager:us-east-1:123456789012:secret:sre-agent/pagerduty-routing-key-AbCdEf');
  });

  it('leaves an execution not named after an incident alone (the sample as AWS sends it)', async () => {
    await expect(handler(structuredClone(sample))).resolves.toEqual({ outcome: 'not_an_incident' });
  });

  it('throws (EventBridge retries, then the dead-letter queue) for a status it does not handle', async () => {
    await expect(handler(statusChange('INC-20260209-001', 'SUCCEEDED'))).rejects.toThrow(/status/);
  });
});
