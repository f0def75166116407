/**
 * The agent watches itself (lib/infra/self-monitoring.ts, lib/runtime/agent-metrics.ts): an alarm
 * per function, per playbook machine and on the approval pages' 5xx, all to the topic; the
 * trigger's reserved concurrency; the dashboard of the metrics the runtime emits.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../../bin/sre-agent';
import { DEFAULT_MANIFEST_FILE } from '../../../lib/infra/playbook-machines';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { actionMetrics, AGENT_METRIC, coreMetrics, emitAgentMetrics, intakeMetrics, type MetricsSink } from '../../../lib/runtime/agent-metrics';

const REPO = path.resolve(__dirname, '../../..');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
let stack: SreAgentStack;
let template: Template;
beforeAll(() => {
  ({ stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] }, manifestFile: DEFAULT_MANIFEST_FILE }));
  template = Template.fromStack(stack);
}, 120_000);

const topicRef = () => ({ Ref: stack.getLogicalId(stack.notifications.topic.node.defaultChild as never) });

describe('SelfMonitoring', () => {
  it('alarms on every function’s errors and throttles, to the topic', () => {
    const fns = stack.node.findAll().filter((c) => (c as { functionId?: string }).functionId !== undefined) as unknown as { functionId: string }[];
    expect(fns.length).toBeGreaterThan(25);
    for (const fn of fns) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `sre-agent-self/function/${fn.functionId}`,
        AlarmActions: [topicRef()],
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'errors + throttles' })]),
      });
    }
  });

  it('alarms on each playbook machine’s failed and timed-out executions, and on the approval pages’ 5xx', () => {
    for (const playbook of stack.playbooks.machines.keys()) template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `sre-agent-self/playbook/${playbook}`, Metrics: Match.arrayWith([Match.objectLike({ Expression: 'failed + timedOut' })]) });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'sre-agent-self/approval-pages/5xx', Namespace: 'AWS/ApiGateway', MetricName: '5xx', AlarmActions: [topicRef()] });
  });

  it('reserves concurrency for the trigger (20 unless configured)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^sre-agent trigger:'), ReservedConcurrentExecutions: 20 });
  });

  it('draws the dashboard from the metric names the runtime emits', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const name of Object.values(AGENT_METRIC)) expect(body).toContain(name);
    expect(body).toContain('ExecutionsFailed');
  });
});

describe('agent metrics', () => {
  it.each([
    [intakeMetrics({ outcome: 'started' }), [{ name: 'IncidentsOpened', value: 1 }]],
    [intakeMetrics({ outcome: 'already_started' }), []],
    [actionMetrics(), [{ name: 'Actions', value: 1, dimension: { name: 'Outcome', value: 'succeeded' } }]],
    [actionMetrics(Object.assign(new Error('no'), { name: 'PolicyViolationError' })), [{ name: 'Actions', value: 1, dimension: { name: 'Outcome', value: 'refused' } }]],
    [actionMetrics(new Error('boom')), [{ name: 'Actions', value: 1, dimension: { name: 'Outcome', value: 'failed' } }]],
    [coreMetrics('Fn_incident', 'resolve', {}), [{ name: 'IncidentsResolved', value: 1 }]],
    [coreMetrics('Fn_breaker', 'gate', { mode: 'diagnose_only' }), [{ name: 'BreakerGates', value: 1, dimension: { name: 'Mode', value: 'diagnose_only' } }]],
    [coreMetrics('Fn_evaluate', 'condition', {}), []],
  ])('%#: %j', (got, expected) => {
    expect(got).toEqual(expected);
  });

  it('writes each metric as its own EMF document in the SreAgent namespace, and never fails the step on a sink error', () => {
    const { Metrics } = require('@aws-lambda-powertools/metrics') as typeof import('@aws-lambda-powertools/metrics');
    const written: unknown[] = [];
    const make = (): MetricsSink => {
      const m = new Metrics({ namespace: 'SreAgent', serviceName: 'sre-agent' });
      return Object.assign(m, { publishStoredMetrics: () => void written.push(m.serializeMetrics()) }) as unknown as MetricsSink;
    };
    emitAgentMetrics(make, [...actionMetrics(), ...intakeMetrics({ outcome: 'started' })]);
    expect(written).toEqual([
      expect.objectContaining({ Actions: 1, Outcome: 'succeeded', service: 'sre-agent', _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'SreAgent' })] }) }),
      expect.objectContaining({ IncidentsOpened: 1 }),
    ]);
    expect(() => emitAgentMetrics(() => { throw new Error('sink down'); }, actionMetrics())).not.toThrow();
  });
});
