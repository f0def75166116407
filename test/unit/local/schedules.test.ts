/** The local schedule timer (`trigger: daily_check` playbooks): it keeps the engine's clock and speed-up. */
import type { MachineManifest } from '../../../lib/compiled/manifest';
import { startSchedules } from '../../../lib/local/schedules';
import type { StartRequest } from '../../../lib/runtime/executions';

/** An engine holding one scheduled machine, recording what it is asked to start. */
function engineWith(expression: string) {
  const started: StartRequest[] = [];
  const playbooks = [{ playbook: 'certificate-expiry-warning', trigger: { type: 'schedule', expression } } as unknown as MachineManifest];
  return { started, engine: { playbooks, startExecution: async (req: StartRequest) => (started.push(req), { executionArn: `arn:local:${req.name}`, alreadyStarted: false }) } };
}

const scheduledAt = (r: StartRequest) => (r.input as { context: { scheduled_at: string } }).context.scheduled_at;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Function: startSchedules', () => {
  it('runs a rate(1 minute) playbook on a simulated clock 600× faster: every 100 ms, at that clock\'s minutes', () => {
    // prepare: a drill-like clock that runs 600× the (fake) real time from 2026-02-09T14:00:00Z.
    // Fake timers: on a loaded machine a late timer is legitimately followed by a later next run
    // (it is computed from the time it fired), so counting runs in a real 450 ms is a race.
    jest.useFakeTimers();
    try {
      const t0 = Date.now();
      const now = () => new Date(Date.parse('2026-02-09T14:00:00Z') + (Date.now() - t0) * 600);
      const { started, engine } = engineWith('rate(1 minute)');

      // act: 450 ms of real time pass
      const schedules = startSchedules(engine, { log: () => undefined, now, speedUp: 600, simulatedClock: true });
      jest.advanceTimersByTime(450);
      schedules.stop();

      // assess: four runs, a simulated minute apart from 14:01, input as the schedule rule sends it
      expect(started[0]).toMatchObject({ playbook: 'certificate-expiry-warning', input: { context: { trigger: 'schedule' } } });
      expect(started.map(scheduledAt)).toEqual(['2026-02-09T14:01:00.000Z', '2026-02-09T14:02:00.000Z', '2026-02-09T14:03:00.000Z', '2026-02-09T14:04:00.000Z']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with the real clock and a speed-up, runs schedule time that many times faster from the start', async () => {
    const { started, engine } = engineWith('rate(1 minute)');
    const before = Date.now();

    const schedules = startSchedules(engine, { log: () => undefined, speedUp: 600 });
    await sleep(250);
    schedules.stop();

    expect(started.length).toBeGreaterThanOrEqual(1);
    expect(Date.parse(scheduledAt(started[0]!)) - before).toBeGreaterThanOrEqual(60_000);
  });

  it('stamps a run with the time it was due, and computes the next from it, when its timer fires early', async () => {
    // prepare: a clock the test moves; the timer will fire while that clock is still 400 ms short
    jest.useFakeTimers();
    try {
      let clock = Date.parse('2026-02-09T14:00:00Z');
      const { started, engine } = engineWith('rate(1 minute)');
      const schedules = startSchedules(engine, { log: () => undefined, now: () => new Date(clock), simulatedClock: true });

      // act: a minute of timers passes, but the clock reads 14:00:59.6
      clock = Date.parse('2026-02-09T14:00:59.600Z');
      jest.advanceTimersByTime(60_000);
      await Promise.resolve();
      schedules.stop();

      // assess: stamped 14:01:00 (not 14:00:59.6), and the next run a full minute after that
      expect(started.map(scheduledAt)).toEqual(['2026-02-09T14:01:00.000Z']);
      expect(schedules.next.get('certificate-expiry-warning')?.toISOString()).toBe('2026-02-09T14:02:00.000Z');
    } finally {
      jest.useRealTimers();
    }
  });

  it('starts nothing after stop()', async () => {
    const { started, engine } = engineWith('rate(1 minute)');

    startSchedules(engine, { log: () => undefined, speedUp: 600 }).stop();
    await sleep(200);

    expect(started).toEqual([]);
  });

  it('says on its log line when a schedule cannot run locally', () => {
    const lines: string[] = [];
    const { engine } = engineWith('cron(0 1 ? * MON-FRI *)');

    startSchedules(engine, { log: (l) => lines.push(l) }).stop();

    expect(lines[0]).toContain('certificate-expiry-warning not scheduled locally');
  });
});
