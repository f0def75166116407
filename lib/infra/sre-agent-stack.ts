/**
 * The sre-agent stack: tables, the approvals/alerts topic, one Lambda per action, the core
 * Lambdas, the approval pages (HTTP API + signing key) and the compiled playbook machines, all
 * encrypted, logged and traced.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { ActionFunctions, scopeIamActions } from './action-functions';
import { actionTargetEnvironment, actionTargetGrants, needsVpc } from './action-targets';
import { ACTIONS } from '../actions';
import { INVESTIGATION_READ_ACTIONS, INVESTIGATION_TARGETS } from '../analysis';
import { CONFIG_CONTEXT_KEY, parseAgentConfig, type AgentConfig } from './agent-config';
import { ApprovalApi } from './approval-api';
import { CoreFunctions } from './core-functions';
import { DataTables } from './data-tables';
import { SECRET_NAME_PREFIX, type FunctionEnvironment, type InvestigationSummaryEnvironment, type ReportsEnvironment } from '../runtime/environment';
import { bedrockModelArn, qdrantKnowledgeGrants, ReportsBucket } from './reports-bucket';
import { Notifications } from './notifications';
import { DEFAULT_MANIFEST_FILE, PlaybookMachines } from './playbook-machines';
import { DetectionAlarms } from './detection-alarms';
import { EksAccess } from './eks-access';
import { AgentFunction, type PermissionGrant } from './agent-function';
import { SelfMonitoring } from './self-monitoring';

export interface SreAgentStackProps extends StackProps {
  /**
   * The deployment configuration.
   * @default - parsed from the `sre-agent:config` context (cdk.json); empty when absent
   */
  readonly config?: AgentConfig;
  /**
   * The playbook manifest written by `npm run compile`.
   * @default <repo>/statemachines/index.json (the stack has no machines, with a warning, when it is missing)
   */
  readonly manifestFile?: string;
  /**
   * Folder the manifest's ASL `file` paths are relative to.
   * @default the repository root
   */
  readonly manifestRootDir?: string;
}

export class SreAgentStack extends Stack {
  readonly config: AgentConfig;
  /** Encrypts the log groups and the topic. */
  readonly key: kms.Key;
  readonly tables: DataTables;
  readonly notifications: Notifications;
  readonly actions: ActionFunctions;
  readonly core: CoreFunctions;
  /** The signed-link approval pages (HTTP API) and their signing key. */
  readonly approvals: ApprovalApi;
  readonly playbooks: PlaybookMachines;
  /** One CloudWatch alarm per detection rule and service, and the baseline function they need. */
  readonly detection: DetectionAlarms;
  /** Alarms on the agent's own failures and its dashboard. */
  readonly monitoring: SelfMonitoring;
  /** §5.1 reports (`reports/`) and the embedded knowledge base (`knowledge/entries.json`): encrypted, versioned, retained. */
  readonly reports: ReportsBucket;
  /** EKS access entries of the Kubernetes actions' roles (when cdk.json names the cluster). */
  readonly eksAccess?: EksAccess;

  constructor(scope: Construct, id: string, props: SreAgentStackProps = {}) {
    super(scope, id, props);
    this.config = props.config ?? parseAgentConfig(this.node.tryGetContext(CONFIG_CONTEXT_KEY));

    this.key = new kms.Key(this, 'Key', {
      description: 'sre-agent: Lambda and Step Functions log groups, approvals/alerts topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts log groups with the key only when the key policy lets it:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
      }),
    );
    // CloudWatch alarms publish to the encrypted topic only with these two:
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.tables = new DataTables(this, 'Data');
    this.notifications = new Notifications(this, 'Notifications', { key: this.key, approvalEmail: this.config.notifications.approvalEmail });

