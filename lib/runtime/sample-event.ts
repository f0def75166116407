/**
 * Builds a CloudWatch "Alarm State Change" event exactly as EventBridge delivers it (the shape of
 * the AWS documentation's single-metric sample), for `sre-agent alarm`, drills and tests.
 */
import { randomUUID } from 'node:crypto';
import type { MachineManifest } from '../compiled/manifest';

export interface SampleAlarm {
  readonly playbook: string;
  readonly service: string;
  /** @default the playbook's first detection metric */
  readonly metric?: string;
  /** @default ALARM */
  readonly state?: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  /** @default now */
  readonly at?: Date;
  /** Minutes the metric has been breaching before the alarm fired. @default 1 */
  readonly breachingMinutes?: number;
}

/** CloudWatch writes `2019-10-02T17:04:40.989+0000`. */
function cwTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}

export function buildAlarmEvent(alarm: SampleAlarm, machine?: MachineManifest): Record<string, unknown> {
  const at = alarm.at ?? new Date();
  const metric = alarm.metric ?? (machine?.trigger.type === 'alarm' ? machine.trigger.metrics[0]?.metric : undefined) ?? 'metric';
  const state = alarm.state ?? 'ALARM';
  const name = `sre-agent/${alarm.playbook}/${alarm.service}/${metric}`;
  const start = new Date(at.getTime() - (alarm.breachingMinutes ?? 1) * 60_000);
  const reason =
    state === 'ALARM'
      ? `Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold (minimum 1 datapoint for OK -> ALARM transition).`
      : state === 'OK'
        ? 'Threshold Crossed: 1 out of the last 1 datapoints was not greater than the threshold (minimum 1 datapoint for ALARM -> OK transition).'
        : 'Insufficient Data: 1 datapoint was unknown.';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`],
    detail: {
      alarmName: name,
      configuration: { description: `sre-agent ${alarm.playbook} detection on ${metric}`, metrics: [{ id: 'm1', metricStat: { metric: { dimensions: { service: alarm.service }, name: metric, namespace: 'Exchange' }, period: 60, stat: 'Maximum' }, returnData: true }] },
      previousState: { reason: 'Unchecked: Initial alarm creation', timestamp: cwTime(new Date(at.getTime() - 3_600_000)), value: state === 'OK' ? 'ALARM' : 'OK' },
      state: {
        reason,
        reasonData: JSON.stringify({ version: '1.0', queryDate: cwTime(at), startDate: cwTime(start), statistic: 'Maximum', period: 60, recentDatapoints: [], threshold: 0 }),
        timestamp: cwTime(at),
        value: state,
      },
    },
  };
}
