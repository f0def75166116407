/**
 * The synthesized stack as the IAM check needs it: each function's id (the `sre-agent:function`
 * metadata the AgentFunction construct writes), its role, and the policy documents attached to
 * that role, with every CloudFormation intrinsic resolved to the ARNs of the world the handlers run
 * in (the local engine's tables and machines, or a test's). Synthesized in process (no bundling,
 * no cdk-nag, no CloudFormation validation: about 3 s) or read from a cdk.out template.
 */
import { readFileSync } from 'node:fs';
import { IamTemplateError } from './errors';

/** Metadata key on each Lambda function resource: `trigger`, `evaluate`, ..., `action:<name>`. */
export const FUNCTION_METADATA_KEY = 'sre-agent:function';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly Metadata?: Record<string, Json>;
}
/** A CloudFormation template (the parts read here). */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** Where the handlers run: account, region, and the physical names the stack's resources have there. */
export interface IamWorld {
  /** @default '000000000000' */
  readonly account?: string;
  /** @default 'local' (the local engine's ARNs) */
  readonly region?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /**
   * Physical values of environment variables the functions get from the stack, by variable name:
   * `{ INCIDENTS_TABLE: 'sre-agent-incidents', TOPIC_ARN: '...' }`. The logical resource each
   * variable refers to takes that name (a table's ARN is then `table/sre-agent-incidents`).
   * @default {}
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Physical name of each state machine, by playbook (read from the trigger's STATE_MACHINES).
   * @default the playbook name (the local engine's `stateMachine:<playbook>`)
   */
  readonly stateMachineName?: (playbook: string) => string;
}

/** One function of the stack and what its role may do. */
export interface FunctionRole {
  /** `trigger`, `evaluate`, ..., `action:redis_command`. */
  readonly id: string;
  readonly roleArn: string;
  readonly roleName: string;
  /** Identity policies of the role (attached AWS::IAM::Policy resources and inline policies), resolved. */
  readonly policies: readonly { readonly name: string; readonly document: Json }[];
  /** The function's environment, resolved. */
  readonly environment: Readonly<Record<string, string>>;
}

/** What the template says about the world besides roles: the topic's key, tables' partition keys. */
export interface StackFacts {
  readonly functions: ReadonlyMap<string, FunctionRole>;
  /** Topic ARN → ARN of its KMS key (publishers need kms:GenerateDataKey and kms:Decrypt on it). */
  readonly topicKeys: ReadonlyMap<string, string>;
  /** Table name → name of its partition-key attribute (for `dynamodb:LeadingKeys`). */
  readonly partitionKeys: ReadonlyMap<string, string>;
  /** Playbook → state machine ARN. */
  readonly stateMachines: ReadonlyMap<string, string>;
  /** Resource ARN → its resource policy (KMS key policies, SNS topic policies, secret policies). */
  readonly resourcePolicies: ReadonlyMap<string, Json>;
  /** Secret logical-id-derived ARNs, e.g. the approval links' signing key (SIGNING_SECRET_ID). */
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** Reads a template file (`cdk.out/SreAgent.template.json`). */
export function readTemplate(file: string): CfnTemplate {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
  } catch (err) {
    throw new IamTemplateError(`cannot read the synthesized template ${file}: ${(err as Error).message}; run npx cdk synth`, { cause: err });
  }
}

/**
 * Synthesizes the stack in this process, as `cdk synth` would but without bundling, cdk-nag or
 * CloudFormation validation (they do not change roles or policies).
 *
 * @param options.manifestFile the compiled playbooks the engine runs. @default statemachines/index.json
 */
