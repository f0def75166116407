/**
 * The local IAM check (lib/local/iam) on the stack synthesized in this process: how calls map to
 * IAM requests, what the synthesized roles allow and deny (least privilege per function), and the
 * SDK hook that puts the check on a real DynamoDB client. No AWS: a denied call never leaves the
 * process, an allowed one goes to an address where nothing listens.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { AccessDeniedError, IamCheck, iamRequests, installSdkHook, stackFacts, synthesizeTemplate, UnknownFunctionError, UnmappedCallError, type StackFacts } from '../../../lib/local/iam';
import { ACTIONS } from '../../../lib/actions';

const TABLES = { INCIDENTS_TABLE: 'inc', BREAKERS_TABLE: 'brk', APPROVALS_TABLE: 'apr' };
let facts: StackFacts;

beforeAll(() => {
  facts = stackFacts(synthesizeTemplate(), { environment: TABLES });
}, 60_000);

const table = (name: string) => `arn:aws:dynamodb:local:000000000000:table/${name}`;

async function decide(fn: string, clientName: string, command: string, input: Record<string, unknown>): Promise<string> {
  const check = new IamCheck(facts);
  try {
    await check.authorizeCommand(fn, clientName, command, input);
    return 'allowed';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('Function: stackFacts', () => {
  it('finds every function of the stack by its sre-agent:function metadata, each with its own role', () => {
    const ids = [...facts.functions.keys()];
    expect(ids).toEqual(expect.arrayContaining(['trigger', 'evaluate', 'breaker', 'approvalRequest', 'escalate', 'incident', 'report', 'approvalCallback', 'reconcile', 'executionEnded']));
    for (const a of Object.values(ACTIONS).filter((x) => !x.blacklist)) expect(ids).toContain(`action:${a.name}`);
    for (const a of Object.values(ACTIONS).filter((x) => x.blacklist)) expect(ids).not.toContain(`action:${a.name}`);
    expect(new Set(ids.map((id) => facts.functions.get(id)!.roleArn)).size).toBe(ids.length);
  });

  it('resolves table references to the names of the world the handlers run in, and each table to its partition key', () => {
    expect(facts.functions.get('incident')!.environment.INCIDENTS_TABLE).toBe('inc');
    expect(facts.partitionKeys.get('inc')).toBe('pk');
    expect([...facts.stateMachines.keys()]).toEqual(expect.arrayContaining(['redis-memory-pressure', 'traffic-surge']));
    expect(facts.stateMachines.get('traffic-surge')).toBe('arn:aws:states:local:000000000000:stateMachine:traffic-surge');
  });
});

describe('Function: iamRequests', () => {
  const world = () => ({ facts });

  it.each([
    ['GetItem', { TableName: 'inc', Key: { pk: { S: 'INC-1' }, sk: { S: 'INCIDENT' } } }, { action: 'dynamodb:GetItem', resource: table('inc'), context: { 'dynamodb:LeadingKeys': ['INC-1'] } }],
    ['PutItem', { TableName: 'inc', Item: { pk: 'OPEN#p#s', sk: 'OPEN' } }, { action: 'dynamodb:PutItem', resource: table('inc'), context: { 'dynamodb:LeadingKeys': ['OPEN#p#s'] } }],
    ['Query', { TableName: 'inc', IndexName: 'byStatus', KeyConditionExpression: '#p = :v AND begins_with(sk, :s)', ExpressionAttributeNames: { '#p': 'pk' }, ExpressionAttributeValues: { ':v': { S: 'INC-2' }, ':s': { S: 'EVENT#' } } }, { action: 'dynamodb:Query', resource: `${table('inc')}/index/byStatus`, context: { 'dynamodb:LeadingKeys': ['INC-2'] } }],
    ['Scan', { TableName: 'apr' }, { action: 'dynamodb:Scan', resource: table('apr') }],
  ])('maps DynamoDB %s with its partition keys', (command, input, expected) => {
    expect(iamRequests('DynamoDBClient', `${command}Command`, input, world())).toEqual([expected]);
  });

  it('adds the KMS key of an encrypted topic to SNS Publish (SNS encrypts on the publisher’s behalf)', () => {
    const topic = facts.functions.get('breaker')!.environment.TOPIC_ARN!;
    const key = facts.topicKeys.get(topic)!;
    expect(iamRequests('SNSClient', 'PublishCommand', { TopicArn: topic }, world())).toEqual([
      { action: 'sns:Publish', resource: topic },
      { action: 'kms:GenerateDataKey', resource: key },
      { action: 'kms:Decrypt', resource: key },
    ]);
  });

  it('authorizes a secret named without its ARN against the ARN with its random suffix', () => {
    expect(iamRequests('SecretsManagerClient', 'GetSecretValueCommand', { SecretId: 'sre-agent/slack-webhook-url' }, world())).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:local:000000000000:secret:sre-agent/slack-webhook-url-AbCdEf' },
    ]);
  });

  it('maps S3 object calls to the object ARN (no region, no account) and Bedrock InvokeModel to the foundation model', () => {
    expect(iamRequests('S3Client', 'PutObjectCommand', { Bucket: 'reports', Key: 'knowledge/entries.json', IfMatch: '"e1"' }, world())).toEqual([{ action: 's3:PutObject', resource: 'arn:aws:s3:::reports/knowledge/entries.json' }]);
    expect(iamRequests('S3Client', 'GetObjectCommand', { Bucket: 'reports', Key: 'reports/INC-20260209-001.json' }, world())).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::reports/reports/INC-20260209-001.json' }]);
    expect(iamRequests('BedrockRuntimeClient', 'InvokeModelCommand', { modelId: 'amazon.titan-embed-text-v2:0' }, world())).toEqual([{ action: 'bedrock:InvokeModel', resource: 'arn:aws:bedrock:local::foundation-model/amazon.titan-embed-text-v2:0' }]);
    // A streaming call needs its own action: a role granted only InvokeModel is denied it, as AWS denies it.
    expect(iamRequests('BedrockRuntimeClient', 'ConverseCommand', { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' }, world())).toEqual([{ action: 'bedrock:InvokeModel', resource: 'arn:aws:bedrock:local::foundation-model/anthropic.claude-3-haiku-20240307-v1:0' }]);
    expect(iamRequests('BedrockRuntimeClient', 'ConverseStreamCommand', { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' }, world())).toEqual([{ action: 'bedrock:InvokeModelWithResponseStream', resource: 'arn:aws:bedrock:local::foundation-model/anthropic.claude-3-haiku-20240307-v1:0' }]);
    expect(iamRequests('BedrockRuntimeClient', 'InvokeModelWithResponseStreamCommand', { modelId: 'amazon.titan-embed-text-v2:0' }, world())?.[0]?.action).toBe('bedrock:InvokeModelWithResponseStream');
  });

  it('knows nothing of a command it does not map (a gap to close, never an allow)', () => {
    expect(iamRequests('S3Client', 'PutBucketPolicyCommand', { Bucket: 'reports' }, world())).toBeUndefined();
    expect(iamRequests('S3Client', 'GetObjectCommand', {}, world())).toBeUndefined();
    expect(iamRequests('DynamoDBClient', 'TransactGetItemsCommand', {}, world())).toBeUndefined();
  });

  it('authorizes each member of a TransactWriteItems as its single-item action (there is no transaction action)', () => {
    const input = {
      TransactItems: [
        { Put: { TableName: 'inc', Item: { pk: 'INC-1', sk: 'INCIDENT' } } },
        { Update: { TableName: 'brk', Key: { pk: 'GLOBAL' } } },
        { Delete: { TableName: 'inc', Key: { pk: 'OPEN#p#s', sk: 'OPEN' } } },
        { ConditionCheck: { TableName: 'inc', Key: { pk: 'INC-2', sk: 'INCIDENT' } } },
      ],
    };
    expect(iamRequests('DynamoDBClient', 'TransactWriteItemsCommand', input, world())).toEqual([
      { action: 'dynamodb:PutItem', resource: table('inc'), context: { 'dynamodb:LeadingKeys': ['INC-1'] } },
      { action: 'dynamodb:UpdateItem', resource: table('brk'), context: facts.partitionKeys.get('brk') ? { 'dynamodb:LeadingKeys': ['GLOBAL'] } : undefined },
      { action: 'dynamodb:DeleteItem', resource: table('inc'), context: { 'dynamodb:LeadingKeys': ['OPEN#p#s'] } },
      { action: 'dynamodb:ConditionCheckItem', resource: table('inc'), context: { 'dynamodb:LeadingKeys': ['INC-2'] } },
    ]);
  });
});

describe('Class: IamCheck (least privilege of the synthesized roles)', () => {
  it.each([
    // Every action writes its incident's items and marks its approval used.
    ['action:redis_analysis', 'Query', { TableName: 'inc', KeyConditionExpression: 'pk = :id', ExpressionAttributeValues: { ':id': 'INC-20260101-001' } }, 'allowed'],
    ['action:redis_analysis', 'PutItem', { TableName: 'inc', Item: { pk: 'INC-20260101-001', sk: 'EVENT#x' } }, 'allowed'],
    ['action:redis_analysis', 'UpdateItem', { TableName: 'apr', Key: { pk: 'STEP#INC-20260101-001#analyze' } }, 'allowed'],
    // ...and nothing else: not the open-incident keys, not another table's items, not the breakers (read-only), no Scan.
    ['action:redis_analysis', 'PutItem', { TableName: 'inc', Item: { pk: 'OPEN#redis-memory-pressure#redis-cache', sk: 'OPEN' } }, 'AccessDeniedException'],
    ['action:redis_analysis', 'UpdateItem', { TableName: 'brk', Key: { pk: 'GLOBAL' } }, 'AccessDeniedException'],
    ['action:redis_analysis', 'GetItem', { TableName: 'apr', Key: { pk: 'APPROVAL#abc' } }, 'AccessDeniedException'],
    ['action:redis_analysis', 'Scan', { TableName: 'inc' }, 'AccessDeniedException'],
    ['action:redis_analysis', 'DeleteItem', { TableName: 'inc', Key: { pk: 'INC-20260101-001', sk: 'INCIDENT' } }, 'AccessDeniedException'],
    // A mutating action gates on and counts the breakers, and reads its approval.
    ['action:redis_command', 'UpdateItem', { TableName: 'brk', Key: { pk: 'SERVICE#redis-cache' } }, 'allowed'],
    ['action:redis_command', 'GetItem', { TableName: 'apr', Key: { pk: 'STEP#INC-20260101-001#flush' } }, 'allowed'],
    // Only the ticket action claims tickets.
    ['action:create_ticket', 'PutItem', { TableName: 'inc', Item: { pk: 'TICKET#k', sk: 'TICKET' } }, 'allowed'],
    ['action:redis_command', 'PutItem', { TableName: 'inc', Item: { pk: 'TICKET#k', sk: 'TICKET' } }, 'AccessDeniedException'],
    // The core functions keep to their tables.
    ['report', 'PutItem', { TableName: 'brk', Item: { pk: 'GLOBAL' } }, 'AccessDeniedException'],
    ['trigger', 'PutItem', { TableName: 'inc', Item: { pk: 'OPEN#p#s', sk: 'OPEN' } }, 'allowed'],
  ])('%s %s %j → %s', async (fn, command, input, expected) => {
    expect(await decide(fn, 'DynamoDBClient', `${command}Command`, input)).toBe(expected);
  });

  it('denies as AWS does: the error code of the service, the role session and the resource in the message', async () => {
    // prepare
    const check = new IamCheck(facts);
    // act
    const denied = check.authorizeCommand('action:redis_analysis', 'DynamoDBClient', 'ScanCommand', { TableName: 'inc' });
    // assess
    await expect(denied).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(denied).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(/^User: arn:aws:sts::000000000000:assumed-role\/.+\/action:redis_analysis is not authorized to perform: dynamodb:Scan on resource: arn:aws:dynamodb:local:000000000000:table\/inc because no identity-based policy allows the dynamodb:Scan action$/),
    });
    expect(check.denials()).toEqual([expect.objectContaining({ function: 'action:redis_analysis', action: 'dynamodb:Scan', allowed: false, why: 'no-allow', via: 'DynamoDBClient.ScanCommand' })]);
  });

  it('names SNS denials AuthorizationError, as SNS does', async () => {
    await expect(new IamCheck(facts).authorize('action:redis_analysis', [{ action: 'sns:Publish', resource: facts.functions.get('breaker')!.environment.TOPIC_ARN! }], 'test')).rejects.toMatchObject({ name: 'AuthorizationError', $metadata: { httpStatusCode: 403 } });
  });

  it('lets the task-token calls through only as "*" (they have no resource type), and only for the approval functions', async () => {
    const check = new IamCheck(facts, { enforce: false });
    for (const fn of ['approvalCallback', 'approvalRequest', 'evaluate']) await check.authorize(fn, [{ action: 'states:SendTaskSuccess', resource: '*' }], 'test');
    expect(check.decisions.map((d) => [d.function, d.allowed])).toEqual([
      ['approvalCallback', true],
      ['approvalRequest', true],
      ['evaluate', false],
    ]);
  });

  it('lets publishers use the topic’s KMS key, which its key policy delegates to IAM', async () => {
    const topic = facts.functions.get('breaker')!.environment.TOPIC_ARN!;
    await expect(new IamCheck(facts).authorizeCommand('breaker', 'SNSClient', 'PublishCommand', { TopicArn: topic, Message: 'x' })).resolves.toBeUndefined();
  });

  it('refuses an unmapped call and an unknown function with errors that name them', async () => {
    const check = new IamCheck(facts);
    await expect(check.authorizeCommand('trigger', 'S3Client', 'PutBucketPolicyCommand', { Bucket: 'reports' })).rejects.toThrow(new UnmappedCallError('trigger', 'S3Client.PutBucketPolicyCommand'));
    expect(() => check.runAs('nope', () => 1)).toThrow(UnknownFunctionError);
  });
});

describe('Function: installSdkHook', () => {
  it('checks the calls of any SDK client made inside a function, and none outside', async () => {
    // prepare: a client as a handler would make it, at an address where nothing listens
    installSdkHook();
    const check = new IamCheck(facts);
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      // act
      const denied = check.runAs('action:redis_analysis', () => client.send(new PutItemCommand({ TableName: 'inc', Item: { pk: { S: 'OPEN#a#b' }, sk: { S: 'OPEN' } } })));
      const allowed = check.runAs('action:redis_analysis', () => client.send(new GetItemCommand({ TableName: 'brk', Key: { pk: { S: 'x' } } })).catch((e: Error) => e));
      const outside = client.send(new GetItemCommand({ TableName: 'brk', Key: { pk: { S: 'x' } } })).catch((e: Error) => e);
      // assess
      await expect(denied).rejects.toMatchObject({ name: 'AccessDeniedException', action: 'dynamodb:PutItem' });
      expect((await allowed) as Error).toMatchObject({ name: 'AccessDeniedException', action: 'dynamodb:GetItem' });
      // Outside any function the call goes out (and finds nothing listening): not checked.
      expect(((await outside) as Error).name).not.toBe('AccessDeniedException');
      expect(check.decisions.map((d) => [d.action, d.allowed])).toEqual([
        ['dynamodb:PutItem', false],
        ['dynamodb:GetItem', false],
      ]);
    } finally {
      client.destroy();
    }
  });
});

describe('FUNCTION_METADATA_KEY', () => {
  it('is the key the AgentFunction construct writes (kept apart so that the engine does not load aws-cdk-lib)', () => {
    const { FUNCTION_METADATA_KEY: written } = require('../../../lib/infra/agent-function') as typeof import('../../../lib/infra/agent-function');
    const { FUNCTION_METADATA_KEY: read } = require('../../../lib/local/iam') as typeof import('../../../lib/local/iam');
    expect(read).toBe(written);
  });
});
