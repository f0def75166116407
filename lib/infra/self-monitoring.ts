/**
 * The agent watches itself: an alarm on each of its functions' errors and throttles, on each
 * playbook machine's failed and timed-out executions, and on the approval pages' 5xx, all to the
 * approvals/alerts topic; and a dashboard of what the runtime reports (lib/runtime/agent-metrics.ts:
 * incidents opened and resolved, actions by outcome, approvals requested and decided, breaker
 * gates by mode) beside Step Functions' execution failures and the dead-letter queue.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AGENT_METRIC, AGENT_METRICS_NAMESPACE } from '../runtime/agent-metrics';
import type { AgentFunction } from './agent-function';

export interface SelfMonitoringProps {
  /** Every function of the stack (its id names the alarm). */
  readonly functions: readonly AgentFunction[];
  readonly machines: ReadonlyMap<string, sfn.IStateMachine>;
  readonly approvalApi: apigwv2.IHttpApi;
  readonly deadLetterQueue: sqs.IQueue;
  /** Where the alarms notify (the on-call SRE's subscriptions). */
  readonly topic: sns.ITopic;
}

export class SelfMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SelfMonitoringProps) {
    super(scope, id);
    const notify = new cloudwatchActions.SnsAction(props.topic);
    const add = (alarmId: string, options: cloudwatch.AlarmProps): void => {
      const alarm = new cloudwatch.Alarm(this, alarmId, options);
      alarm.addAlarmAction(notify);
      this.alarms.push(alarm);
    };
    const fiveMinutes = Duration.minutes(5);

    for (const fn of props.functions) {
      const name = fn.node.id;
      // Errors and throttles in one alarm per function: either means a step or an alarm event was not handled.
      add(`${name}Failures`, {
        alarmName: `sre-agent-self/function/${fn.functionId}`,
        alarmDescription: `sre-agent: function ${fn.functionId} failed or was throttled in the last 5 minutes (Lambda Errors + Throttles); see its log group`,
        metric: new cloudwatch.MathExpression({
          expression: 'errors + throttles',
          usingMetrics: { errors: fn.function.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), throttles: fn.function.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }) },
          period: fiveMinutes,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    for (const [playbook, machine] of props.machines) {
      add(`${playbook}Executions`, {
        alarmName: `sre-agent-self/playbook/${playbook}`,
        alarmDescription: `sre-agent: an execution of playbook ${playbook} failed or timed out in the last 5 minutes (its incident is failed and on-call paged by execution-ended)`,
        metric: new cloudwatch.MathExpression({
          expression: 'failed + timedOut',
          usingMetrics: { failed: machine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }), timedOut: machine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }) },
          period: fiveMinutes,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const api5xx = new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName: '5xx', dimensionsMap: { ApiId: props.approvalApi.apiId }, statistic: 'Sum', period: fiveMinutes });
    add('ApprovalPages5xx', {
      alarmName: 'sre-agent-self/approval-pages/5xx',
      alarmDescription: 'sre-agent: the approval pages answered 5xx: approvers may not be able to decide (approvals then escalate)',
      metric: api5xx,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const agent = (name: string, dims?: Record<string, string>) => new cloudwatch.Metric({ namespace: AGENT_METRICS_NAMESPACE, metricName: name, dimensionsMap: { service: 'sre-agent', ...dims }, statistic: 'Sum', period: fiveMinutes });
    const machines = [...props.machines.values()];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: 'sre-agent',
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Incidents opened / resolved', left: [agent(AGENT_METRIC.incidentsOpened), agent(AGENT_METRIC.incidentsResolved), agent(AGENT_METRIC.alarmsJoined)], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Actions by outcome', left: ['succeeded', 'failed', 'refused'].map((o) => agent(AGENT_METRIC.actions, { Outcome: o })), width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Approvals requested / decided, escalations', left: [agent(AGENT_METRIC.approvalsRequested), agent(AGENT_METRIC.approvalsDecided, { Outcome: 'approve' }), agent(AGENT_METRIC.approvalsDecided, { Outcome: 'reject' }), agent(AGENT_METRIC.escalations)], width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Breaker gates by mode (diagnose_only / stopped: breakers open)', left: ['auto', 'diagnose_only', 'stopped'].map((m) => agent(AGENT_METRIC.breakerGates, { Mode: m })), width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Playbook executions failed / timed out', left: machines.flatMap((m) => [m.metricFailed({ period: fiveMinutes }), m.metricTimedOut({ period: fiveMinutes })]), width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Dead letters, approval pages 5xx', left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }), api5xx, agent(AGENT_METRIC.deadLetters)], width: 8 }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'sre-agent self-monitoring alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