export function synthesizeTemplate(options: { manifestFile?: string; config?: unknown } = {}): CfnTemplate {
  // Loaded on use: aws-cdk-lib is heavy and only the IAM check needs it at run time.
  const { App } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { SreAgentStack } = require('../../infra/sre-agent-stack') as typeof import('../../infra/sre-agent-stack');
  const { parseAgentConfig, CONFIG_CONTEXT_KEY } = require('../../infra/agent-config') as typeof import('../../infra/agent-config');
  const cdkJson = JSON.parse(readFileSync(require.resolve('../../../cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false } as ConstructorParameters<typeof App>[0]);
  const config = parseAgentConfig(options.config ?? cdkJson.context?.[CONFIG_CONTEXT_KEY]);
  // The engine reads ASL files relative to the manifest's parent folder (lib/local/engine.ts): so does this.
  const manifestRootDir = options.manifestFile ? require('node:path').resolve(require('node:path').dirname(options.manifestFile), '..') : undefined;
  const stack = new SreAgentStack(app, 'SreAgent', { config, manifestFile: options.manifestFile, manifestRootDir });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

/** Resolves CloudFormation intrinsics against the physical values of one world. */
class Resolver {
  public readonly account: string;
  public readonly region: string;
  public readonly partition: string;
  private readonly names = new Map<string, string>();

  public constructor(
    private readonly template: CfnTemplate,
    world: IamWorld,
  ) {
    this.account = world.account ?? '000000000000';
    this.region = world.region ?? 'local';
    this.partition = world.partition ?? 'aws';
  }

  /** Gives a logical resource the physical value its Ref resolves to. */
  public name(logicalId: string, physical: string): void {
    this.names.set(logicalId, physical);
  }

  private arn(service: string, resource: string, region = this.region): string {
    return `arn:${this.partition}:${service}:${region}:${this.account}:${resource}`;
  }

  private resource(logicalId: string): CfnResource {
    const r = this.template.Resources[logicalId];
    if (!r) throw new IamTemplateError(`the template refers to ${logicalId}, which it does not define`);
    return r;
  }

  public ref(logicalId: string): string {
    const pseudo: Record<string, string> = { 'AWS::AccountId': this.account, 'AWS::Region': this.region, 'AWS::Partition': this.partition, 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'SreAgent', 'AWS::NoValue': '' };
    if (logicalId in pseudo) return pseudo[logicalId] as string;
    const named = this.names.get(logicalId);
    const r = this.resource(logicalId);
    const name = named ?? logicalId;
    switch (r.Type) {
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SecretsManager::Secret':
        // These Refs are ARNs.
        return named?.startsWith('arn:') ? named : this.attribute(logicalId, 'Arn');
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.region}.amazonaws.com/${this.account}/${name}`;
      default:
        return name;
    }
  }

  public attribute(logicalId: string, attribute: string): string {
    const r = this.resource(logicalId);
    const named = this.names.get(logicalId);
    const name = named && !named.startsWith('arn:') ? named : logicalId;
    if (named?.startsWith('arn:') && (attribute === 'Arn' || attribute === 'TopicArn')) return named;
    switch (`${r.Type}.${attribute}`) {
      case 'AWS::DynamoDB::Table.Arn':
        return this.arn('dynamodb', `table/${name}`);
      case 'AWS::DynamoDB::Table.StreamArn':
        return this.arn('dynamodb', `table/${name}/stream/1970-01-01T00:00:00.000`);
      case 'AWS::SNS::Topic.TopicArn':
      case 'AWS::SNS::Topic.Arn':
        return this.arn('sns', name);
      case 'AWS::SNS::Topic.TopicName':
        return name;
      case 'AWS::KMS::Key.Arn':
        return this.arn('kms', `key/${name}`);
      case 'AWS::SQS::Queue.Arn':
        return this.arn('sqs', name);
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${name}:*`);
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${name}`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return this.arn('states', `stateMachine:${name}`);
      case 'AWS::StepFunctions::StateMachine.Name':
        return name;
      case 'AWS::SecretsManager::Secret.Arn':
        // Secrets Manager appends six random characters to every secret's ARN.
        return this.arn('secretsmanager', `secret:${name}-AbCdEf`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${this.partition}:iam::${this.account}:role/${name}`;
      case 'AWS::S3::Bucket.Arn':
        return `arn:${this.partition}:s3:::${name}`;
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${name}.execute-api.${this.region}.amazonaws.com`;
      default:
        return `${logicalId}.${attribute}`;
    }
  }

  public resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0] as string;
      const arg = value[key] as Json;
      switch (key) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
          return this.attribute(String(id), String(attr));
        }
        case 'Fn::Join': {
          const [delimiter, items] = arg as [string, Json[]];
          return (this.resolve(items) as Json[]).map((x) => String(x)).join(delimiter);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number, Json];
          return (this.resolve(list) as Json[])[Number(index)] ?? null;
        }
        case 'Fn::Split': {
          const [delimiter, source] = arg as [string, Json];
          return String(this.resolve(source)).split(delimiter);
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
          return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
            if (vars && name in vars) return String(this.resolve(vars[name] as Json));
            const [id, attr] = name.split('.');
            return attr ? this.attribute(id as string, attr) : this.ref(id as string);
          });
        }
        default:
          break;
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }
}

function refOf(value: Json | undefined): string | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) && typeof value.Ref === 'string' ? value.Ref : undefined;
}

function getAttOf(value: Json | undefined): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const g = value['Fn::GetAtt'];
  return Array.isArray(g) ? String(g[0]) : undefined;
}

/**
 * Every function of the template with its role's policies, resolved in `world`.
 *
 * @throws IamTemplateError when a function has no `sre-agent:function` metadata or its role is not
 *   a role of the template (a template not made by this stack).
 */
export function stackFacts(template: CfnTemplate, world: IamWorld = {}): StackFacts {
  const resolver = new Resolver(template, world);
  const resources = Object.entries(template.Resources);
  const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[FUNCTION_METADATA_KEY] !== undefined);
  if (functions.length === 0) throw new IamTemplateError(`no Lambda function in the template carries "${FUNCTION_METADATA_KEY}" metadata: is it the sre-agent stack, synthesized from this version?`);

  // Physical names from the environment the functions get: INCIDENTS_TABLE → its table, and so on.
  const environment = world.environment ?? {};
  for (const [, fn] of functions) {
    const vars = ((fn.Properties?.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {}) as Record<string, Json>;
    for (const [name, value] of Object.entries(vars)) {
      const id = refOf(value);
      const physical = environment[name];
      if (id && physical !== undefined) resolver.name(id, physical);
    }
  }
  // State machines by playbook, from the trigger's STATE_MACHINES (a JSON object built with Fn::Join).
  const stateMachines = new Map<string, string>();
  const trigger = functions.find(([, r]) => r.Metadata?.[FUNCTION_METADATA_KEY] === 'trigger')?.[1];
  const join = (trigger?.Properties?.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables?.STATE_MACHINES;
  if (join && typeof join === 'object' && !Array.isArray(join) && Array.isArray(join['Fn::Join'])) {
    const parts = (join['Fn::Join'] as [string, Json[]])[1];
    for (let i = 1; i < parts.length; i += 1) {
      const id = refOf(parts[i]);
      const playbook = /"([^"]+)":"$/.exec(String(parts[i - 1]))?.[1];
      if (id && playbook) resolver.name(id, (world.stateMachineName ?? ((p: string) => p))(playbook));
    }
    for (let i = 1; i < parts.length; i += 1) {
      const id = refOf(parts[i]);
      const playbook = /"([^"]+)":"$/.exec(String(parts[i - 1]))?.[1];
      if (id && playbook) stateMachines.set(playbook, resolver.ref(id));
    }
  }

  const policiesByRole = new Map<string, { name: string; document: Json }[]>();
  for (const [id, r] of resources) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of (r.Properties?.Roles as Json[] | undefined) ?? []) {
      const roleId = refOf(role);
      if (!roleId) continue;
      const list = policiesByRole.get(roleId) ?? [];
      list.push({ name: id, document: resolver.resolve(r.Properties?.PolicyDocument as Json) });
      policiesByRole.set(roleId, list);
    }
  }

  const out = new Map<string, FunctionRole>();
  for (const [logicalId, fn] of functions) {
    const id = String(fn.Metadata?.[FUNCTION_METADATA_KEY]);
    const roleId = getAttOf(fn.Properties?.Role);
    const role = roleId ? template.Resources[roleId] : undefined;
    if (!roleId || role?.Type !== 'AWS::IAM::Role') throw new IamTemplateError(`function ${id} (${logicalId}) has no role of this template`);
    // The only managed policy the stack attaches is Lambda's VPC access (network interfaces): it
    // grants nothing a handler calls, so it is left out; any other cannot be read here.
    const managed = ((role.Properties?.ManagedPolicyArns as Json[] | undefined) ?? []).map((m) => String(resolver.resolve(m))).filter((arn) => !arn.endsWith(':policy/service-role/AWSLambdaVPCAccessExecutionRole'));
    if (managed.length > 0) throw new IamTemplateError(`role of ${id} has managed policies (${managed.join(', ')}), which the IAM check cannot read; the stack writes every grant out`);
    const inline = ((role.Properties?.Policies as { PolicyName: string; PolicyDocument: Json }[] | undefined) ?? []).map((p) => ({ name: p.PolicyName, document: resolver.resolve(p.PolicyDocument) }));
    const vars = ((fn.Properties?.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {}) as Record<string, Json>;
    out.set(id, {
      id,
      roleArn: resolver.attribute(roleId, 'Arn'),
      roleName: resolver.ref(roleId),
      policies: [...inline, ...(policiesByRole.get(roleId) ?? [])],
      environment: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(resolver.resolve(v))])),
    });
  }

  const topicKeys = new Map<string, string>();
  const partitionKeys = new Map<string, string>();
  const resourcePolicies = new Map<string, Json>();
  for (const [id, r] of resources) {
    // KMS needs its key policy to allow as well (the stack's keys let the account's IAM policies decide).
    if (r.Type === 'AWS::KMS::Key' && r.Properties?.KeyPolicy) resourcePolicies.set(resolver.attribute(id, 'Arn'), resolver.resolve(r.Properties.KeyPolicy));
    if (r.Type === 'AWS::SNS::TopicPolicy') for (const t of (r.Properties?.Topics as Json[] | undefined) ?? []) resourcePolicies.set(String(resolver.resolve(t)), resolver.resolve(r.Properties?.PolicyDocument as Json));
    // A bucket's policy (the reports bucket's SSL-only deny) governs its objects too: see IamCheck's lookup.
    if (r.Type === 'AWS::S3::BucketPolicy') resourcePolicies.set(`arn:${resolver.partition}:s3:::${String(resolver.resolve(r.Properties?.Bucket as Json))}`, resolver.resolve(r.Properties?.PolicyDocument as Json));
    if (r.Type === 'AWS::SecretsManager::ResourcePolicy') resourcePolicies.set(String(resolver.resolve(r.Properties?.SecretId as Json)), resolver.resolve(r.Properties?.ResourcePolicy as Json));
    if (r.Type === 'AWS::SNS::Topic' && r.Properties?.KmsMasterKeyId) topicKeys.set(resolver.ref(id), String(resolver.resolve(r.Properties.KmsMasterKeyId)));
    if (r.Type === 'AWS::DynamoDB::Table') {
      const hash = ((r.Properties?.KeySchema as { AttributeName: string; KeyType: string }[] | undefined) ?? []).find((k) => k.KeyType === 'HASH');
      if (hash) partitionKeys.set(resolver.ref(id), hash.AttributeName);
    }
  }
  return { functions: out, topicKeys, partitionKeys, stateMachines, resourcePolicies, account: resolver.account, region: resolver.region, partition: resolver.partition };
}
