/**
 * The detection alarms of the stack (lib/infra/detection-alarms.ts): one CloudWatch alarm per
 * rule of each compiled playbook and service, as lib/metrics/detection.ts specifies it, with the
 * metric filter and the baseline function the rules need; cdk-nag clean. Synthesized in memory
 * from statemachines/index.json, no bundling, no AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../../bin/sre-agent';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { DEFAULT_MANIFEST_FILE } from '../../../lib/infra/playbook-machines';
import { renderExpression, type AlarmSpec } from '../../../lib/metrics/detection';

const REPO = path.resolve(__dirname, '../../..');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const DETECTION = {
  dimensions: { DBInstanceIdentifier: 'orders-db', ReplicationGroupId: 'redis-prod', 'Consumer Group': 'order-events', Topic: 'orders' },
  logGroup: '/aws/containerinsights/exchange/application',
  services: {},
};

function synth(detection: unknown): { stack: SreAgentStack; template: Template } {
  const context = { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': { ...(CDK_JSON_CONTEXT['sre-agent:config'] as object), detection } };
  const { stack } = buildApp({ context, manifestFile: DEFAULT_MANIFEST_FILE });
  return { stack, template: Template.fromStack(stack) };
}

let configured: { stack: SreAgentStack; template: Template };
beforeAll(() => {
  configured = synth(DETECTION);
}, 120_000);

function alarmProps(template: Template, name: string): Record<string, unknown> {
  const found = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
  expect(found).toHaveLength(1);
  return (found[0] as { Properties: Record<string, unknown> }).Properties;
}

describe('DetectionAlarms', () => {
  it('makes one alarm per detection rule and service of every compiled playbook, none skipped when configured', () => {
    const { stack, template } = configured;
    expect(stack.detection.skipped).toEqual([]);
    expect(stack.detection.specs).toHaveLength(14);
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => String((r as { Properties: { AlarmName?: string } }).Properties.AlarmName ?? ''));
    expect(names.filter((n) => /^sre-agent(-signal)?\//.test(n)).sort()).toEqual(stack.detection.specs.map((s) => s.name).sort());
  });

  // One assertion per rule, from the spec the local evaluator also uses.
  it.each([
    'sre-agent/traffic-surge/trading-api/api_request_rate',
    'sre-agent/traffic-surge/trading-api/websocket_connections',
    'sre-agent-signal/traffic-surge/trading-api/matching_engine_queue_depth',
    'sre-agent-signal/traffic-surge/trading-api/api_latency_p99',
    'sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99',
    'sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99_trend',
    'sre-agent/rds-connection-exhaustion/trading-api/rds_connections',
    'sre-agent-signal/rds-connection-exhaustion/trading-api/log_pattern',
    'sre-agent-signal/rds-connection-exhaustion/trading-api/api_error_rate_trend',
    'sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage',
    'sre-agent/redis-memory-pressure/redis-cache/redis_evicted_keys',
    'sre-agent/kafka-consumer-lag/order-consumer/kafka_consumer_lag',
    'sre-agent/pod-oom-killed/trading-api/pod_oom_killed',
    'sre-agent/pod-oom-killed/trading-api/pod_restart_count_1h',
  ])('%s is in the template exactly as its spec says', (name) => {
    // GIVEN the spec
    const spec = configured.stack.detection.specs.find((s) => s.name === name) as AlarmSpec;
    expect(spec).toBeDefined();
    // THEN
    const props = alarmProps(configured.template, name);
    expect(props).toMatchObject({
      ComparisonOperator: spec.comparison,
      Threshold: spec.threshold,
      EvaluationPeriods: spec.evaluationPeriods,
      DatapointsToAlarm: spec.datapointsToAlarm,
      TreatMissingData: 'missing',
      ActionsEnabled: false,
      AlarmDescription: spec.description,
    });
    const dims = (d: Readonly<Record<string, string>>) => Object.entries(d).map(([Name, Value]) => ({ Name, Value }));
    if (!spec.expression) {
      const m = spec.metrics[0]!;
      const stat = /^p\d/.test(m.stat) ? { ExtendedStatistic: m.stat } : { Statistic: m.stat };
      expect(props).toMatchObject({ Namespace: m.namespace, MetricName: m.metricName, Period: spec.period, ...stat, ...(Object.keys(m.dimensions).length ? { Dimensions: dims(m.dimensions) } : {}) });
    } else {
      expect(props.Metrics).toEqual([
        { Id: 'e1', Expression: renderExpression(spec.expression), Label: spec.rule, ReturnData: true },
        ...spec.metrics.map((m) => ({ Id: m.id, ReturnData: false, MetricStat: { Metric: { Namespace: m.namespace, MetricName: m.metricName, ...(Object.keys(m.dimensions).length ? { Dimensions: dims(m.dimensions) } : {}) }, Period: spec.period, Stat: m.stat } })),
      ]);
    }
  });

  it('names primary alarms so that their playbook’s EventBridge rule routes them to the trigger, and secondary ones so that none does', () => {
    const { template, stack } = configured;
    const prefixes = Object.values(template.findResources('AWS::Events::Rule')).flatMap((r) => ((r as { Properties: { EventPattern?: { detail?: { alarmName?: { prefix: string }[] } } } }).Properties.EventPattern?.detail?.alarmName ?? []).map((p) => p.prefix));
    for (const spec of stack.detection.specs) expect({ name: spec.name, routed: prefixes.some((p) => spec.name.startsWith(p)) }).toEqual({ name: spec.name, routed: spec.triggers });
  });

  it('counts the log pattern with a metric filter on the configured log group (0 when nothing matches)', () => {
    configured.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: DETECTION.logGroup,
      FilterPattern: '?"too many connections" ?"connection refused" ?"connection timeout"',
      MetricTransformations: [{ MetricNamespace: 'SreAgent/LogPatterns', MetricName: 'rds-connection-exhaustion-trading-api', MetricValue: '1', DefaultValue: 0, Unit: 'Count' }],
    });
  });

  it('publishes the baselines every minute, allowed to write only the SreAgent/Baseline namespace', () => {
    const { template, stack } = configured;
    const fn = stack.detection.baselineFunction!;
    const env = JSON.parse(String((template.toJSON().Resources[stack.getLogicalId(fn.function.node.defaultChild as never)] as { Properties: { Environment: { Variables: { BASELINES: string } } } }).Properties.Environment.Variables.BASELINES));
    expect(env.map((b: { metric: string; dimensions: unknown }) => [b.metric, b.dimensions])).toEqual([
      ['api_request_rate', { service: 'trading-api' }],
      ['websocket_connections', { service: 'trading-api' }],
    ]);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(fn.function.node.defaultChild as never), 'Arn'] } })] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(fn.role.node.defaultChild as never) }],
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'SreAgent/Baseline' } } }]) },
    });
  });

  it('is cdk-nag AwsSolutions clean', () => {
    expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(configured.stack).violations).toEqual([]);
  });

  it('warns at synth, naming the rule and the context to set, for each rule it cannot alarm without configuration', () => {
    // WHEN nothing is configured
    const { stack } = synth({ dimensions: {}, services: {} });
    // THEN
    expect(stack.detection.skipped.map((s) => s.rule)).toEqual(expect.arrayContaining(['redis_memory_usage > 85%', 'kafka_consumer_lag > 10000', 'rds_connections > max_connections * 0.8']));
    Annotations.fromStack(stack).hasWarning('/SreAgent/Detection', Match.stringLikeRegexp('playbook redis-memory-pressure, primary rule "redis_memory_usage > 85%" for redis-cache: no alarm: .*detection.dimensions\\["ReplicationGroupId"\\]'));
  });
});
