/**
 * AWS SDK commands → the IAM requests AWS authorizes for them (action, resource ARN, and the
 * condition keys the stack's policies use): `dynamodb:LeadingKeys` for item calls, the KMS key of
 * an encrypted topic for SNS Publish, resource tags for RDS and ElastiCache. A command that is not
 * listed is an UnmappedCallError: a gap in the check is loud, never a silent allow.
 */
import type { StackFacts } from './template';

/** One request IAM evaluates. */
export interface IamRequest {
  /** `dynamodb:PutItem`. */
  readonly action: string;
  /** An ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
}

/** What the mapping needs to know about the world beyond the command's input. */
export interface RequestWorld {
  readonly facts: Pick<StackFacts, 'account' | 'region' | 'partition' | 'topicKeys' | 'partitionKeys'>;
  /** Tags of a resource ARN (RDS parameter groups, ElastiCache replication groups). @default none */
  readonly tagsOf?: (arn: string) => Readonly<Record<string, string>> | undefined;
}

/** SDK client name → IAM service prefix. */
const SERVICES: Readonly<Record<string, string>> = {
  DynamoDBClient: 'dynamodb',
  SNSClient: 'sns',
  SFNClient: 'states',
  SecretsManagerClient: 'secretsmanager',
  CloudWatchClient: 'cloudwatch',
  SSMClient: 'ssm',
  RDSClient: 'rds',
  ElastiCacheClient: 'elasticache',
  EKSClient: 'eks',
  ACMClient: 'acm',
  IAMClient: 'iam',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  STSClient: 'sts',
  KMSClient: 'kms',
  LambdaClient: 'lambda',
  S3Client: 's3',
  BedrockRuntimeClient: 'bedrock',
};

/** Error code and HTTP status AWS uses for a denial, by service (JSON services vs query services). */
export function denialCode(service: string): { code: string; status: number } {
  if (service === 'sns') return { code: 'AuthorizationError', status: 403 };
  if (['rds', 'elasticache', 'iam', 'cloudwatch', 'elasticloadbalancing', 'sts', 's3'].includes(service)) return { code: 'AccessDenied', status: 403 };
  if (service === 'bedrock') return { code: 'AccessDeniedException', status: 403 };
  return { code: 'AccessDeniedException', status: 400 };
}

type Input = Record<string, unknown>;

/** A DynamoDB attribute value, marshalled (`{S: 'x'}`) or not. */
function scalar(v: unknown): string | undefined {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of ['S', 'N', 'B']) if (k in o) return String(o[k]);
  }
  return undefined;
}

/** `pk = :p` (or `#pk = :p`) in a key condition → the partition key's value. */
function queryPartition(input: Input, pk: string): string | undefined {
  const expr = String(input.KeyConditionExpression ?? '');
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  for (const m of expr.matchAll(/(#?[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    const name = m[1]?.startsWith('#') ? names[m[1]] : m[1];
    if (name === pk) return scalar(values[m[2] as string]);
  }
  return undefined;
}

function dynamo(world: RequestWorld, command: string, input: Input): IamRequest[] {
  const { partition, region, account } = world.facts;
  const table = (name: string, index?: string) => `arn:${partition}:dynamodb:${region}:${account}:table/${name}${index ? `/index/${index}` : ''}`;
  const pkOf = (name: string) => world.facts.partitionKeys.get(name);
  const leading = (name: string, keys: readonly unknown[]): IamRequest['context'] => {
    const pk = pkOf(name);
    if (!pk) return undefined;
    const values = keys.map((k) => scalar((k as Record<string, unknown> | undefined)?.[pk])).filter((v): v is string => v !== undefined);
    return { 'dynamodb:LeadingKeys': [...new Set(values)] };
  };
  const action = `dynamodb:${command}`;
  const name = String(input.TableName ?? '');
  switch (command) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
    case 'ConditionCheckItem':
      return [{ action, resource: table(name), context: leading(name, [input.Key]) }];
    case 'PutItem':
      return [{ action, resource: table(name), context: leading(name, [input.Item]) }];
    case 'Query': {
      const pk = pkOf(name);
      const value = pk ? queryPartition(input, pk) : undefined;
      return [{ action, resource: table(name, input.IndexName as string | undefined), context: { 'dynamodb:LeadingKeys': value === undefined ? [] : [value] } }];
    }
    case 'Scan':
      return [{ action, resource: table(name, input.IndexName as string | undefined) }];
    case 'BatchGetItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>).map(([t, r]) => ({ action, resource: table(t), context: leading(t, r.Keys ?? []) }));
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]>).map(([t, writes]) => ({
        action,
        resource: table(t),
        context: leading(t, writes.map((w) => w.PutRequest?.Item ?? w.DeleteRequest?.Key)),
      }));
    case 'TransactWriteItems':
      // No action of its own: IAM authorizes each member as its single-item action
      // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
      return ((input.TransactItems ?? []) as Record<string, Input>[]).flatMap((entry) =>
        Object.entries(entry).flatMap(([kind, member]) => {
          const single = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[kind];
          return single ? dynamo(world, single, member) : [];
        }),
      );
    case 'DescribeTable':
    case 'CreateTable':
    case 'DeleteTable':
    case 'UpdateTimeToLive':
      return [{ action, resource: table(name) }];
    default:
      return [];
  }
}

