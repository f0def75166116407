/**
 * What the deployment configuration (cdk.json `sre-agent:config` → targets, network,
 * eksClusterName) puts on the action functions: the variables of the targets each uses (and no
 * other), grants scoped to the configured resources, VPC placement from ids, EKS access entries.
 * Synthesized in memory, no bundling, no lookups, no AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../../bin/sre-agent';
import { actionTargetEnvironment, actionTargetGrants, TargetConfigError } from '../../../lib/infra/action-targets';
import { DEFAULT_MANIFEST_FILE } from '../../../lib/infra/playbook-machines';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { actionEnvironmentSchema } from '../../../lib/runtime/environment';
import { ACTIONS } from '../../../lib/actions';
import { ACMClient } from '@aws-sdk/client-acm';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EKSClient } from '@aws-sdk/client-eks';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { IAMClient } from '@aws-sdk/client-iam';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

type Stub = ReturnType<typeof mockClient>;
import { IamCheck, stackFacts } from '../../../lib/local/iam';
import { deniedCalls } from '../../helpers/iam';
import { AwsRdsParameters } from '../../../lib/actions/rds/aws-parameters';
import { AwsReplicationGroups } from '../../../lib/actions/elasticache/aws-replication-groups';
import { CertificateSources } from '../../../lib/actions/certificates/sources';
import { MskCloudWatchLag } from '../../../lib/actions/kafka/msk-cloudwatch';
import { eksKubeConfig } from '../../../lib/kube';
import { rdsTarget } from '../../../lib/runtime/targets/rds';
import { elasticacheTarget } from '../../../lib/runtime/targets/elasticache';
import { mysqlTarget } from '../../../lib/runtime/targets/mysql';
import { defaultPolicy } from '../../../lib/policy/files';

const REPO = path.resolve(__dirname, '../../..');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const CONFIG = {
  ...(CDK_JSON_CONTEXT['sre-agent:config'] as object),
  eksClusterName: 'exchange-prod',
  targets: {
    redisUrl: 'rediss://redis-prod.abc123.ng.0001.euw1.cache.amazonaws.com:6379',
    rdsSecretId: 'sre-agent/rds-agent-user',
    rdsInstanceId: 'orders-db',
    rdsParameterGroup: 'orders-db-params',
    elasticacheReplicationGroup: 'redis-prod',
    kafkaBrokers: 'b-1.msk.example:9098',
    mskIamRegion: 'eu-west-1',
    kafkaConsumerGroup: 'order-events',
    configParameterPrefix: '/exchange/sre-agent',
  },
  statusPage: { statuspagePageId: 'kctbh9vrtdwd' },
  network: { vpcId: 'vpc-0abc', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0aa', 'subnet-0bb'], securityGroupIds: ['sg-0a9e'] },
};

let stack: SreAgentStack;
let template: Template;
beforeAll(() => {
  ({ stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': CONFIG }, manifestFile: DEFAULT_MANIFEST_FILE }));
  template = Template.fromStack(stack);
}, 120_000);

const fnProps = (action: string) => (template.toJSON().Resources[stack.getLogicalId(stack.actions.agentFunctionFor(action)!.function.node.defaultChild as never)] as { Properties: Record<string, unknown> }).Properties;
const variables = (action: string) => (fnProps(action).Environment as { Variables: Record<string, unknown> }).Variables;
const statements = (action: string) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: stack.getLogicalId(stack.actions.agentFunctionFor(action)!.role.node.defaultChild as never) }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);

describe('per-action environment', () => {
  it.each([
    ['redis_command', { REDIS_URL: CONFIG.targets.redisUrl }, ['RDS_SECRET_ID', 'KAFKA_BROKERS']],
    ['rds_query', { RDS_SECRET_ID: 'sre-agent/rds-agent-user' }, ['REDIS_URL', 'MYSQL_URL']],
    ['rds_parameter_change', { RDS_INSTANCE_ID: 'orders-db' }, ['RDS_SECRET_ID']],
    ['elasticache_modify', { ELASTICACHE_REPLICATION_GROUP: 'redis-prod' }, ['REDIS_URL']],
    ['kafka_admin', { KAFKA_BROKERS: 'b-1.msk.example:9098', MSK_IAM_REGION: 'eu-west-1', KAFKA_CONSUMER_GROUP: 'order-events', EKS_CLUSTER_NAME: 'exchange-prod' }, ['REDIS_URL']],
    ['update_config', { CONFIG_PARAMETER_PREFIX: '/exchange/sre-agent' }, ['REDIS_URL']],
  ])('gives %s the variables of the targets it uses, and no other target’s', (action, present, absent) => {
    const v = variables(action);
    expect(v).toMatchObject(present);
    for (const k of absent) expect(v).not.toHaveProperty(k);
    // What the stack writes is what the handler's schema accepts at cold start.
    expect(actionEnvironmentSchema(ACTIONS[action]!.uses as never).safeParse(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : 'x']))).success).toBe(true);
  });

  it('refuses a Redis URL with a password at synth, naming the variable (credentials come from Secrets Manager)', () => {
    expect(() => actionTargetEnvironment(ACTIONS.redis_command!, { configParameterPrefix: '/p', redisUrl: 'redis://u:secret@host:6379' })).toThrow(TargetConfigError);
    expect(() => actionTargetEnvironment(ACTIONS.redis_command!, { configParameterPrefix: '/p', redisUrl: 'redis://u:secret@host:6379' })).toThrow(/REDIS_URL=.*credentials come from Secrets Manager/);
  });
});

describe('grants scoped to the configured resources', () => {
  it('lets rds_parameter_change change the configured parameter group alone, and describe the configured instance', () => {
    expect(statements('rds_parameter_change')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['rds:DescribeDBParameters', 'rds:ModifyDBParameterGroup'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':pg:orders-db-params']] } }),
        expect.objectContaining({ Action: 'rds:DescribeDBInstances', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':db:orders-db']] } }),
      ]),
    );
  });

  it('lets elasticache_modify resize the configured replication group alone', () => {
    expect(statements('elasticache_modify')).toContainEqual(
      expect.objectContaining({ Action: ['elasticache:DescribeReplicationGroups', 'elasticache:ModifyReplicationGroup'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':elasticache:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':replicationgroup:redis-prod']] } }),
    );
  });

  it('without configured names, allows the changes only on resources tagged sre-agent:managed=true', () => {
    const { stack: bare } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const t = Template.fromStack(bare);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: bare.getLogicalId(bare.actions.agentFunctionFor('rds_parameter_change')!.role.node.defaultChild as never) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'rds:ModifyDBParameterGroup', Condition: { StringEquals: { 'aws:ResourceTag/sre-agent:managed': 'true' } } })]) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: bare.getLogicalId(bare.actions.agentFunctionFor('elasticache_modify')!.role.node.defaultChild as never) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'elasticache:ModifyReplicationGroup', Condition: { StringEquals: { 'aws:ResourceTag/sre-agent:managed': 'true' } } })]) },
    });
  });

  it('lets the config actions use Parameter Store under the prefix only, and rds_query read its one secret', () => {
    expect(statements('update_config')).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['ssm:PutParameter', 'ssm:DeleteParameter']), Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/exchange/sre-agent/*']] } }));
    // minimizePolicies may merge it with another secret statement: look for the resource among the GetSecretValue ones.
    const secret = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:sre-agent/rds-agent-user-??????']] };
    const resources = statements('rds_query').filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')).flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]));
    expect(resources).toContainEqual(secret);
  });
});

describe('the public status page (seed §4.1 level 4)', () => {
  const coreFn = (name: 'approvalCallback' | 'escalate' | 'incident') => stack.core.agentFunctionFor(name);
  const coreProps = (name: 'approvalCallback' | 'escalate' | 'incident') => (template.toJSON().Resources[stack.getLogicalId(coreFn(name).function.node.defaultChild as never)] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties;
  const coreStatements = (name: 'approvalCallback' | 'escalate' | 'incident') =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: stack.getLogicalId(coreFn(name).role.node.defaultChild as never) }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);

  it('tells the functions that draft, publish and resolve notices which Statuspage page to use', () => {
    for (const name of ['approvalCallback', 'escalate', 'incident'] as const) expect(coreProps(name).Environment.Variables.SRE_AGENT_STATUSPAGE_PAGE_ID).toBe('kctbh9vrtdwd');
    expect(variables('redis_command').SRE_AGENT_STATUSPAGE_PAGE_ID).toBeUndefined();
  });

  it('lets the approval callback (which publishes an approved notice) read secrets under the agent prefix only', () => {
    const reads = coreStatements('approvalCallback').filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(reads)).toContain('secret:sre-agent/*');
  });

  it('refuses a plain-http webhook at synth, naming the field', () => {
    expect(() => buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': { ...CONFIG, statusPage: { webhookUrl: 'http://status.example/hook' } } }, manifestFile: DEFAULT_MANIFEST_FILE })).toThrow(/statusPage/);
  });
});

describe('network and cluster access', () => {
  it('places the functions that reach RDS, ElastiCache, MSK or the EKS endpoint in the configured private subnets, and no other', () => {
    for (const a of ['redis_command', 'rds_query', 'kafka_admin', 'patch_hpa_max']) expect(fnProps(a).VpcConfig).toEqual({ SubnetIds: ['subnet-0aa', 'subnet-0bb'], SecurityGroupIds: ['sg-0a9e'] });
    for (const a of ['rds_parameter_change', 'send_alert', 'update_config']) expect(fnProps(a).VpcConfig).toBeUndefined();
  });

  it('gives each Kubernetes action’s role an EKS access entry: edit in the exchange’s namespaces, the reader group for nodes and metrics', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'exchange-prod',
      PrincipalArn: { 'Fn::GetAtt': [stack.getLogicalId(stack.actions.agentFunctionFor('patch_hpa_max')!.role.node.defaultChild as never), 'Arn'] },
      KubernetesGroups: ['sre-agent-readers'],
      AccessPolicies: [{ PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSEditPolicy']] }, AccessScope: { Type: 'namespace', Namespaces: ['market-data', 'settlement', 'trading', 'wallet'] } }],
    });
    expect([...stack.eksAccess!.entries.keys()].sort()).toEqual(['check_certificates', 'collect_thread_dump_and_metrics', 'investigate', 'kafka_admin', 'kubectl_exec', 'kubectl_patch', 'kubectl_rollout_undo', 'kubectl_scale', 'patch_hpa_max', 'rolling_restart']);
  });

  it('gives the investigate function a read-only EKS entry (view in the same namespaces), its targets and the VPC', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::GetAtt': [stack.getLogicalId(stack.core.agentFunctionFor('investigate').role.node.defaultChild as never), 'Arn'] },
      KubernetesGroups: ['sre-agent-readers'],
      AccessPolicies: [{ PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSViewPolicy']] }, AccessScope: { Type: 'namespace', Namespaces: ['market-data', 'settlement', 'trading', 'wallet'] } }],
    });
    const fn = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^sre-agent investigate:') } });
    const [props] = Object.values(fn).map((r) => (r as { Properties: { Environment: { Variables: Record<string, unknown> }; VpcConfig?: unknown } }).Properties);
    expect(props?.Environment.Variables).toMatchObject({ EKS_CLUSTER_NAME: 'exchange-prod' });
    expect(props?.VpcConfig).toBeDefined();
  });

  it('is cdk-nag AwsSolutions clean with everything configured', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
  });
});

/**
 * The AWS-only adapters under their functions' synthesized roles. aws-sdk-client-mock replaces
 * `send`, so the SDK middleware of the IAM check never sees these calls: each call the mock
 * recorded is evaluated against the role afterwards, as AWS would have evaluated it. The targets
 * are wired from the function's synthesized environment, as its Lambda entry wires them.
 */
