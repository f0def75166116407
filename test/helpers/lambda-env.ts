/**
 * The environment a deployed sre-agent Lambda gets (lib/runtime/environment.ts), pointed
 * at a local dynalite: AWS SDK clients reach it through AWS_ENDPOINT_URL_DYNAMODB, so the handler
 * modules run unchanged.
 */
export const LAMBDA_TEST_TABLES = { incidents: 'inc', breakers: 'brk', approvals: 'apr' } as const;

export function lambdaEnvironment(dynamoEndpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    INCIDENTS_TABLE: LAMBDA_TEST_TABLES.incidents,
    BREAKERS_TABLE: LAMBDA_TEST_TABLES.breakers,
    APPROVALS_TABLE: LAMBDA_TEST_TABLES.approvals,
    DEDUPE_TABLE: 'dedupe',
    TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:sre-agent',
    SECRETS_PREFIX: 'sre-agent/',
    POWERTOOLS_SERVICE_NAME: 'sre-agent',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // The handlers write EMF metrics to stdout; a test reads them through the sink, not the console.
    POWERTOOLS_METRICS_DISABLED: 'true',
    SERVICES: '{}',
    ...extra,
  };
}