/**
 * The IAM requests of one SDK command, or undefined when the command is not mapped.
 *
 * @example iamRequests('DynamoDBClient', 'GetItemCommand', { TableName: 't', Key: { pk: 'GLOBAL' } }, world)
 * // [{ action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:local:000000000000:table/t', context: { 'dynamodb:LeadingKeys': ['GLOBAL'] } }]
 */
export function iamRequests(clientName: string, commandName: string, input: Input, world: RequestWorld): IamRequest[] | undefined {
  const service = SERVICES[clientName];
  if (!service) return undefined;
  const command = commandName.replace(/Command$/, '');
  const action = `${service}:${command}`;
  const { partition, region, account } = world.facts;
  const arn = (svc: string, resource: string) => `arn:${partition}:${svc}:${region}:${account}:${resource}`;
  const tagged = (resource: string): IamRequest => {
    const tags = world.tagsOf?.(resource) ?? {};
    return { action, resource, context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])) };
  };
  switch (service) {
    case 'dynamodb': {
      const out = dynamo(world, command, input);
      return out.length > 0 ? out : undefined;
    }
    case 'sns': {
      if (command !== 'Publish') return undefined;
      const topic = String(input.TopicArn ?? input.TargetArn ?? '');
      const key = world.facts.topicKeys.get(topic);
      // SNS encrypts with the topic's key on the publisher's behalf: the publisher needs both.
      return [{ action, resource: topic }, ...(key ? [{ action: 'kms:GenerateDataKey', resource: key }, { action: 'kms:Decrypt', resource: key }] : [])];
    }
    case 'states':
      if (command === 'StartExecution') return [{ action, resource: String(input.stateMachineArn) }];
      if (command === 'DescribeExecution' || command === 'StopExecution') return [{ action, resource: String(input.executionArn) }];
      // The Service Authorization Reference gives the task-token calls no resource type: "*".
      if (command === 'SendTaskSuccess' || command === 'SendTaskFailure' || command === 'SendTaskHeartbeat') return [{ action, resource: '*' }];
      return undefined;
    case 'secretsmanager': {
      if (command !== 'GetSecretValue' && command !== 'DescribeSecret') return undefined;
      const id = String(input.SecretId ?? '');
      // A secret named without its ARN is authorized against its full ARN (six random characters appended).
      return [{ action, resource: id.startsWith('arn:') ? id : arn('secretsmanager', `secret:${id}-AbCdEf`) }];
    }
    case 'cloudwatch':
      if (command === 'GetMetricData' || command === 'GetMetricStatistics' || command === 'ListMetrics') return [{ action, resource: '*' }];
      if (command === 'PutMetricData') return [{ action, resource: '*', context: { 'cloudwatch:namespace': String(input.Namespace ?? '') } }];
      return undefined;
    case 'ssm': {
      const param = (name: unknown) => arn('ssm', `parameter/${String(name).replace(/^\//, '')}`);
      if (['GetParameter', 'PutParameter', 'DeleteParameter', 'GetParameterHistory', 'LabelParameterVersion'].includes(command)) return [{ action, resource: param(input.Name) }];
      if (command === 'GetParameters') return ((input.Names ?? []) as unknown[]).map((n) => ({ action, resource: param(n) }));
      if (command === 'GetParametersByPath') return [{ action, resource: param(input.Path) }];
      return undefined;
    }
    case 'rds':
      if (command === 'DescribeDBInstances') return [{ action, resource: input.DBInstanceIdentifier ? arn('rds', `db:${String(input.DBInstanceIdentifier)}`) : arn('rds', 'db:*') }];
      if (command === 'DescribeDBParameters' || command === 'ModifyDBParameterGroup' || command === 'DescribeDBParameterGroups') return [tagged(arn('rds', `pg:${String(input.DBParameterGroupName ?? '*')}`))];
      return undefined;
    case 'elasticache':
      if (command === 'DescribeReplicationGroups' || command === 'ModifyReplicationGroup') return [tagged(arn('elasticache', `replicationgroup:${String(input.ReplicationGroupId ?? '*')}`))];
      return undefined;
    case 'eks':
      if (command === 'DescribeCluster') return [{ action, resource: arn('eks', `cluster/${String(input.name)}`) }];
      return undefined;
    case 'acm':
      if (command === 'ListCertificates') return [{ action, resource: '*' }];
      if (command === 'DescribeCertificate') return [{ action, resource: String(input.CertificateArn) }];
      return undefined;
    case 'iam': {
      const user = (name: unknown) => `arn:${partition}:iam::${account}:user/${String(name)}`;
      // No resource type for ListUsers (Service Authorization Reference): evaluated on "*", as AWS does.
      if (command === 'ListUsers') return [{ action, resource: '*' }];
      if (command === 'ListAccessKeys' || command === 'GetAccessKeyLastUsed') return [{ action, resource: user(input.UserName ?? '*') }];
      return undefined;
    }
    case 'elasticloadbalancing':
      return command.startsWith('Describe') ? [{ action, resource: '*' }] : undefined;
    case 's3': {
      // Buckets and objects have no region or account in their ARNs.
      if (typeof input.Bucket !== 'string' || input.Bucket === '') return undefined;
      const bucket = input.Bucket;
      const object = `arn:${partition}:s3:::${bucket}/${String(input.Key ?? '')}`;
      const keyed = typeof input.Key === 'string' && input.Key !== '';
      if ((command === 'GetObject' || command === 'HeadObject') && keyed) return [{ action: 's3:GetObject', resource: object }];
      // A conditional put (If-Match / If-None-Match) needs no more than s3:PutObject.
      if ((command === 'PutObject' || command === 'DeleteObject') && keyed) return [{ action, resource: object }];
      if (command === 'ListObjectsV2' || command === 'ListObjects') return [{ action: 's3:ListBucket', resource: `arn:${partition}:s3:::${bucket}`, context: { 's3:prefix': String(input.Prefix ?? '') } }];
      return undefined;
    }
    case 'bedrock': {
      // The runtime client's calls are authorized as bedrock:*; a foundation model's ARN has no account.
      const model = String(input.modelId ?? '');
      const resource = model.startsWith('arn:') ? model : `arn:${partition}:bedrock:${region}::foundation-model/${model}`;
      // Converse is authorized as bedrock:InvokeModel, its streaming forms as
      // bedrock:InvokeModelWithResponseStream (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html).
      if (command === 'InvokeModel' || command === 'Converse') return [{ action: 'bedrock:InvokeModel', resource }];
      if (command === 'InvokeModelWithResponseStream' || command === 'ConverseStream') return [{ action: 'bedrock:InvokeModelWithResponseStream', resource }];
      return undefined;
    }
    case 'sts':
      // GetCallerIdentity needs no permission; the EKS token presigns it.
      return command === 'GetCallerIdentity' ? [] : undefined;
    default:
      return undefined;
  }
}

/** The service prefix of a client name (`DynamoDBClient` → `dynamodb`). */
export function serviceOf(clientName: string): string | undefined {
  return SERVICES[clientName];
}
