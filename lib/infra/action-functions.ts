/**
 * One Lambda per registry action, its entry the thin lambdas/actions/<name>.ts that wires the
 * targets the definition declares (so each bundle carries only its own clients), each with its own role holding exactly
 * the IAM actions its definition declares, scoped to a resource wherever one is knowable.
 *
 * Blacklisted actions (§3.1: DNS failover, wallet transfers, RDS failover, pausing trading
 * pairs) get no function at all: the compiler never emits a Task for them, and a function that
 * does not exist cannot be invoked by mistake, by a hand-edited ASL, or by anyone with
 * lambda:InvokeFunction. A manifest that asks for one fails the synth (see PlaybookMachines).
 */
import * as path from 'node:path';
import { Aws, Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ACTIONS, type ActionDefinition } from '../actions';
import { AgentFunction, REPO_ROOT, accountArn, type AgentFunctionProps, type PermissionGrant } from './agent-function';
import { SECRET_NAME_PREFIX, type FunctionEnvironment } from '../runtime/environment';
import type { AgentConfig } from './agent-config';
import { actionTargetEnvironment, actionTargetGrants, needsVpc } from './action-targets';
import type { DataTables } from './data-tables';
import type { Notifications } from './notifications';

type AnyAction = ActionDefinition<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What the resource-scoping rules may refer to. */
interface ScopeContext {
  readonly eksClusterName?: string;
  readonly notifications: Notifications;
  /** The configured targets: RDS and ElastiCache grants name them when given. */
  readonly targets?: AgentConfig['targets'];
}

/** Resources the agent may change when none is named in the configuration carry this tag. */
export const MANAGED_TAG = { key: 'sre-agent:managed', value: 'true' } as const;

const READ_ONLY_MSK = 'MSK cluster, topic and consumer group are named by the playbook at run time; these read-only calls are scoped to the MSK resources of this account and region (cluster/<name>/<uuid>, topic|group/<cluster>/<uuid>/<name>).';

/**
 * Resource scope of each IAM action the registry uses. An IAM action missing here is granted on
 * "*" without a reason, which cdk-nag (AwsSolutions-IAM5) refuses: add its rule here.
 */