    const environment: FunctionEnvironment = {
      ...this.tables.environment(),
      TOPIC_ARN: this.notifications.topic.topicArn,
      SECRETS_PREFIX: SECRET_NAME_PREFIX,
      ...(this.config.eksClusterName ? { EKS_CLUSTER_NAME: this.config.eksClusterName } : {}),
      ...(Object.keys(this.config.breakers).length > 0 ? { BREAKER_CONFIG: JSON.stringify(this.config.breakers) } : {}),
      POWERTOOLS_SERVICE_NAME: 'sre-agent',
    };
    // Core functions: the on-call lookup's mapping, and the config prefix the undo on resolve restores under.
    const coreExtra = {
      CONFIG_PARAMETER_PREFIX: this.config.targets.configParameterPrefix,
      ...(this.config.pagerdutyOncallRoles ? { PAGERDUTY_ONCALL_ROLES: JSON.stringify(this.config.pagerdutyOncallRoles) } : {}),
      ...(this.config.statusPage && 'statuspagePageId' in this.config.statusPage ? { SRE_AGENT_STATUSPAGE_PAGE_ID: this.config.statusPage.statuspagePageId } : {}),
      ...(this.config.statusPage && 'webhookUrl' in this.config.statusPage ? { SRE_AGENT_STATUS_WEBHOOK_URL: this.config.statusPage.webhookUrl } : {}),
    };
    const network = this.config.network;
    const vpc = network
      ? (() => {
          // From ids, no lookup: synth stays offline and account-agnostic.
          const v = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: network.vpcId, availabilityZones: network.availabilityZones, privateSubnetIds: network.privateSubnetIds });
          return { vpc: v, subnets: { subnets: v.privateSubnets }, securityGroups: network.securityGroupIds.map((id, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id, { mutable: false })) };
        })()
      : undefined;
    this.actions = new ActionFunctions(this, 'Actions', {
      environment,
      tables: this.tables,
      targets: this.config.targets,
      vpc,
      notifications: this.notifications,
      eksClusterName: this.config.eksClusterName,
      logKey: this.key,
    });
    // The investigation reads what the read-only actions read, with their grants and targets.
    const investigationUses = { name: 'investigate', uses: INVESTIGATION_TARGETS };
    // Reports and the knowledge base: the bucket, and Qdrant + Bedrock when cdk.json names them.
    this.reports = new ReportsBucket(this, 'Reports');
    const knowledge = this.config.knowledge;
    const reportsEnvironment: ReportsEnvironment = {
      REPORTS_BUCKET: this.reports.bucket.bucketName,
      ...(knowledge ? { KNOWLEDGE_QDRANT_URL: knowledge.qdrantUrl, KNOWLEDGE_BEDROCK_MODEL_ID: knowledge.bedrockModelId } : {}),
      ...(knowledge?.qdrantApiKeySecret ? { KNOWLEDGE_QDRANT_API_KEY_SECRET: knowledge.qdrantApiKeySecret } : {}),
    };
    const qdrantGrants = knowledge ? qdrantKnowledgeGrants(knowledge) : [];
    // The optional LLM summary: the investigate function alone may call the one model (Converse is bedrock:InvokeModel).
    const summaryModelId = this.config.investigation?.summaryModelId;
    const summaryEnvironment: InvestigationSummaryEnvironment = summaryModelId ? { INVESTIGATION_SUMMARY_MODEL_ID: summaryModelId } : {};
    const summaryGrants: PermissionGrant[] = summaryModelId ? [{ actions: ['bedrock:InvokeModel'], resources: [bedrockModelArn(summaryModelId)] }] : [];
    const investigationActions = [...new Set(INVESTIGATION_READ_ACTIONS.flatMap((a) => ACTIONS[a]?.iamActions ?? []))];
    this.core = new CoreFunctions(this, 'Core', {
      investigation: {
        environment: { ...actionTargetEnvironment(investigationUses, this.config.targets, this.config.eksClusterName), ...summaryEnvironment },
        grants: [...scopeIamActions(investigationActions, { eksClusterName: this.config.eksClusterName, notifications: this.notifications, targets: this.config.targets }), ...actionTargetGrants(investigationUses, this.config.targets), ...summaryGrants],
        ...(vpc && needsVpc(investigationUses) ? { vpc } : {}),
      },
      tables: this.tables,
      notifications: this.notifications,
      environment: { ...environment, ...coreExtra, SERVICES: JSON.stringify(this.config.services) },
      reports: { environment: reportsEnvironment, writerGrants: [...this.reports.writerGrants(), ...qdrantGrants], readerGrants: [...this.reports.readerGrants(), ...qdrantGrants] },
      triggerConcurrency: this.config.triggerConcurrency,
      logKey: this.key,
    });
    this.approvals = new ApprovalApi(this, 'ApprovalPages', {
      callback: this.core.agentFunctionFor('approvalCallback'),
      request: this.core.agentFunctionFor('approvalRequest'),
      logKey: this.key,
    });
    new CfnOutput(this, 'ApprovalPagesUrl', { description: 'Base URL of the signed approve/reject links', value: this.approvals.url });
    new CfnOutput(this, 'ReportsBucketName', { description: 'Reports (reports/<incident id>.json, .zh-CN.md, .en.md) and the embedded knowledge base (knowledge/entries.json): aws s3 cp s3://<this>/reports/INC-….zh-CN.md -', value: this.reports.bucket.bucketName });
    new CfnOutput(this, 'ResolveFunctionName', { description: 'Resolve an incident by hand: aws lambda invoke --function-name <this> --payload \'{"incidentId":"INC-…","person":"…","reason":"…"}\'', value: this.core.functionFor('resolve').functionName });
    this.playbooks = new PlaybookMachines(this, 'Playbooks', {
      manifestFile: props.manifestFile,
      rootDir: props.manifestRootDir,
      coreFunction: (key) => this.core.bySubstitutionKey(key),
      actionFunction: (action) => this.actions.functionFor(action),
      triggerFunction: this.core.functionFor('trigger'),
      deadLetterQueue: this.core.deadLetterQueue,
      logKey: this.key,
    });
    this.core.connectPlaybooks(this.playbooks.machines);
    // A resolved incident's config changes are put back by the incident function (undo on resolve)
    // and, for a hand resolve, by the resolve function.
    const prefix = this.config.targets.configParameterPrefix.replace(/\/+$/, '');
    for (const fn of ['incident', 'resolve'] as const) {
      this.core.agentFunctionFor(fn).addPermissions([
        {
          actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameterHistory'],
          resources: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${prefix}/*`],
          wildcardReason: `The undo on resolve restores the config keys and flags the incident changed; limited to Parameter Store parameters under ${prefix}/.`,
        },
      ]);
    }
    this.detection = new DetectionAlarms(this, 'Detection', {
      manifestFile: props.manifestFile ?? DEFAULT_MANIFEST_FILE,
      config: this.config.detection,
      logKey: this.key,
      deadLetterQueue: this.core.deadLetterQueue,
    });
    this.monitoring = new SelfMonitoring(this, 'SelfMonitoring', {
      functions: this.node.findAll().filter((c): c is AgentFunction => c instanceof AgentFunction),
      machines: this.playbooks.machines,
      approvalApi: this.approvals.api,
      deadLetterQueue: this.core.deadLetterQueue,
      topic: this.notifications.topic,
    });
    if (this.config.eksClusterName) this.eksAccess = new EksAccess(this, 'EksAccess', { clusterName: this.config.eksClusterName, actions: this.actions, namespaces: this.config.eksNamespaces, readers: new Map([['investigate', this.core.agentFunctionFor('investigate').role]]) });

    // A dead letter is an alarm nobody acted on: say so on the topic.
    new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'sre-agent: alarm events the trigger could not take are waiting in the dead-letter queue',
      metric: this.core.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cloudwatchActions.SnsAction(this.notifications.topic));
  }
}
