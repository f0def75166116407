/**
 * The one place our Lambda defaults live: Node.js 22 on ARM64, X-Ray tracing, JSON logs into an
 * explicit, retained, KMS-encrypted log group, its own role without managed policies, esbuild
 * bundling as lib/infra/bundling.ts says (the AWS SDK left to the runtime).
 */
import * as path from 'node:path';
import { Annotations, Aws, type CfnResource, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONFIG_DIR_IN_FUNCTION, LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS, REPO_ROOT, copyConfigCommands } from './bundling';

/** Metadata key naming the function on its resource (read by lib/local/iam/template.ts, which must agree). */
export const FUNCTION_METADATA_KEY = 'sre-agent:function';

export { REPO_ROOT };

/** Runtime of every function. nodejs24.x is newer; moving to it is a deliberate upgrade. */
export const AGENT_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Permissions a caller adds to a function's role. */
export interface PermissionGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /**
   * Why a resource holds a wildcard. Required for each wildcard resource: it becomes the
   * cdk-nag AwsSolutions-IAM5 acknowledgement. Without it cdk-nag fails the synth.
   * @default - no wildcard expected
   */
  readonly wildcardReason?: string;
  /**
   * IAM conditions of the statement, e.g. `{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['INC-*'] } }`.
   * @default - none
   */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface AgentFunctionProps {
  /**
   * Which function this is: `trigger`, `evaluate`, ..., `action:<name>`. Written as the function
   * resource's `sre-agent:function` metadata, so the local IAM check (lib/local/iam) can run each
   * in-process handler under this function's role.
   */
  readonly functionId: string;
  /** Absolute path of the TypeScript entry file; its `handler` export is the handler. */
  readonly entry: string;
  readonly description: string;
  /**
   * Upper bound of one invocation.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Environment variables (our own; NODE_OPTIONS is added for source maps).
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Key that encrypts the log group. The key policy must let CloudWatch Logs use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Queue for asynchronous invocations that failed after Lambda's retries.
   * @default - failed asynchronous events are dropped
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * The private subnets and security groups of the systems the function reaches (from context ids:
   * no lookup at synth).
   * @default - outside any VPC
   */
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection; readonly securityGroups: readonly ec2.ISecurityGroup[] };
  /**
   * Concurrent executions reserved for this function (and its ceiling).
   * @default - the account's unreserved pool
   */
  readonly reservedConcurrentExecutions?: number;
}

/** A Lambda function with our defaults, its role and its log group. */
export class AgentFunction extends Construct {
  /** `trigger`, `evaluate`, ..., `action:<name>` (see AgentFunctionProps.functionId). */
  readonly functionId: string;
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  private permissions?: iam.Policy;

  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    super(scope, id);
    this.functionId = props.functionId;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `sre-agent ${id}: log group, X-Ray and the permissions granted below`,
    });
    // Written out instead of AWSLambdaBasicExecutionRole: that managed policy allows every log group.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: AGENT_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: this.logGroup,
      role: this.role,
      deadLetterQueue: props.deadLetterQueue,
      ...(props.vpc ? { vpc: props.vpc.vpc, vpcSubnets: props.vpc.subnets, securityGroups: [...props.vpc.securityGroups], allowPublicSubnet: false } : {}),
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      environment: { ...props.environment, NODE_OPTIONS: LAMBDA_NODE_OPTIONS, SRE_AGENT_CONFIG_DIR: CONFIG_DIR_IN_FUNCTION },
      bundling: {
        // One set of options for the stack and bench/bundles.ts (lib/infra/bundling.ts).
        ...LAMBDA_BUNDLING,
        externalModules: [...LAMBDA_BUNDLING.externalModules],
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: copyConfigCommands,
        },
      },
    });

    (this.function.node.defaultChild as CfnResource).addMetadata(FUNCTION_METADATA_KEY, props.functionId);

    if (props.vpc) {
      // CDK attaches AWSLambdaVPCAccessExecutionRole for the function's network interfaces.
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'Lambda needs ec2:CreateNetworkInterface/DescribeNetworkInterfaces/DeleteNetworkInterface (no resource-level scoping for Describe) to place the function in the VPC; the AWS-maintained policy grants exactly those and follows AWS changes.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x on purpose: the code is built and tested for Node 22 (local runs on Node 20); moving to nodejs24.x is a deliberate, tested upgrade, not drift at synth.',
    });
    // Tracing adds xray:PutTraceSegments/PutTelemetryRecords to the role's default policy.
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions (AWS Service Authorization Reference), so tracing needs Resource "*". The grants of the function itself sit in a separate policy with their own acknowledgements.',
    });
  }

  /**
   * Adds permissions in the function's own `Permissions` policy (kept apart from the default
   * policy so that each wildcard is acknowledged with its own reason).
   */
  addPermissions(grants: readonly PermissionGrant[]): void {
    if (grants.length === 0) return;
    const policy = (this.permissions ??= new iam.Policy(this, 'Permissions', { roles: [this.role] }));
    const reasonsByFinding = new Map<string, string[]>();
    for (const grant of grants) {
      policy.addStatements(new iam.PolicyStatement({ actions: [...grant.actions], resources: [...grant.resources], ...(grant.conditions ? { conditions: grant.conditions as Record<string, Record<string, unknown>> } : {}) }));
      for (const finding of grant.resources.map((r) => nagResourceFinding(Stack.of(this), r)).filter((f) => f.includes('*'))) {
        if (!grant.wildcardReason) {
          Annotations.of(this).addWarningV2(
            'sre-agent:unscopedPermission',
            `${grant.actions.join(', ')} on ${finding} has no wildcard reason, so cdk-nag fails the synth: scope the resource or give a reason.`,
          );
          continue;
        }
        const reasons = reasonsByFinding.get(finding) ?? [];
        if (!reasons.includes(grant.wildcardReason)) reasons.push(grant.wildcardReason);
        reasonsByFinding.set(finding, reasons);
      }
    }
    for (const [finding, reasons] of reasonsByFinding) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason: reasons.join(' ') });
    }
  }
}

/**
 * The string cdk-nag reports for a policy resource (its flattenCfnReference): `Ref`s become
 * `<Name>`, `Fn::Join` is joined, `Fn::GetAtt` becomes `<Resource.Attr>`.
 */
function nagResourceFinding(stack: Stack, resource: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (Array.isArray(o['Fn::Join'])) {
        const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
        return items.map(visit).join(delimiter);
      }
      if (Array.isArray(o['Fn::GetAtt'])) {
        const [res, attr] = o['Fn::GetAtt'] as [unknown, unknown];
        return `<${visit(res)}.${visit(attr)}>`;
      }
      if (o.Ref !== undefined) return `<${visit(o.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return Token.isUnresolved(resource) ? visit(stack.resolve(resource)) : resource;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` in this stack's account and region. */
export function accountArn(service: string, resource: string): string {
  return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
}