const RESOURCE_SCOPES: Readonly<Record<string, (c: ScopeContext) => PermissionGrant[]>> = {
  'eks:DescribeCluster': (c) =>
    c.eksClusterName
      ? [{ actions: ['eks:DescribeCluster'], resources: [accountArn('eks', `cluster/${c.eksClusterName}`)] }]
      : [
          {
            actions: ['eks:DescribeCluster'],
            resources: [accountArn('eks', 'cluster/*')],
            wildcardReason: 'cdk.json "sre-agent:config" names no eksClusterName, so eks:DescribeCluster (read-only: endpoint and CA of the cluster) is scoped to the EKS clusters of this account and region. Set eksClusterName to scope it to one cluster ARN.',
          },
        ],
  'cloudwatch:GetMetricData': () => [
    { actions: ['cloudwatch:GetMetricData'], resources: ['*'], wildcardReason: 'cloudwatch:GetMetricData supports no resource-level permissions (AWS Service Authorization Reference), so Resource must be "*"; it only reads metrics.' },
  ],
  'acm:ListCertificates': () => [
    { actions: ['acm:ListCertificates'], resources: ['*'], wildcardReason: 'acm:ListCertificates is a list call without resource-level permissions, so Resource must be "*"; it is read-only.' },
  ],
  'acm:DescribeCertificate': () => [
    { actions: ['acm:DescribeCertificate'], resources: [accountArn('acm', 'certificate/*')], wildcardReason: 'The certificates to check are found at run time (ListCertificates), so the read-only DescribeCertificate is scoped to the certificates of this account and region.' },
  ],
  'elasticloadbalancing:DescribeListenerCertificates': () => [
    {
      actions: ['elasticloadbalancing:DescribeListenerCertificates'],
      resources: ['*'],
      wildcardReason: 'Elastic Load Balancing Describe* calls support no resource-level permissions, so Resource must be "*"; it is read-only.',
    },
  ],
  'iam:ListUsers': () => [
    // iam:ListUsers has no resource type (Service Authorization Reference): a user ARN here would match nothing and AWS would deny the call.
    { actions: ['iam:ListUsers'], resources: ['*'], wildcardReason: 'iam:ListUsers supports no resource-level permissions, so Resource must be "*"; the daily key check (seed scenario 7) lists the users to find access keys older than 90 days; read-only.' },
  ],
  'iam:ListAccessKeys': () => [
    { actions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'], resources: [iamArn('user/*')], wildcardReason: 'The users whose keys are checked are found at run time (ListUsers); reading key metadata and last use is read-only and never returns secrets.' },
  ],
  'iam:GetAccessKeyLastUsed': () => [
    { actions: ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed'], resources: [iamArn('user/*')], wildcardReason: 'The users whose keys are checked are found at run time (ListUsers); reading key metadata and last use is read-only and never returns secrets.' },
  ],
  'secretsmanager:GetSecretValue': () => [
    {
      actions: ['secretsmanager:GetSecretValue'],
      resources: [accountArn('secretsmanager', `secret:${SECRET_NAME_PREFIX}*`)],
      wildcardReason: `Limited to secrets named ${SECRET_NAME_PREFIX}... (integration credentials such as the ticketing and chat tokens); the trailing * also covers the random suffix Secrets Manager appends to every secret ARN.`,
    },
  ],
  'sns:Publish': (c) => c.notifications.publishGrants(),
  'elasticache:DescribeReplicationGroups': (c) => elastiCache('elasticache:DescribeReplicationGroups', c, false),
  'elasticache:ModifyReplicationGroup': (c) => elastiCache('elasticache:ModifyReplicationGroup', c, true),
  'kafka-cluster:Connect': () => [{ actions: ['kafka-cluster:Connect'], resources: [accountArn('kafka', 'cluster/*/*')], wildcardReason: READ_ONLY_MSK }],
  'kafka-cluster:DescribeGroup': () => [{ actions: ['kafka-cluster:DescribeGroup'], resources: [accountArn('kafka', 'group/*/*/*')], wildcardReason: READ_ONLY_MSK }],
  'kafka-cluster:DescribeTopic': () => [{ actions: ['kafka-cluster:DescribeTopic'], resources: [accountArn('kafka', 'topic/*/*/*')], wildcardReason: READ_ONLY_MSK }],
  'rds:DescribeDBParameters': (c) => rdsParameterGroups('rds:DescribeDBParameters', c, false),
  'rds:ModifyDBParameterGroup': (c) => rdsParameterGroups('rds:ModifyDBParameterGroup', c, true),
  'rds:DescribeDBInstances': (c) =>
    c.targets?.rdsInstanceId
      ? [{ actions: ['rds:DescribeDBInstances'], resources: [accountArn('rds', `db:${c.targets.rdsInstanceId}`)] }]
      : [{ actions: ['rds:DescribeDBInstances'], resources: [accountArn('rds', 'db:*')], wildcardReason: 'No rdsInstanceId is configured; the read-only describe is scoped to the DB instances of this account and region.' }],
};

/** IAM is global: its ARNs have no region. */
function iamArn(resource: string): string {
  return `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:${resource}`;
}

/** The configured group by name; without one, a change only on groups tagged sre-agent:managed=true. */
function elastiCache(action: string, c: ScopeContext, mutates: boolean): PermissionGrant[] {
  const group = c.targets?.elasticacheReplicationGroup;
  if (group) return [{ actions: [action], resources: [accountArn('elasticache', `replicationgroup:${group}`)] }];
  return [
    {
      actions: [action],
      resources: [accountArn('elasticache', 'replicationgroup:*')],
      ...(mutates ? { conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value } } } : {}),
      wildcardReason: mutates
        ? `No elasticacheReplicationGroup is configured: the change is allowed only on replication groups tagged ${MANAGED_TAG.key}=${MANAGED_TAG.value}. Set targets.elasticacheReplicationGroup to name the one group.`
        : 'No elasticacheReplicationGroup is configured; the read-only describe is scoped to the replication groups of this account and region.',
    },
  ];
}

