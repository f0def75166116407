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
import { actionTargetEnvironment, TargetConfigError } from '../../../lib/infra/action-targets';
import { DEFAULT_MANIFEST_FILE } from '../../../lib/infra/playbook-machines';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { actionEnvironmentSchema } from '../../../lib/runtime/environment';
import { ACTIONS } from '../../../lib/actions';

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
    expect([...stack.eksAccess!.entries.keys()].sort()).toEqual(['check_certificates', 'collect_thread_dump_and_metrics', 'kafka_admin', 'kubectl_exec', 'kubectl_patch', 'kubectl_rollout_undo', 'kubectl_scale', 'patch_hpa_max', 'rolling_restart']);
  });

  it('is cdk-nag AwsSolutions clean with everything configured', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
  });
});
