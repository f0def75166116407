/**
 * The core Lambdas (lambdas/<kebab-name>.ts): the ones every compiled machine may call (keys of
 * CORE_FUNCTIONS), the trigger behind EventBridge, the approval callback, and execution-ended
 * behind the machines' status changes, reconcile on a schedule, and resolve (a person's hand
 * resolve, invoked directly). What each may touch
 * is declared in CORE_FUNCTION_SPECS below; widen it there when a handler needs more.
 */
import * as path from 'node:path';
import { Arn, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CORE_FUNCTIONS, type CoreFunction } from '../compiled/manifest';
import { AgentFunction, REPO_ROOT, type AgentFunctionProps, type PermissionGrant } from './agent-function';
import type { DataTables } from './data-tables';
import { SECRET_NAME_PREFIX, type CoreFunctionEnvironment, type ReportsEnvironment } from '../runtime/environment';
import type { Notifications } from './notifications';
import { StackConfigError } from './errors';

/** Core functions: CORE_FUNCTIONS keys plus the two entry points that no machine calls. */
export type CoreFunctionName = CoreFunction | 'trigger' | 'approvalCallback' | 'executionEnded' | 'reconcile' | 'resolve';

type TableName = 'incidents' | 'breakers' | 'approvals' | 'dedupe';

interface CoreFunctionSpec {
  readonly description: string;
  /** Tables it reads and writes (item-level data calls only, no Scan). */
  readonly tables: readonly TableName[];
  /** Publishes to the approvals/alerts topic. */
  readonly publishes: boolean;
  /** Reads CloudWatch metrics (GetMetricData). */
  readonly readsMetrics?: boolean;
  /** Reads notifier credentials (PagerDuty, Slack) from Secrets Manager under SECRET_NAME_PREFIX. */
  readonly readsSecrets?: boolean;
  /** Writes §5.1 reports and the knowledge base (the reports bucket, Bedrock with Qdrant): every function that ends in `reportNow` (lib/runtime/core.ts). */
  readonly writesReports?: boolean;
  /** Searches the knowledge base for similar past incidents (reads it, never writes). */
  readonly searchesKnowledge?: boolean;
  /** Scans its tables (the reconcile function lists active incidents and pending approvals). */
  readonly scans?: boolean;
  readonly timeoutSeconds: number;
}

/** What each core function may touch. */
export const CORE_FUNCTION_SPECS: Readonly<Record<CoreFunctionName, CoreFunctionSpec>> = {
  trigger: {
    description: 'alarm event → playbook, open or join the incident, breaker gate, StartExecution',
    tables: ['incidents', 'breakers', 'dedupe'],
    publishes: true,
    // A breaker that trips as an incident opens (the sixth HIGH anomaly) pages on-call from here (the global-breaker drill found it).
    readsSecrets: true,
    timeoutSeconds: 30,
  },
  evaluate: { description: 'evaluate a step condition over metrics', tables: ['incidents', 'breakers'], publishes: true, readsMetrics: true, readsSecrets: true, timeoutSeconds: 60 },
  breaker: { description: 'breaker gate: auto, diagnose-only or stopped', tables: ['breakers', 'incidents'], publishes: true, readsSecrets: true, timeoutSeconds: 15 },
  // An approval_message renders live metrics ({{current_qps}}), which count toward the breakers' data-collection
  // window: GetMetricData and the breakers table (the traffic-surge and service-breaker drills found both missing).
  approvalRequest: { description: 'record an approval and notify the approvers', tables: ['approvals', 'incidents', 'breakers'], publishes: true, readsMetrics: true, readsSecrets: true, timeoutSeconds: 30 },
  escalate: { description: 'escalate a pending approval one level', tables: ['approvals', 'incidents', 'breakers'], publishes: true, readsSecrets: true, timeoutSeconds: 30 },
  incident: { description: 'record timeline events and incident status', tables: ['incidents', 'breakers', 'approvals'], publishes: true, readsMetrics: true, readsSecrets: true, timeoutSeconds: 30 },
  report: { description: 'timeline report, MTTD/MTTI/MTTR and knowledge-base entry', tables: ['incidents'], publishes: true, readsMetrics: true, writesReports: true, timeoutSeconds: 120 },
  investigate: {
    description: 'investigation: read-only checks (Kubernetes, database, Redis, Kafka, certificates, metrics) and their conclusion (hypotheses, trend, risk)',
    // incidents: the event and investigatedAt; breakers: failed checks count as data collection.
    tables: ['incidents', 'breakers'],
    publishes: true,
    readsMetrics: true,
    readsSecrets: true,
    // Similar past incidents join the conclusion (the same store the report function writes).
    searchesKnowledge: true,
    timeoutSeconds: 30,
  },
  // Reads secrets: an approved status-page notice is published from here (the Statuspage API key).
  approvalCallback: { description: 'approval decision → SendTaskSuccess/SendTaskFailure; publishes approved status-page notices', tables: ['approvals', 'incidents'], publishes: false, readsSecrets: true, timeoutSeconds: 15 },
  reconcile: {
    description: 'every 5 min: incidents whose execution is no longer RUNNING (DescribeExecution) and approvals past expiry are put right',
    tables: ['incidents', 'breakers', 'approvals'],
    publishes: true,
    readsSecrets: true,
    scans: true,
    // An execution found ended gets its report written (recordExecutionEnded).
    readsMetrics: true,
    writesReports: true,
    timeoutSeconds: 120,
  },
  resolve: {
    description: 'a person resolves an incident by hand: RESOLVED, its approvals cancelled, its execution stopped (StopExecution)',
    tables: ['incidents', 'breakers', 'approvals'],
    publishes: true,
    readsSecrets: true,
    // The incident is closed now: its report is written again (refreshReport), with the impact from the metrics.
    readsMetrics: true,
    writesReports: true,
    timeoutSeconds: 30,
  },
  executionEnded: {
    description: 'playbook execution FAILED, TIMED_OUT or ABORTED → its incident FAILED or ESCALATED, on-call SRE paged',
    tables: ['incidents', 'breakers', 'approvals'],
    publishes: true,
    readsSecrets: true,
    // It writes the report the playbook will not reach (impact from the metrics, the reports bucket).
    readsMetrics: true,
    writesReports: true,
    timeoutSeconds: 30,
  },
};

