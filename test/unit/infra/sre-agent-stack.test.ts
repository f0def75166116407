/**
 * The CDK stack, synthesized in memory with esbuild bundling skipped (`aws:cdk:bundling-stacks`
 * is empty) against the fixture manifest in test/fixtures/infra; no AWS account, no network.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as z from '../../../lib/yaml/zod';
import { buildApp } from '../../../bin/sre-agent';
import { ACTIONS } from '../../../lib/actions';
import { defineAction } from '../../../lib/actions/define';
import { ActionFunctions } from '../../../lib/infra/action-functions';
import { DataTables } from '../../../lib/infra/data-tables';
import { Notifications } from '../../../lib/infra/notifications';
import { DEFAULT_MANIFEST_FILE, PlaybookMachines } from '../../../lib/infra/playbook-machines';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { DEFAULT_BREAKER_CONFIG } from '../../../lib/breaker';
import { awsBreakerConfig } from '../../../lib/runtime/aws';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURE_MANIFEST = path.join(REPO, 'test/fixtures/infra/index.json');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
/** What every function role holds besides its own grants: its log group and X-Ray. */
const BASELINE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

interface Synth {
  readonly app: App;
  readonly stack: SreAgentStack;
  readonly template: Template;
}

let defaults: Synth | undefined;

/**
 * The app and stack with cdk.json's context, no bundling, the fixture manifest unless told. Built
 * once for the defaults (the tests only read it: a synthesis takes seconds), fresh for any option.
 */
function synth(options: { config?: Record<string, unknown>; manifestFile?: string } = {}): Synth {
  if (!options.config && !options.manifestFile) return (defaults ??= build(options));
  return build(options);
}

function build(options: { config?: Record<string, unknown>; manifestFile?: string }): Synth {
  const context: Record<string, unknown> = { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] };
  if (options.config) context['sre-agent:config'] = options.config;
  const { app, stack } = buildApp({ context, manifestFile: options.manifestFile ?? FIXTURE_MANIFEST });
  return { app, stack, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnRole);
}

interface Statement {
  readonly Action: string[];
  readonly Effect: string;
  readonly Resource: unknown[];
}

/** The statements of a role's policies, actions and resources as sorted arrays (minimizePolicies reorders them). */
function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : [x]);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Record<string, unknown>[] } } }[];
  return policies
    .filter((p) => p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .map((st) => ({
      Action: (list(st.Action) as string[]).slice().sort(),
      Effect: String(st.Effect),
      Resource: list(st.Resource).slice().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }));
}

/** Every IAM action in the policies attached to a role. */
function roleActions(template: Template, roleLogicalId: string): string[] {
  return roleStatements(template, roleLogicalId).flatMap((st) => st.Action).sort();
}

