/** The drill's path check: outcomes read from a timeline, and deviations from the expected path. */
import type { TimelineEvent } from '../../lib/incident';
import { pathDeviations, stepOutcomes } from '../../lib/local/drill';

const at = '2026-12-07T10:00:00.000Z';
const ev = (type: string, step: string, summary = ''): TimelineEvent => ({ at, type, step, summary }) as TimelineEvent;

describe('stepOutcomes', () => {
  it('tells ran, skipped by condition, stopped by a breaker, rejected, failed and never reached apart', () => {
    // prepare
    const events = [
      ev('action', 'a', 'did it'),
      ev('condition_evaluated', 'b', 'b: "x > 1" is false'),
      ev('step_skipped', 'c', 'c skipped: service_stopped (service breaker for trading-api open)'),
      ev('approval_requested', 'd'),
      ev('approval_rejected_by', 'd'),
      ev('step_failed', 'e'),
    ];
    // act
    const outcomes = stepOutcomes(events, ['a', 'b', 'c', 'd', 'e', 'f']);
    // assess
    expect(outcomes).toEqual({ a: 'ran', b: 'skipped', c: 'breaker', d: 'rejected', e: 'failed', f: 'not_reached' });
  });
});

describe('pathDeviations', () => {
  it('names each step that left the path; not_run accepts anything but ran', () => {
    // act
    const found = pathDeviations('INC-1', { a: 'ran', b: 'ran', c: 'breaker', d: 'skipped' }, { a: 'ran', b: 'skipped', c: 'not_run', d: 'not_run' });
    // assess
    expect(found).toEqual(['INC-1 step b: expected skipped, was ran']);
  });
});