/** Item-level data calls; the design uses single-item conditional writes and Query, never Scan. */
const TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

export interface CoreFunctionsProps {
  readonly tables: DataTables;
  readonly notifications: Notifications;
  /** Environment of every core function (the trigger also gets STATE_MACHINES, see `connectPlaybooks`). */
  readonly environment: Omit<CoreFunctionEnvironment, 'STATE_MACHINES'>;
  /**
   * Key for the functions' log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: kms.IKey;
  /**
   * Concurrent executions reserved for the trigger (also its ceiling: events beyond it are retried
   * by EventBridge for 24 h, then go to the dead-letter queue).
   * @default 20
   */
  readonly triggerConcurrency?: number;
  /**
   * What the investigate function reaches besides the tables and metrics: the environment of its
   * targets (Kubernetes, MySQL, Redis, Kafka, certificates), their read-only grants, the VPC.
   * @default - none: every check that needs a system is skipped
   */
  readonly investigation?: { readonly environment: Readonly<Record<string, string>>; readonly grants: readonly PermissionGrant[]; readonly vpc?: AgentFunctionProps['vpc'] };
  /**
   * Where reports and the knowledge base go: the variables of the functions that write reports
   * (`writesReports`) and search the knowledge base (`searchesKnowledge`), and what each may do.
   * @default - none: reports are built but kept nowhere, no knowledge base
   */
  readonly reports?: {
    readonly environment: ReportsEnvironment;
    /** The writers' grants (ReportsBucket.writerGrants, and Bedrock / the Qdrant secret when configured). */
    readonly writerGrants: readonly PermissionGrant[];
    /** The searchers' grants (ReportsBucket.readerGrants, and Bedrock / the Qdrant secret when configured). */
    readonly readerGrants: readonly PermissionGrant[];
  };
  /**
   * Folder of the handler files.
   * @default <repo>/lambdas
   */
  readonly lambdasDir?: string;
}

export class CoreFunctions extends Construct {
  /**
   * Alarm events the trigger could not take: failed asynchronous invocations of the trigger
   * (after Lambda's retries) and events EventBridge could not deliver.
   */
  readonly deadLetterQueue: sqs.Queue;
  private readonly byName = new Map<CoreFunctionName, AgentFunction>();

