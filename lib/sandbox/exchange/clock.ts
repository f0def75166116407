/**
 * The drill's simulated clock. It runs `speed` times faster than real time while the agent waits
 * (Wait states, approval windows, pods starting, traffic changing), and at real speed while the
 * agent works (a Task handler runs, an alarm is delivered, an approval is posted): work does not
 * get faster in AWS either, so MTTI and time-to-first-action measured on this clock are what the
 * agent's own work costs, while minutes of waiting pass in a fraction of a second.
 *
 * With a heartbeat, real time the process did not get to run also passes at real speed: a beat
 * that comes late (the event loop was blocked, or the machine's cores were busy elsewhere) counts
 * its lateness as work. Without it, one second of a starved process would be five simulated
 * minutes at 300×, and a drill on a loaded machine would see its approval windows and Waits end
 * before the agent had had any time to act.
 */
export class SimClock {
  private simBase: number;
  private realBase: number;
  private holds = 0;
  /** Each pending sleep: its wake-up (recompute after a rate change) and its timer. */
  private readonly sleepers = new Map<() => void, NodeJS.Timeout>();
  private stopped = false;
  private lastBeat: number;
  private readonly heartbeat?: NodeJS.Timeout;

  /**
   * @param speed how much faster than real time the clock runs while nothing holds it
   * @param start the simulated time at creation (epoch ms) @default now
   * @param real the real clock, in ms (tests) @default performance.now
   * @param options.heartbeatMs beat every this many ms (an unref'd timer); real time more than
   *   {@link SimClock.LATE_MS} after a beat was due passes at real speed. @default - no heartbeat:
   *   real time always counts at the current rate (a test drives {@link beat} itself)
   */
  public constructor(
    public readonly speed: number,
    start: number = Date.now(),
    private readonly real: () => number = () => performance.now(),
    private readonly options: { readonly heartbeatMs?: number } = {},
  ) {
    if (!(speed >= 1) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a number ≥ 1, got ${speed}`);
    if (options.heartbeatMs !== undefined && !(options.heartbeatMs > 0)) throw new RangeError(`heartbeatMs must be positive, got ${options.heartbeatMs}`);
    this.simBase = start;
    this.realBase = this.real();
    this.lastBeat = this.realBase;
    if (options.heartbeatMs !== undefined) {
      this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
      this.heartbeat.unref?.();
    }
  }

  /** How late (ms) a beat may come before the lateness counts at real speed. */
  public static readonly LATE_MS = 30;

  /** The process ran: real time up to now counts at the current rate (as far as it was on time). */
  public beat(): void {
    this.rebase();
    this.lastBeat = this.realBase;
  }

  /**
   * The drill is over: stops the heartbeat and abandons every pending sleep (its timer cleared, its
   * promise never settles), and later sleeps never end. Without the heartbeat, a sleep still
   * pending would run on at real speed: a loop's `sleep(180)` kept the process alive three minutes.
   */
  public stop(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const timer of this.sleepers.values()) clearTimeout(timer);
    this.sleepers.clear();
  }

  /** The current rate: 1 while something holds the clock, else `speed`. */
  public get rate(): number {
    return this.holds > 0 ? 1 : this.speed;
  }

  public nowMs(): number {
    return this.simBase + this.credited(this.real());
  }

  /** Simulated ms for the real time since the last rebase: at the rate while on time, then at real speed. */
  private credited(realNow: number): number {
    const elapsed = realNow - this.realBase;
    if (this.options.heartbeatMs === undefined) return elapsed * this.rate;
    const onTime = Math.max(0, Math.min(elapsed, this.lastBeat + this.options.heartbeatMs + SimClock.LATE_MS - this.realBase));
    return onTime * this.rate + (elapsed - onTime);
  }

  public now(): Date {
    return new Date(this.nowMs());
  }

  /** Runs the clock at real speed until the returned function is called (nested holds count). */
  public hold(): () => void {
    this.rebase();
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.rebase();
      this.holds -= 1;
      // Sleepers computed their real delay at the old rate: let them recompute.
      for (const wake of [...this.sleepers.keys()]) wake();
    };
  }

  /** Holds the clock while `work` runs. */
  public async holding<T>(work: () => Promise<T>): Promise<T> {
    const release = this.hold();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Resolves when the simulated clock reaches `atMs` (never, once the clock is stopped). */
  public async until(atMs: number): Promise<void> {
    for (;;) {
      const left = atMs - this.nowMs();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        if (this.stopped) return;
        const wake = () => {
          clearTimeout(timer);
          this.sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, left / this.rate));
        this.sleepers.set(wake, timer);
      });
    }
  }

  /** Resolves after `seconds` of simulated time. */
  public sleep(seconds: number): Promise<void> {
    return this.until(this.nowMs() + seconds * 1000);
  }

  private rebase(): void {
    const now = this.real();
    this.simBase += this.credited(now);
    this.realBase = now;
  }
}
