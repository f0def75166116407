/**
 * Alarm events for tests, derived from the AWS documentation sample in test/fixtures/events by
 * changing only the alarm name, the state value and the timestamps; everything else stays as
 * AWS sends it (so a schema that drifts from the real event shape fails here first).
 */
import sample from '../fixtures/events/aws-doc-single-metric-alarm.json';

export type AlarmStateValue = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

type SampleEvent = typeof sample;

/** The AWS doc sample event itself (alarm `ServerCpuTooHigh`), as a fresh copy. */
export function awsSampleEvent(): SampleEvent {
  return structuredClone(sample);
}

export interface AlarmEventOptions {
  /** @default 'ALARM' */
  readonly state?: AlarmStateValue;
  /** State-change time; also the event `time`. @default now */
  readonly at?: Date;
}

/** CloudWatch writes state timestamps as `2019-10-02T17:04:40.989+0000`. */
function cloudWatchTime(at: Date): string {
  return at.toISOString().replace('Z', '+0000');
}

/**
 * The sample event with another alarm name, state and time. The anomaly start in `reasonData`
 * is five minutes (one sample period) before the state change, as in the sample.
 *
 * @example
 * alarmEvent('sre-agent/redis-memory-pressure/redis-cache/redis_memory_usage', { state: 'OK' })
 */
export function alarmEvent(alarmName: string, options: AlarmEventOptions = {}): SampleEvent {
  const at = options.at ?? new Date();
  const event = awsSampleEvent();
  event.time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  event.detail.alarmName = alarmName;
  event.detail.state.value = options.state ?? 'ALARM';
  event.detail.state.timestamp = cloudWatchTime(at);
  event.detail.state.reasonData = event.detail.state.reasonData
    .replace(/"queryDate":"[^"]+"/, `"queryDate":"${cloudWatchTime(at)}"`)
    .replace(/"startDate":"[^"]+"/, `"startDate":"${cloudWatchTime(new Date(at.getTime() - 5 * 60_000))}"`);
  return event;
}