  constructor(scope: Construct, id: string, props: CoreFunctionsProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dir = props.lambdasDir ?? path.join(REPO_ROOT, 'lambdas');
    for (const [name, spec] of Object.entries(CORE_FUNCTION_SPECS) as [CoreFunctionName, CoreFunctionSpec][]) {
      const fn = new AgentFunction(this, name, {
        functionId: name,
        entry: path.join(dir, `${kebab(name)}.ts`),
        description: `sre-agent ${kebab(name)}: ${spec.description}`,
        timeout: Duration.seconds(spec.timeoutSeconds),
        environment: {
          ...props.environment,
          ...(name === 'investigate' && props.investigation ? props.investigation.environment : {}),
          ...((spec.writesReports || spec.searchesKnowledge) && props.reports ? props.reports.environment : {}),
        },
        logKey: props.logKey,
        ...(name === 'investigate' && props.investigation?.vpc ? { vpc: props.investigation.vpc } : {}),
        deadLetterQueue: name === 'trigger' ? this.deadLetterQueue : undefined,
        // An alarm storm must not take the account's whole concurrency (nor be starved by others').
        reservedConcurrentExecutions: name === 'trigger' ? props.triggerConcurrency ?? 20 : undefined,
      });
      const grants: PermissionGrant[] = [];
      if (spec.tables.length > 0) grants.push({ actions: spec.scans ? [...TABLE_ACTIONS, 'dynamodb:Scan'] : TABLE_ACTIONS, resources: spec.tables.map((t) => props.tables[t].tableArn) });
      if (spec.publishes) grants.push(...props.notifications.publishGrants());
      if (spec.readsMetrics) {
        grants.push({
          actions: ['cloudwatch:GetMetricData'],
          resources: ['*'],
          wildcardReason: 'cloudwatch:GetMetricData supports no resource-level permissions (AWS Service Authorization Reference), so Resource must be "*"; it only reads metrics.',
        });
      }
      if (spec.readsSecrets) {
        grants.push({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [Stack.of(this).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${SECRET_NAME_PREFIX}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
          wildcardReason: `Limited to secrets named ${SECRET_NAME_PREFIX}... (PagerDuty and Slack credentials); the trailing * also covers the random suffix Secrets Manager appends to every secret ARN.`,
        });
      }
      if (name === 'investigate' && props.investigation) grants.push(...props.investigation.grants);
      if (props.reports) {
        if (spec.writesReports) grants.push(...props.reports.writerGrants);
        else if (spec.searchesKnowledge) grants.push(...props.reports.readerGrants);
      }
      fn.addPermissions(grants);
      this.byName.set(name, fn);
    }
  }

  functionFor(name: CoreFunctionName): lambda.IFunction {
    return this.agent(name).function;
  }

  /** The wrapper (function, role, log group) of a core function. */
  agentFunctionFor(name: CoreFunctionName): AgentFunction {
    return this.agent(name);
  }

  /** The function behind a `${Fn_...}` placeholder, or undefined when the key is not a core one. */
  bySubstitutionKey(key: string): lambda.IFunction | undefined {
    const name = (Object.keys(CORE_FUNCTIONS) as CoreFunction[]).find((k) => CORE_FUNCTIONS[k] === key);
    return name ? this.functionFor(name) : undefined;
  }

  /**
   * Lets the trigger start the playbook machines (and tells it which is which) and the approval
   * callback answer their task tokens. Call once, with every machine.
   */
  connectPlaybooks(machines: ReadonlyMap<string, sfn.IStateMachine>): void {
    const trigger = this.agent('trigger');
    trigger.function.addEnvironment('STATE_MACHINES', Stack.of(this).toJsonString(Object.fromEntries([...machines].map(([playbook, m]) => [playbook, m.stateMachineArn]))));
    if (machines.size === 0) return;
    const arns = [...machines.values()].map((m) => m.stateMachineArn);
    trigger.addPermissions([{ actions: ['states:StartExecution'], resources: arns }]);
    // The Service Authorization Reference gives SendTaskSuccess/SendTaskFailure no resource type, so
    // a statement scoped to the machines never matches them (the IAM check denied it): "*". The task
    // token is the capability: only the holder of a live token can answer its task.
    const taskToken: PermissionGrant = {
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
      wildcardReason: 'states:SendTaskSuccess and SendTaskFailure support no resource-level permissions (AWS Service Authorization Reference: no resource type), so Resource must be "*"; each call needs a live task token, which only the approval record holds.',
    };
    this.agent('approvalCallback').addPermissions([taskToken]);
    // A level that finds its approval decided (while it escalated) releases its own task at once.
    this.agent('approvalRequest').addPermissions([taskToken]);
    // The reconcile function asks Step Functions about the executions of these machines only.
    const stack = Stack.of(this);
    const executions = [...machines.values()].map((m) =>
      stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${Arn.split(m.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    this.agent('reconcile').addPermissions([{ actions: ['states:DescribeExecution'], resources: executions, wildcardReason: 'Execution names are incident ids (or schedule run ids) known only at run time; limited to the executions of this stack\'s machines.' }]);
    // A hand resolve stops the incident's execution: only executions of these machines.
    this.agent('resolve').addPermissions([{ actions: ['states:StopExecution'], resources: executions, wildcardReason: 'Execution names are incident ids known only at run time; limited to the executions of this stack\'s machines.' }]);
    new events.Rule(this, 'Reconcile', {
      description: 'every 5 minutes: incidents whose execution is gone, approvals past expiry',
      schedule: events.Schedule.rate(Duration.minutes(5)),
      targets: [new targets.LambdaFunction(this.functionFor('reconcile'), { deadLetterQueue: this.deadLetterQueue, maxEventAge: Duration.minutes(10), retryAttempts: 0 })],
    });
    // An execution that ends before its playbook does must not leave its incident open for ever.
    new events.Rule(this, 'ExecutionEnded', {
      description: 'playbook execution FAILED, TIMED_OUT or ABORTED → execution-ended Lambda',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: arns },
      },
      targets: [new targets.LambdaFunction(this.functionFor('executionEnded'), { deadLetterQueue: this.deadLetterQueue, maxEventAge: Duration.hours(6) })],
    });
  }

  private agent(name: CoreFunctionName): AgentFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new StackConfigError(`core function "${name}" does not exist; CORE_FUNCTION_SPECS lists ${[...this.byName.keys()].join(', ')}`, `core function ${name}`);
    return fn;
  }
}

/** `approvalRequest` → `approval-request`. */
function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
