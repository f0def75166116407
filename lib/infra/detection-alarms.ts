/**
 * One CloudWatch alarm per detection rule of each playbook and service (lib/metrics/detection.ts
 * decides what each rule becomes; the README's "Detection alarms" table lists them). Primary
 * alarms are named `sre-agent/<playbook>/<service>/<subject>` and reach the trigger through the
 * playbook's EventBridge rule; secondary ones (`sre-agent-signal/...`) start nothing. A
 * `log_pattern` rule gets a metric filter on the configured log group; `baseline` rules get the
 * baseline function, which publishes the catalogue's baseline every minute (metric math cannot
 * shift a series in time).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Manifest } from '../compiled/manifest';
import { baselineTargets } from '../metrics/baseline';
import { BASELINE_NAMESPACE, detectionAlarms, detectionOfMachine, renderExpression, type AlarmSpec, type SkippedRule } from '../metrics/detection';
import { type MetricCatalogue } from '../playbook/catalogue';
import type { AgentConfig } from './agent-config';
import { AgentFunction, REPO_ROOT } from './agent-function';
import type { BaselineFunctionEnvironment } from '../runtime/environment';
import { loadCatalogue } from '../playbook/catalogue-file';

export interface DetectionAlarmsProps {
  /** The compiled playbooks (statemachines/index.json): their detection rules. */
  readonly manifestFile: string;
  /** `sre-agent:config` → detection (dimensions, log group, services per playbook). */
  readonly config: AgentConfig['detection'];
  /**
   * The metric catalogue.
   * @default playbooks/metrics.yaml
   */
  readonly catalogue?: MetricCatalogue;
  /** Key of the baseline function's log group. @default - CloudWatch Logs' own encryption */
  readonly logKey?: kms.IKey;
  /** Where the baseline schedule's undeliverable events go. */
  readonly deadLetterQueue?: sqs.IQueue;
}

/** The CloudWatch statistic fields of a MetricStat-like alarm: `p99` is an extended statistic. */
function statFields(stat: string): { statistic?: string; extendedStatistic?: string } {
  return ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'].includes(stat) ? { statistic: stat } : { extendedStatistic: stat };
}

/** Dimensions as CloudFormation writes them; none is no property at all. */
function dimensions(d: Readonly<Record<string, string>>): cloudwatch.CfnAlarm.DimensionProperty[] | undefined {
  const list = Object.entries(d).map(([name, value]) => ({ name, value }));
  return list.length > 0 ? list : undefined;
}

export class DetectionAlarms extends Construct {
  /** Every alarm spec, by alarm name. */
  readonly specs: readonly AlarmSpec[];
  /** Rules that got no alarm in this deployment, and why (each is also a synth warning). */
  readonly skipped: readonly SkippedRule[];
  readonly alarms: ReadonlyMap<string, cloudwatch.CfnAlarm>;
  /** Publishes the baselines the alarms read; absent when no rule uses `baseline`. */
  readonly baselineFunction?: AgentFunction;

  constructor(scope: Construct, id: string, props: DetectionAlarmsProps) {
    super(scope, id);
    const catalogue = props.catalogue ?? loadCatalogue();
    const manifest = fs.existsSync(props.manifestFile) ? (JSON.parse(fs.readFileSync(props.manifestFile, 'utf8')) as Manifest) : { machines: [] };
    const specs: AlarmSpec[] = [];
    const skipped: SkippedRule[] = [];
    for (const machine of manifest.machines) {
      const input = detectionOfMachine(machine);
      if (!input) continue;
      const r = detectionAlarms(input, catalogue, { dimensions: props.config.dimensions, logGroup: props.config.logGroup, services: props.config.services[machine.playbook] });
      specs.push(...r.alarms);
      skipped.push(...r.skipped);
    }
    for (const s of skipped) {
      Annotations.of(this).addWarningV2('sre-agent:detectionRuleNotAlarmed', `playbook ${s.playbook}, ${s.group} rule "${s.rule}" for ${s.service}: no alarm: ${s.reason}`);
    }

    const alarms = new Map<string, cloudwatch.CfnAlarm>();
    specs.forEach((spec, i) => alarms.set(spec.name, this.alarmFor(spec, i, props)));
    this.specs = specs;
    this.skipped = skipped;
    this.alarms = alarms;

    const baselines = baselineTargets(specs);
    if (baselines.length > 0) {
      const fn = new AgentFunction(this, 'baseline', {
        functionId: 'baseline',
        entry: path.join(REPO_ROOT, 'lambdas', 'baseline.ts'),
        description: `sre-agent baseline: every minute, the catalogue's baseline of ${baselines.length} metric(s) → ${BASELINE_NAMESPACE}`,
        timeout: Duration.seconds(50),
        memorySize: 256,
        environment: { BASELINES: JSON.stringify(baselines), POWERTOOLS_SERVICE_NAME: 'sre-agent' } satisfies BaselineFunctionEnvironment,
        logKey: props.logKey,
      });
      fn.addPermissions([
        { actions: ['cloudwatch:GetMetricData'], resources: ['*'], wildcardReason: 'cloudwatch:GetMetricData supports no resource-level permissions (AWS Service Authorization Reference), so Resource must be "*"; it only reads metrics.' },
        {
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': BASELINE_NAMESPACE } },
          wildcardReason: `cloudwatch:PutMetricData supports no resource-level permissions, so Resource must be "*"; the cloudwatch:namespace condition limits it to ${BASELINE_NAMESPACE}.`,
        },
      ]);
      new events.Rule(this, 'BaselineSchedule', {
        description: `every minute: publish the detection baselines to ${BASELINE_NAMESPACE}`,
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.LambdaFunction(fn.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1), ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}) })],
      });
      this.baselineFunction = fn;
    }
  }

  private alarmFor(spec: AlarmSpec, index: number, props: DetectionAlarmsProps): cloudwatch.CfnAlarm {
    const common = {
      alarmName: spec.name,
      alarmDescription: spec.description,
      comparisonOperator: spec.comparison,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      treatMissingData: spec.treatMissingData,
      // No alarm action: EventBridge delivers every state change; the playbook's rule takes primary ones.
      actionsEnabled: false,
    };
    const log = spec.metrics[0]?.logPattern;
    if (log && props.config.logGroup) {
      new logs.CfnMetricFilter(this, `LogPattern${index}`, {
        logGroupName: props.config.logGroup,
        filterPattern: log.filterPattern,
        metricTransformations: [{ metricNamespace: spec.metrics[0]!.namespace, metricName: spec.metrics[0]!.metricName, metricValue: '1', defaultValue: 0, unit: 'Count' }],
      });
    }
    if (!spec.expression) {
      const m = spec.metrics[0]!;
      return new cloudwatch.CfnAlarm(this, `Alarm${index}`, { ...common, namespace: m.namespace, metricName: m.metricName, dimensions: dimensions(m.dimensions), period: spec.period, ...statFields(m.stat) });
    }
    return new cloudwatch.CfnAlarm(this, `Alarm${index}`, {
      ...common,
      metrics: [
        { id: 'e1', expression: renderExpression(spec.expression), label: spec.rule.slice(0, 255), returnData: true },
        ...spec.metrics.map((m) => ({ id: m.id, returnData: false, metricStat: { metric: { namespace: m.namespace, metricName: m.metricName, dimensions: dimensions(m.dimensions) }, period: spec.period, stat: m.stat } })),
      ],
    });
  }
}