/** The configured parameter group by name; without one, only groups tagged sre-agent:managed=true. */
function rdsParameterGroups(action: string, c: ScopeContext, mutates: boolean): PermissionGrant[] {
  const pg = c.targets?.rdsParameterGroup;
  if (pg) return [{ actions: [action], resources: [accountArn('rds', `pg:${pg}`)] }];
  return [
    {
      actions: [action],
      resources: [accountArn('rds', 'pg:*')],
      ...(mutates ? { conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_TAG.key}`]: MANAGED_TAG.value } } } : {}),
      wildcardReason: mutates
        ? `No rdsParameterGroup is configured: the change is allowed only on DB parameter groups tagged ${MANAGED_TAG.key}=${MANAGED_TAG.value}. Set targets.rdsParameterGroup to name the one group.`
        : 'No rdsParameterGroup is configured; the read-only describe is scoped to the DB parameter groups of this account and region.',
    },
  ];
}

/** Grants for a list of IAM actions, merged into one statement per resource set and reason. */
export function scopeIamActions(iamActions: readonly string[], context: ScopeContext): PermissionGrant[] {
  const merged = new Map<string, { actions: string[]; resources: readonly string[]; wildcardReason?: string; conditions?: PermissionGrant['conditions'] }>();
  for (const iamAction of iamActions) {
    const grants = RESOURCE_SCOPES[iamAction]?.(context) ?? [{ actions: [iamAction], resources: ['*'] }];
    for (const grant of grants) {
      const key = JSON.stringify([grant.resources, grant.wildcardReason ?? '', grant.conditions ?? {}]);
      const entry = merged.get(key) ?? { actions: [], resources: grant.resources, wildcardReason: grant.wildcardReason, ...(grant.conditions ? { conditions: grant.conditions } : {}) };
      for (const a of grant.actions) if (!entry.actions.includes(a)) entry.actions.push(a);
      merged.set(key, entry);
    }
  }
  return [...merged.values()];
}

/**
 * The items every action's function reads and writes, as the dispatcher does (lib/actions/dispatch.ts
 * through lib/runtime/dispatch-deps.ts), each table scoped to the partition keys it touches
 * (`dynamodb:LeadingKeys`): the incident's own items (the incident, its step records and timeline,
 * `INC-…`), its approval (`STEP#<incident>#<step>`: read before a mutation, marked used after any
 * step), and for a mutating action the breakers it gates on and counts (`GLOBAL`, `SERVICE#…`).
 * A ticket is also claimed under `TICKET#…`. Nothing else: no Scan, no DeleteItem, no other key.
 */
export function actionDataGrants(action: Pick<ActionDefinition, 'mutates' | 'kind'>, tables: Pick<DataTables, 'incidents' | 'approvals' | 'breakers'>): PermissionGrant[] {
  const keys = (...patterns: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns } });
  const grants: PermissionGrant[] = [
    { actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resources: [tables.incidents.tableArn], conditions: keys('INC-*') },
    { actions: action.mutates ? ['dynamodb:GetItem', 'dynamodb:UpdateItem'] : ['dynamodb:UpdateItem'], resources: [tables.approvals.tableArn], conditions: keys('STEP#*') },
  ];
  if (action.mutates) grants.push({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [tables.breakers.tableArn], conditions: keys('GLOBAL', 'SERVICE#*') });
  if (action.kind === 'ticket') grants.push({ actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resources: [tables.incidents.tableArn], conditions: keys('TICKET#*') });
  return grants;
}

export interface ActionFunctionsProps {
  /** Environment of every action function. */
  readonly environment: FunctionEnvironment;
  /** The tables every action's dispatcher reads and writes (see actionDataGrants). */
  readonly tables: DataTables;
  /**
   * Where the actions' systems are (`sre-agent:config` → targets): each function gets the
   * variables of the targets it uses and grants scoped to them.
   * @default - only the Parameter Store prefix /sre-agent
   */
  readonly targets?: AgentConfig['targets'];
  /**
   * VPC placement of the functions that reach RDS, ElastiCache, MSK or the EKS endpoint.
   * @default - outside any VPC
   */
  readonly vpc?: AgentFunctionProps['vpc'];
  /** The topic `sns:Publish` is scoped to. */
  readonly notifications: Notifications;
  /**
   * EKS cluster that `eks:DescribeCluster` is scoped to.
   * @default - the EKS clusters of the stack's account and region
   */
  readonly eksClusterName?: string;
  /**
   * Key for the functions' log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * The registry.
   * @default ACTIONS from lib/actions
   */
  readonly actions?: Readonly<Record<string, AnyAction>>;
  /**
   * Folder holding each action's Lambda entry `<name>.ts`.
   * @default <repo>/lambdas/actions
   */
  readonly actionsDir?: string;
}

export class ActionFunctions extends Construct {
  /** Blacklisted actions that got no function, by name. */
  readonly skipped: readonly string[];
  private readonly byName = new Map<string, AgentFunction>();

  constructor(scope: Construct, id: string, props: ActionFunctionsProps) {
    super(scope, id);
    const registry = props.actions ?? ACTIONS;
    const dir = props.actionsDir ?? path.join(REPO_ROOT, 'lambdas', 'actions');
    const skipped: string[] = [];
    const targets = props.targets ?? { configParameterPrefix: '/sre-agent' };
    for (const action of Object.values(registry).sort((a, b) => a.name.localeCompare(b.name))) {
      if (action.blacklist) {
        skipped.push(action.name);
        continue;
      }
      const fn = new AgentFunction(this, action.name, {
        functionId: `action:${action.name}`,
        entry: path.join(dir, `${action.name}.ts`),
        description: `sre-agent action ${action.name}: ${action.description}`.slice(0, 256),
        // Equal to the Task's TimeoutSeconds: the function stops when the step gives up on it.
        timeout: Duration.seconds(action.timeoutSeconds),
        environment: { ...props.environment, ...actionTargetEnvironment(action, targets, props.eksClusterName) },
        logKey: props.logKey,
        ...(props.vpc && needsVpc(action) ? { vpc: props.vpc } : {}),
      });
      // A mutating action may trip its service's breaker, whose owner the runtime notifies (SNS, chat secrets).
      const iamActions = action.mutates ? [...new Set([...action.iamActions, 'sns:Publish', 'secretsmanager:GetSecretValue'])] : action.iamActions;
      fn.addPermissions([
        ...actionDataGrants(action, props.tables),
        ...scopeIamActions(iamActions, { eksClusterName: props.eksClusterName, notifications: props.notifications, targets }),
        ...actionTargetGrants(action, targets),
      ]);
      this.byName.set(action.name, fn);
    }
    this.skipped = skipped;
  }

  /** Names of the actions that have a function. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The function of an action, or undefined for a blacklisted or unknown one. */
  functionFor(action: string): lambda.IFunction | undefined {
    return this.byName.get(action)?.function;
  }

  /** The wrapper (function, role, log group) of an action. */
  agentFunctionFor(action: string): AgentFunction | undefined {
    return this.byName.get(action);
  }
}
