/**
 * The approval-callback Lambda as deployed, for the tests that call it: its handler module under
 * its synthesized role (the IAM check) on dynalite (lambdaHarness), Step Functions and Secrets
 * Manager mocked at the SDK boundary, each mocked call checked against the role, and the signing
 * key the stack keeps in Secrets Manager. Call once, at a test file's top level.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { checkedFake } from './iam';
import { lambdaHarness } from './lambda-harness';

export const SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sre-agent-signing-AbCdEf';
export const SIGNING_SECRET = 'Zq8vJ3mT0pXw6bL1nR5cY9dK2hG7sF4aQe8uW1oI3yV6';
/** The signing key as the links are built with it. */
export const signingKey = async (): Promise<Buffer> => Buffer.from(SIGNING_SECRET, 'utf8');

export function approvalCallbackLambda() {
  const sfn = mockClient(SFNClient);
  const secrets = mockClient(SecretsManagerClient);
  let callback: ((event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>) | undefined;
  const lambda = lambdaHarness({
    environment: { SIGNING_SECRET_ID: SIGNING_SECRET_ARN },
    afterStart: async () => {
      ({ handler: callback } = await import('../../lambdas/approval-callback'));
    },
  });
  beforeEach(() => {
    sfn.reset();
    secrets.reset();
    secrets.on(GetSecretValueCommand, { SecretId: SIGNING_SECRET_ARN }).callsFake(checkedFake(SecretsManagerClient, GetSecretValueCommand, () => ({ SecretString: SIGNING_SECRET })));
    sfn.on(SendTaskSuccessCommand).callsFake(checkedFake(SFNClient, SendTaskSuccessCommand, () => ({})));
    sfn.on(SendTaskFailureCommand).callsFake(checkedFake(SFNClient, SendTaskFailureCommand, () => ({})));
  });
  /** The handler invoked as the approvalCallback function, under `as` (the stack's roles unless a test says). */
  const handler = (e: APIGatewayProxyEventV2, as = lambda.check): Promise<APIGatewayProxyStructuredResultV2> => as.runAs('approvalCallback', () => callback!(e));
  return { sfn, secrets, lambda, handler };
}