function sortedRefs(refs: unknown[]): unknown[] {
  return refs.slice().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function placeholdersIn(aslFile: string): string[] {
  return [...new Set([...fs.readFileSync(aslFile, 'utf8').matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? ''))].sort();
}

describe('SreAgentStack', () => {
  describe('action functions', () => {
    const permitted = Object.values(ACTIONS).filter((a) => !a.blacklist);
    const blacklisted = Object.values(ACTIONS).filter((a) => a.blacklist);

    it('creates one function per registry action that is not blacklisted, and none for blacklisted ones', () => {
      // GIVEN the registry  WHEN the stack synthesizes
      const { stack, template } = synth();
      // THEN
      expect(stack.actions.names.sort()).toEqual(permitted.map((a) => a.name).sort());
      expect(stack.actions.skipped.slice().sort()).toEqual(blacklisted.map((a) => a.name).sort());
      const descriptions = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => String((f as { Properties: { Description: string } }).Properties.Description));
      expect(descriptions.filter((d) => d.startsWith('sre-agent action '))).toHaveLength(permitted.length);
      for (const a of blacklisted) expect(descriptions.some((d) => d.startsWith(`sre-agent action ${a.name}:`))).toBe(false);
    });

    it.each([
      ['patch_hpa_max', ['eks:DescribeCluster']],
      ['elasticache_modify', ['elasticache:DescribeReplicationGroups', 'elasticache:ModifyReplicationGroup']],
      ['check_certificates', ['acm:DescribeCertificate', 'acm:ListCertificates', 'eks:DescribeCluster', 'iam:GetAccessKeyLastUsed', 'iam:ListAccessKeys', 'iam:ListUsers']],
      ['api_call', []],
    ])('gives %s exactly the IAM actions of its definition, beyond its log group, X-Ray, its dispatcher\'s items (and, when it mutates, breakers and their notifications)', (name, expected) => {
      // GIVEN the registry definition
      expect([...(ACTIONS[name]?.iamActions ?? [])].sort()).toEqual(expected);
      // WHEN
      const { stack, template } = synth();
      // THEN
      const role = stack.actions.agentFunctionFor(name)?.role;
      expect(role).toBeDefined();
      // A mutating action may trip its service breaker: the runtime notifies the owner (SNS on a KMS-encrypted topic, chat secrets).
      const mutates = ACTIONS[name]!.mutates;
      const notify = mutates ? ['kms:Decrypt', 'kms:GenerateDataKey', 'secretsmanager:GetSecretValue', 'sns:Publish'] : [];
      // The dispatcher's items (actionDataGrants): the incident's, its approval's, and for a mutation the breakers'.
      const data = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:UpdateItem', ...(mutates ? ['dynamodb:GetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'] : [])];
      expect(roleActions(template, logicalId(stack, role!))).toEqual([...BASELINE_ACTIONS, ...data, ...expected, ...notify].sort());
    });

    it('runs each action on nodejs22.x/ARM64 with tracing, JSON logs and the timeout of its definition', () => {
      // GIVEN kubectl_rollout_undo declares timeoutSeconds 600
      expect(ACTIONS.kubectl_rollout_undo?.timeoutSeconds).toBe(600);
      // WHEN
      const { template } = synth();
      // THEN
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^sre-agent action kubectl_rollout_undo:'),
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Timeout: 600,
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON', LogGroup: Match.anyValue() }),
        Environment: { Variables: Match.objectLike({ INCIDENTS_TABLE: Match.anyValue(), APPROVALS_TABLE: Match.anyValue(), TOPIC_ARN: Match.anyValue() }) },
      });
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    });

    it.each([
      ['redis_analysis', false],
      ['redis_command', true],
    ])('scopes the dispatcher\'s DynamoDB access of %s to the partition keys it touches (mutates: %s)', (name, mutates) => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      const role = stack.actions.agentFunctionFor(name)!.role;
      const arn = (t: 'incidents' | 'approvals' | 'breakers') => ({ 'Fn::GetAtt': [logicalId(stack, stack.tables[t]), 'Arn'] });
      const keys = (...k: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': k } });
      // THEN
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: logicalId(stack, role) }]))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[])
        .filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
      expect(statements).toEqual(
        expect.arrayContaining([
          { Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: arn('incidents'), Condition: keys('INC-*') },
          { Action: mutates ? ['dynamodb:GetItem', 'dynamodb:UpdateItem'] : 'dynamodb:UpdateItem', Effect: 'Allow', Resource: arn('approvals'), Condition: keys('STEP#*') },
        ]),
      );
      expect(statements.some((st) => JSON.stringify(st.Resource) === JSON.stringify(arn('breakers')))).toBe(mutates);
      expect(statements.every((st) => st.Condition !== undefined)).toBe(true);
    });

    it('scopes eks:DescribeCluster to the cluster named in the configuration', () => {
      // GIVEN
      const config = { eksClusterName: 'exchange-prod' };
      // WHEN
      const { stack, template } = synth({ config });
      // THEN
      const role = stack.actions.agentFunctionFor('patch_hpa_max')!.role;
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(stack, role) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Action: 'eks:DescribeCluster',
              Effect: 'Allow',
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':cluster/exchange-prod']] },
            },
          ]),
        },
      });
    });
  });

  describe('data tables', () => {
    it('turns on point-in-time recovery, encryption and deletion protection for every table', () => {
      // GIVEN / WHEN
      const { template } = synth();
      // THEN
      template.resourceCountIs('AWS::DynamoDB::Table', 4);
      template.allResourcesProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
    });

    it('expires approvals and dedupe records through TTL, never incidents or breakers', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      const table = (t: keyof Pick<DataTables, 'incidents' | 'breakers' | 'approvals' | 'dedupe'>) => template.toJSON().Resources[logicalId(stack, stack.tables[t])].Properties;
      // THEN
      expect(table('approvals').TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
      expect(table('dedupe').TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
      expect(table('dedupe').KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
      expect(table('incidents').TimeToLiveSpecification).toBeUndefined();
      expect(table('incidents').KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(table('breakers').TimeToLiveSpecification).toBeUndefined();
    });
  });

  describe('breaker thresholds', () => {
    it('gives every Lambda the thresholds of cdk.json as BREAKER_CONFIG, and none when left to the defaults', () => {
      // GIVEN / WHEN
      const configured = synth({ config: { ...(CDK_JSON_CONTEXT['sre-agent:config'] as object), breakers: { coolDownSeconds: 900 } } }).template;
      const defaults = synth().template;
      // THEN
      const variables = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function')).map((r) => (r as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {});
      const sreAgent = (t: Template) => variables(t).filter((v) => v.POWERTOOLS_SERVICE_NAME === 'sre-agent');
      expect(sreAgent(configured).length).toBeGreaterThan(10);
      expect(sreAgent(configured).every((v) => v.BREAKER_CONFIG === JSON.stringify({ coolDownSeconds: 900 }))).toBe(true);
      expect(sreAgent(defaults).some((v) => 'BREAKER_CONFIG' in v)).toBe(false);
    });

    it('refuses to synthesize thresholds that are not valid, naming the field', () => {
      expect(() => synth({ config: { breakers: { coolDownSeconds: -1 } } })).toThrow(/sre-agent:config\.breakers\.coolDownSeconds/);
      expect(() => synth({ config: { breakers: { coolDown: 60 } } })).toThrow(/sre-agent:config\.breakers/);
    });

    it('reads them back in the Lambdas, and fails the cold start on a bad value with the variable and the field', () => {
      expect(awsBreakerConfig({ BREAKER_CONFIG: '{"coolDownSeconds":900}' })).toMatchObject({ coolDownSeconds: 900, serviceAttemptLimit: 3 });
      expect(awsBreakerConfig({})).toEqual(DEFAULT_BREAKER_CONFIG);
      expect(() => awsBreakerConfig({ BREAKER_CONFIG: '{"serviceAttemptLimit":0}' })).toThrow(/^environment variable BREAKER_CONFIG: .*serviceAttemptLimit/);
    });
  });

  describe('playbook machines', () => {
    const manifest = JSON.parse(fs.readFileSync(FIXTURE_MANIFEST, 'utf8')) as { machines: { playbook: string; file: string }[] };

    it('creates a Standard, logged, traced state machine per manifest entry, every placeholder resolved to a function ARN', () => {
      // GIVEN the fixture manifest  WHEN
      const { stack, template } = synth();
      // THEN
      template.resourceCountIs('AWS::StepFunctions::StateMachine', manifest.machines.length);
      for (const m of manifest.machines) {
        const machine = stack.playbooks.machines.get(m.playbook)!;
        const props = template.toJSON().Resources[logicalId(stack, machine)].Properties;
        expect(props.StateMachineType).toBe('STANDARD');
        expect(props.TracingConfiguration).toEqual({ Enabled: true });
        expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
        expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(placeholdersIn(path.join(REPO, m.file)));
        for (const value of Object.values(props.DefinitionSubstitutions)) expect(value).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
      }
      const surge = template.toJSON().Resources[logicalId(stack, stack.playbooks.machines.get('scale-on-surge')!)].Properties;
      expect(surge.DefinitionSubstitutions).toEqual({
        Fn_evaluate: { 'Fn::GetAtt': [logicalId(stack, stack.core.functionFor('evaluate')), 'Arn'] },
        Action_patch_hpa_max: { 'Fn::GetAtt': [logicalId(stack, stack.actions.functionFor('patch_hpa_max')!), 'Arn'] },
      });
    });

    it('lets each machine invoke exactly the functions it uses', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      const machine = stack.playbooks.machines.get('scale-on-surge')!;
      // THEN
      const arn = (fn: lambda.IFunction) => ({ 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] });
      const invoke = roleStatements(template, logicalId(stack, machine.role)).filter((st) => st.Action.includes('lambda:InvokeFunction'));
      expect(invoke).toEqual([
        { Action: ['lambda:InvokeFunction'], Effect: 'Allow', Resource: sortedRefs([arn(stack.core.functionFor('evaluate')), arn(stack.actions.functionFor('patch_hpa_max')!)]) },
      ]);
    });

    it('routes ALARM state changes of alarms named with the playbook prefix to the trigger Lambda, with a dead-letter queue', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          detail: { alarmName: [{ prefix: 'sre-agent/scale-on-surge/' }], state: { value: ['ALARM'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalId(stack, stack.core.functionFor('trigger')), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.core.deadLetterQueue), 'Arn'] } },
          }),
        ],
      });
    });

    it("routes the machines' FAILED, TIMED_OUT and ABORTED executions to the execution-ended Lambda, with a dead-letter queue", () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      const machineRefs = manifest.machines.map((m) => ({ Ref: logicalId(stack, stack.playbooks.machines.get(m.playbook)!) }));
      // THEN
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: Match.arrayWith(machineRefs) },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalId(stack, stack.core.functionFor('executionEnded')), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.core.deadLetterQueue), 'Arn'] } },
          }),
        ],
      });
    });

    it('starts scheduled playbooks from an EventBridge schedule with no incident yet (Start incident opens one), a role and a dead-letter queue', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        Targets: [
          Match.objectLike({
            Arn: { Ref: logicalId(stack, stack.playbooks.machines.get('certificate-check')!) },
            InputTransformer: { InputPathsMap: { time: '$.time' }, InputTemplate: '{"context":{"trigger":"schedule","scheduled_at":<time>}}' },
            RoleArn: Match.anyValue(),
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.core.deadLetterQueue), 'Arn'] } },
          }),
        ],
      });
    });

    it('lets the trigger start the machines and the approval callback answer their task tokens', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      const machineRefs = manifest.machines.map((m) => ({ Ref: logicalId(stack, stack.playbooks.machines.get(m.playbook)!) }));
      // THEN
      expect(roleStatements(template, logicalId(stack, stack.core.agentFunctionFor('trigger').role))).toContainEqual({
        Action: ['states:StartExecution'],
        Effect: 'Allow',
        Resource: sortedRefs(machineRefs),
      });
      // The task-token calls have no resource type (Service Authorization Reference): "*" is the only Resource that matches them.
      expect(roleStatements(template, logicalId(stack, stack.core.agentFunctionFor('approvalCallback').role))).toContainEqual({
        Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        Effect: 'Allow',
        Resource: ['*'],
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^sre-agent trigger:'),
        Environment: { Variables: Match.objectLike({ STATE_MACHINES: Match.anyValue(), SERVICES: JSON.stringify((CDK_JSON_CONTEXT['sre-agent:config'] as { services: unknown }).services) }) },
        DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [logicalId(stack, stack.core.deadLetterQueue), 'Arn'] } },
      });
    });

    (fs.existsSync(DEFAULT_MANIFEST_FILE) ? it : it.skip)('synthesizes the compiled playbooks of statemachines/ cdk-nag clean', () => {
      // GIVEN the compiler's manifest  WHEN
      const { stack } = synth({ manifestFile: DEFAULT_MANIFEST_FILE });
      // THEN
      const compiled = JSON.parse(fs.readFileSync(DEFAULT_MANIFEST_FILE, 'utf8')) as { machines: unknown[] };
      expect(stack.playbooks.machines.size).toBe(compiled.machines.length);
      expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
    });
  });

  describe('approval pages', () => {
    it('routes GET and POST /approvals/{id} of an HTTP API to the approval-callback function (payload 2.0)', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      const api = logicalId(stack, stack.approvals.api);
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration', {
        Properties: { ApiId: { Ref: api }, IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { 'Fn::GetAtt': [logicalId(stack, stack.core.functionFor('approvalCallback')), 'Arn'] } },
      });
      expect(Object.keys(integrations)).toHaveLength(1);
      const target = { 'Fn::Join': ['', ['integrations/', { Ref: Object.keys(integrations)[0] }]] };
      for (const method of ['GET', 'POST']) {
        template.hasResourceProperties('AWS::ApiGatewayV2::Route', { ApiId: { Ref: api }, RouteKey: `${method} /approvals/{id}`, AuthorizationType: 'NONE', Target: target });
      }
      template.resourceCountIs('AWS::ApiGatewayV2::Route', 2);
      template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com', FunctionName: { 'Fn::GetAtt': [logicalId(stack, stack.core.functionFor('approvalCallback')), 'Arn'] } });
    });

    it('logs every request of the $default stage as JSON, without the query string that carries the signature, and throttles it', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      const stage = template.toJSON().Resources[logicalId(stack, stack.approvals.stage)].Properties;
      expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
      expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.approvals.accessLogs), 'Arn'] });
      const format = JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>;
      expect(format).toMatchObject({ requestId: '$context.requestId', ip: '$context.identity.sourceIp', status: '$context.status' });
      expect(Object.values(format).join(' ')).not.toMatch(/querystring|requestOverride|\$input/i);
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.key), 'Arn'] } });
    });

    it('generates the signing key in Secrets Manager and lets only the approval-callback and approval-request functions read it', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false } });
      const secret = { Ref: logicalId(stack, stack.approvals.signingKey) };
      for (const name of ['approvalCallback', 'approvalRequest'] as const) {
        const reads = roleStatements(template, logicalId(stack, stack.core.agentFunctionFor(name).role)).filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue'));
        expect(reads.flatMap((st) => [st.Resource].flat())).toContainEqual(secret);
      }
      const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('secretsmanager:GetSecretValue') && JSON.stringify(p).includes(secret.Ref));
      expect(readers).toHaveLength(2);
    });

    it('tells the approval request where links point and which secret signs them, and the callback which secret verifies them', () => {
      // GIVEN / WHEN
      const { stack, template } = synth();
      // THEN
      const secret = { Ref: logicalId(stack, stack.approvals.signingKey) };
      const variables = (name: 'approvalCallback' | 'approvalRequest') =>
        template.toJSON().Resources[logicalId(stack, stack.core.functionFor(name))].Properties.Environment.Variables as Record<string, unknown>;
      expect(variables('approvalRequest')).toMatchObject({
        SIGNING_SECRET_ID: secret,
        APPROVAL_BASE_URL: { 'Fn::Join': ['', ['https://', { Ref: logicalId(stack, stack.approvals.api) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']] },
      });
      expect(variables('approvalCallback')).toMatchObject({ SIGNING_SECRET_ID: secret });
      expect(variables('approvalCallback').APPROVAL_BASE_URL).toBeUndefined();
      template.hasOutput('ApprovalPagesUrl', { Value: variables('approvalRequest').APPROVAL_BASE_URL });
    });

    it('acknowledges only APIG4 on the two routes and SMG4 on the signing key, each with its reason', () => {
      // GIVEN / WHEN
      const { stack } = synth();
      // THEN
      const acknowledged = stack.approvals.node
        .findAll()
        .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => [c.node.path.slice(stack.approvals.node.path.length + 1), m.data as Record<string, string>] as const));
      expect(acknowledged.map(([where, data]) => [where, Object.keys(data)])).toEqual([
        ['SigningKey', ['Annotation::AwsSolutions-SMG4']],
        ['Api/GET--approvals--{id}', ['Annotation::AwsSolutions-APIG4']],
        ['Api/POST--approvals--{id}', ['Annotation::AwsSolutions-APIG4']],
      ]);
      expect(acknowledged[1]![1]['Annotation::AwsSolutions-APIG4']).toMatch(/^No authorizer on purpose: the approval link is the credential\. Each link carries an HMAC-SHA256 signature/);
      expect(acknowledged[0]![1]['Annotation::AwsSolutions-SMG4']).toMatch(/invalidates every outstanding approval link/);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('reports no violation that is not acknowledged with a reason', () => {
      // GIVEN the app as bin/sre-agent.ts builds it (AwsSolutionsChecks registered)
      const { app, stack } = synth();
      // WHEN the pack checks the stack, and the app synthesizes (validation plugins run)
      const { violations } = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      // THEN (cdk-nag 3 reports through CDK policy validation, not annotations: no error of either kind)
      expect(violations).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(() => app.synth()).not.toThrow();
      // the approval pages are part of what was checked
      expect(Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route')).not.toEqual({});
    });

    it('refuses an IAM action that has no resource-scoping rule, with a warning that names it', () => {
      // GIVEN an action whose IAM action is granted on "*" without a reason
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Bare');
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const unscoped = defineAction({
        name: 'api_call',
        description: 'test double',
        kind: 'diagnostic',
        mutates: false,
        defaultRisk: 'LOW',
        params: z.strictObject({}),
        outputs: [],
        uses: [],
        iamActions: ['s3:GetObject'],
        run: async () => ({ summary: 'never runs' }),
      });
      // WHEN
      const fns = new ActionFunctions(stack, 'Actions', {
        environment: { INCIDENTS_TABLE: 'i', BREAKERS_TABLE: 'b', APPROVALS_TABLE: 'a', DEDUPE_TABLE: 'd', TOPIC_ARN: 'arn:aws:sns:eu-west-1:111111111111:t', SECRETS_PREFIX: 'sre-agent/', POWERTOOLS_SERVICE_NAME: 'sre-agent' },
        notifications: new Notifications(stack, 'Notifications', { key }),
        tables: new DataTables(stack, 'Data'),
        actions: { api_call: unscoped },
      });
      // THEN
      const { violations } = new AwsSolutionsChecks(undefined, {}).validateScope(stack);
      expect(violations).toEqual([
        expect.objectContaining({
          ruleName: 'AwsSolutions-IAM5[Resource::*]',
          violatingResources: [expect.objectContaining({ constructPath: `${fns.node.path}/api_call/Permissions/Resource` })],
        }),
      ]);
      Annotations.fromStack(stack).hasWarning(`/${fns.node.path}/api_call`, Match.stringLikeRegexp('s3:GetObject on \\* has no wildcard reason'));
    });
  });

  describe('PlaybookMachines', () => {
    /** A bare stack with stand-in functions for the placeholders. */
    function bareStack() {
      const stack = new Stack(new App(), 'Bare');
      const fn = (id: string) => new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler=async()=>{}') });
      const functions = { Fn_evaluate: fn('Evaluate'), patch_hpa_max: fn('Patch'), trigger: fn('Trigger') };
      const common = {
        coreFunction: (key: string) => (key === 'Fn_evaluate' ? functions.Fn_evaluate : undefined),
        actionFunction: (action: string) => (action === 'patch_hpa_max' ? functions.patch_hpa_max : undefined),
        triggerFunction: functions.trigger,
        deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
      };
      return { stack, common };
    }

    function tempManifest(machines: unknown[]): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sre-agent-infra-'));
      const file = path.join(dir, 'index.json');
      fs.writeFileSync(file, JSON.stringify({ generated: 'test', machines }));
      return file;
    }

    it('synthesizes no machine and warns "run npm run compile" when an optional manifest is missing', () => {
      // GIVEN
      const { stack, common } = bareStack();
      // WHEN
      const playbooks = new PlaybookMachines(stack, 'Playbooks', { ...common, manifestFile: path.join(os.tmpdir(), 'no-such-dir', 'index.json'), allowMissingManifest: true });
      // THEN
      expect(playbooks.machines.size).toBe(0);
      Template.fromStack(stack).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
      Annotations.fromStack(stack).hasWarning('/Bare/Playbooks', Match.stringLikeRegexp('run npm run compile'));
    });

    it('throws when a manifest given explicitly is missing', () => {
      // GIVEN
      const { stack, common } = bareStack();
      const file = path.join(os.tmpdir(), 'no-such-dir', 'index.json');
      // WHEN / THEN
      expect(() => new PlaybookMachines(stack, 'Playbooks', { ...common, manifestFile: file })).toThrow(`playbook manifest ${file} does not exist; run npm run compile, or pass an existing manifestFile`);
    });

    it('refuses a machine that would invoke a blacklisted action', () => {
      // GIVEN a manifest naming dns_failover (no function exists for it)
      const { stack, common } = bareStack();
      const manifestFile = tempManifest([
        {
          playbook: 'bad',
          file: 'test/fixtures/infra/scale-on-surge.asl.json',
          source: 'x.yaml',
          trigger: { type: 'alarm', alarmNamePrefix: 'sre-agent/bad/' },
          substitutions: ['Fn_evaluate', 'Action_patch_hpa_max', 'Action_dns_failover'],
        },
      ]);
      // WHEN / THEN
      expect(() => new PlaybookMachines(stack, 'Playbooks', { ...common, manifestFile })).toThrow(
        'playbook bad: placeholder ${Action_dns_failover} cannot be resolved: action "dns_failover" has no function (blacklisted or not in the registry)',
      );
    });

    it('refuses an ASL placeholder that the manifest does not list', () => {
      // GIVEN the ASL uses ${Action_patch_hpa_max} but the manifest lists only Fn_evaluate
      const { stack, common } = bareStack();
      const manifestFile = tempManifest([
        { playbook: 'drift', file: 'test/fixtures/infra/scale-on-surge.asl.json', source: 'x.yaml', trigger: { type: 'alarm', alarmNamePrefix: 'sre-agent/drift/' }, substitutions: ['Fn_evaluate'] },
      ]);
      // WHEN / THEN
      expect(() => new PlaybookMachines(stack, 'Playbooks', { ...common, manifestFile })).toThrow('playbook drift: test/fixtures/infra/scale-on-surge.asl.json uses ${Action_patch_hpa_max} but the manifest does not list them in substitutions');
    });
  });
});