describe('AWS-only adapters, their recorded calls evaluated against the synthesized roles', () => {
  let check: IamCheck;
  beforeAll(() => {
    check = new IamCheck(stackFacts(template.toJSON() as never, { environment: { INCIDENTS_TABLE: 'sre-agent-incidents', BREAKERS_TABLE: 'sre-agent-breakers', APPROVALS_TABLE: 'sre-agent-approvals' } }), { enforce: false });
  });
  const mocks: Stub[] = [];
  afterEach(() => {
    for (const m of mocks.splice(0)) m.restore();
  });
  function mock(client: Parameters<typeof mockClient>[0]): Stub {
    const m = mockClient(client);
    mocks.push(m);
    return m;
  }
  const env = (fn: string) => ({ ...check.role(fn).environment }) as NodeJS.ProcessEnv;

  const denied = (fn: string, clientName: string, m: Stub) => deniedCalls(check, fn, clientName, m);

  it('rds_parameter_change reads the configured instance and changes max_connections of its parameter group, and no other group', async () => {
    const rds = mock(RDSClient);
    rds.onAnyCommand().resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-db', DBInstanceClass: 'db.r6g.large', DBParameterGroups: [{ DBParameterGroupName: 'orders-db-params' }] }], Parameters: [{ ParameterName: 'max_connections', ParameterValue: '1000', ApplyType: 'dynamic', IsModifiable: true }] } as never);
    const target = (await rdsTarget({ env: env('action:rds_parameter_change'), policy: defaultPolicy(), wired: {} })) as AwsRdsParameters;
    const state = await target.describeParameter('max_connections');
    await target.modifyParameter(state.group, 'max_connections', 1500);
    expect(await denied('action:rds_parameter_change', 'RDSClient', rds)).toEqual([]);
    rds.resetHistory();
    await target.modifyParameter('billing-db-params', 'max_connections', 1500);
    expect(await denied('action:rds_parameter_change', 'RDSClient', rds)).toEqual([expect.stringContaining('rds:ModifyDBParameterGroup on arn:aws:rds:')]);
  });

  it('elasticache_modify describes and resizes the configured replication group, and no other', async () => {
    const ec = mock(ElastiCacheClient);
    ec.onAnyCommand().resolves({ ReplicationGroups: [{ ReplicationGroupId: 'redis-prod', CacheNodeType: 'cache.r6g.large', Status: 'available' }] } as never);
    const target = (await elasticacheTarget({ env: env('action:elasticache_modify'), policy: defaultPolicy(), wired: {} })) as AwsReplicationGroups;
    const g = await target.describe();
    await target.modifyNodeType(g.id, 'cache.r6g.xlarge');
    expect(await denied('action:elasticache_modify', 'ElastiCacheClient', ec)).toEqual([]);
    ec.resetHistory();
    await target.modifyNodeType('sessions-prod', 'cache.r6g.xlarge');
    // The mock lets the modify through, so its read-back is recorded (and denied) too; AWS would stop at the modify.
    expect(await denied('action:elasticache_modify', 'ElastiCacheClient', ec)).toEqual([expect.stringContaining('elasticache:ModifyReplicationGroup'), expect.stringContaining('elasticache:DescribeReplicationGroups on arn:aws:elasticache:local:000000000000:replicationgroup:sessions-prod')]);
  });

  it('rds_query reads its one database secret, and not another database\'s', async () => {
    const sm = mock(SecretsManagerClient);
    sm.onAnyCommand().resolves({ SecretString: JSON.stringify({ username: 'sre_agent', password: 'x', host: 'orders-db.abc.eu-west-1.rds.amazonaws.com', port: 3306 }) } as never);
    // Wired as the entry wires it (the pool is lazy: no connection is made here).
    const pool = (await mysqlTarget({ env: env('action:rds_query'), policy: defaultPolicy(), wired: {} })) as { end?: () => Promise<void> } | undefined;
    await pool?.end?.();
    expect(await denied('action:rds_query', 'SecretsManagerClient', sm)).toEqual([]);
    sm.resetHistory();
    await new SecretsManagerClient({}).send(new (await import('@aws-sdk/client-secrets-manager')).GetSecretValueCommand({ SecretId: 'billing/rds-admin' }));
    expect(await denied('action:rds_query', 'SecretsManagerClient', sm)).toEqual([expect.stringContaining('secretsmanager:GetSecretValue')]);
  });

  it('check_certificates lists ACM certificates and IAM access keys with what its role allows', async () => {
    const acm = mock(ACMClient);
    const { partition, region, account } = check.facts;
    acm.onAnyCommand().resolves({ CertificateSummaryList: [{ CertificateArn: `arn:${partition}:acm:${region}:${account}:certificate/abc`, DomainName: 'api.exchange.example' }], Certificate: { DomainName: 'api.exchange.example', NotAfter: new Date('2027-01-01T00:00:00Z') } } as never);
    const iam = mock(IAMClient);
    iam.onAnyCommand().resolves({ Users: [{ UserName: 'ci-deployer' }], AccessKeyMetadata: [{ AccessKeyId: 'AKIAEXAMPLE', Status: 'Active', CreateDate: new Date('2026-01-01T00:00:00Z'), UserName: 'ci-deployer' }], AccessKeyLastUsed: { LastUsedDate: new Date('2026-12-01T00:00:00Z') } } as never);
    const sources = new CertificateSources({ acm: new ACMClient({}), iam: new IAMClient({}) });
    await sources.list(['alb_certificates']);
    await sources.accessKeys();
    expect(await denied('action:check_certificates', 'ACMClient', acm)).toEqual([]);
    expect(await denied('action:check_certificates', 'IAMClient', iam)).toEqual([]);
  });

  it('kafka_admin, configured with brokers, talks to Kafka and may not read CloudWatch (the MSK-metrics path is for a deployment without brokers)', async () => {
    const cw = mock(CloudWatchClient);
    cw.onAnyCommand().resolves({ MetricDataResults: [{ Id: 'lag', Values: [12000], Timestamps: [new Date()] }, { Id: 'timelag', Values: [90], Timestamps: [new Date()] }] } as never);
    await new MskCloudWatchLag({ client: new CloudWatchClient({}), cluster: 'exchange-msk', topic: 'orders', defaultGroup: 'order-events', serviceOf: () => undefined }).describeGroup();
    expect(await denied('action:kafka_admin', 'CloudWatchClient', cw)).toEqual(['cloudwatch:GetMetricData on *']);
    // Without brokers, the target reads MSK's CloudWatch metrics: then, and only then, the role may.
    const grants = (targets: Record<string, unknown>) => actionTargetGrants({ uses: ['kafka'] }, { configParameterPrefix: '/sre-agent', ...targets } as never).flatMap((g) => g.actions);
    expect(grants({ mskClusterName: 'exchange-msk', kafkaTopic: 'orders' })).toEqual(['cloudwatch:GetMetricData']);
    expect(grants({ kafkaBrokers: 'b-1.msk.example:9098', mskClusterName: 'exchange-msk' })).toEqual([]);
  });

  it.each(['patch_hpa_max', 'rolling_restart', 'kubectl_rollout_undo'])('%s describes the configured EKS cluster, and no other', async (action) => {
    const eks = mock(EKSClient);
    eks.onAnyCommand().resolves({ cluster: { endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthority: { data: Buffer.from('ca').toString('base64') }, status: 'ACTIVE' } } as never);
    const client = () => new EKSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } });
    await eksKubeConfig({ clusterName: env(`action:${action}`).EKS_CLUSTER_NAME!, eks: client() })();
    expect(await denied(`action:${action}`, 'EKSClient', eks)).toEqual([]);
    eks.resetHistory();
    await eksKubeConfig({ clusterName: 'payments-prod', eks: client() })();
    expect(await denied(`action:${action}`, 'EKSClient', eks)).toEqual([expect.stringContaining('eks:DescribeCluster on arn:aws:eks:')]);
  });
});
