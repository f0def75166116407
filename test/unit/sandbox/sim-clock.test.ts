/** The drill's simulated clock: `speed`× while the agent waits, real speed while something holds it. */
import { SimClock } from '../../../lib/sandbox/exchange';

function clockAt(speed: number) {
  let real = 1000;
  const clock = new SimClock(speed, Date.parse('2026-12-07T10:00:00Z'), () => real);
  return { clock, advance: (ms: number) => (real += ms) };
}

describe('SimClock', () => {
  it('runs speed times faster than real time while nothing holds it', () => {
    // prepare
    const { clock, advance } = clockAt(60);
    // act
    advance(1000);
    // assess
    expect(clock.now().toISOString()).toBe('2026-12-07T10:01:00.000Z');
  });

  it('runs at real speed while held, nested holds included, and speeds up again once all are released', () => {
    // prepare
    const { clock, advance } = clockAt(60);
    // act
    const outer = clock.hold();
    const inner = clock.hold();
    advance(500);
    inner();
    inner(); // a second release of the same hold counts once
    advance(500);
    outer();
    advance(1000);
    // assess: 0.5 + 0.5 s at 1×, then 1 s at 60×
    expect(clock.nowMs() - Date.parse('2026-12-07T10:00:00Z')).toBe(61_000);
    expect(clock.rate).toBe(60);
  });

  it('refuses a speed below 1', () => {
    expect(() => new SimClock(0.5)).toThrow('clock speed must be a number ≥ 1, got 0.5');
    expect(() => new SimClock(60, 0, () => 0, { heartbeatMs: 0 })).toThrow('heartbeatMs must be positive, got 0');
  });

  describe('with a heartbeat', () => {
    function beating(speed: number) {
      let real = 1000;
      const clock = new SimClock(speed, Date.parse('2026-12-07T10:00:00Z'), () => real, { heartbeatMs: 20 });
      clock.stop(); // the test beats it by hand
      return { clock, advance: (ms: number) => (real += ms) };
    }

    it('runs speed times faster while the beats come on time', () => {
      // prepare
      const { clock, advance } = beating(300);
      // act: 50 beats, 20 ms apart (one real second)
      for (let i = 0; i < 50; i += 1) {
        advance(20);
        clock.beat();
      }
      // assess: 300 s
      expect(clock.now().toISOString()).toBe('2026-12-07T10:05:00.000Z');
    });

    it('counts a late beat\'s lateness at real speed: a starved second is not five simulated minutes', () => {
      // prepare
      const { clock, advance } = beating(300);
      // act: the process does not run for a real second (the beat was due at 20 ms)
      advance(1000);
      clock.beat();
      // assess: 50 ms on time (the beat's 20 and LATE_MS 30) at 300×, the other 950 ms at 1×
      expect(clock.nowMs() - Date.parse('2026-12-07T10:00:00Z')).toBe(50 * 300 + 950);
      // and once beating again, it runs fast again
      advance(20);
      clock.beat();
      expect(clock.nowMs() - Date.parse('2026-12-07T10:00:00Z')).toBe(50 * 300 + 950 + 20 * 300);
    });

    it('reads the same before and after a beat (a beat only rebases)', () => {
      // prepare
      const { clock, advance } = beating(60);
      advance(500);
      // act
      const before = clock.nowMs();
      clock.beat();
      // assess
      expect(clock.nowMs()).toBe(before);
    });
  });

  it('once stopped, leaves no timer: pending and later sleeps are abandoned, not run on at real speed', async () => {
    jest.useFakeTimers();
    try {
      // prepare: a clock at 300× with its heartbeat, and a sleep pending
      const clock = new SimClock(300, Date.now(), undefined, { heartbeatMs: 20 });
      let woke = false;
      void clock.sleep(180).then(() => (woke = true));
      expect(jest.getTimerCount()).toBe(2);
      // act
      clock.stop();
      void clock.sleep(60).then(() => (woke = true));
      // assess: the heartbeat and the sleep's timer are gone, the later sleep made none; nothing wakes
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(10 * 60_000);
      expect(woke).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});
