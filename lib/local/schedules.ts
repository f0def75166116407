/**
 * Scheduled playbooks on the local engine (`trigger: daily_check`): each runs at its schedule
 * expression's next time, and `sre-agent run <playbook>` starts any playbook now, both with the
 * input the stack's EventBridge schedule rule sends (`{context: {trigger, scheduled_at}}`), so
 * Start incident opens the incident as it does in AWS.
 */
import type { MachineManifest } from '../compiled/manifest';
import type { ExecutionStarter, StartResult } from '../runtime/executions';
import { PlaybookNotFoundError, ScheduleError, UsageError } from './errors';

/** A field of an EventBridge cron: `*`, `?`, a number, a list `1,15`, a range `1-5`, a step `0/15`. */
function matches(field: string, value: number): boolean {
  if (field === '*' || field === '?') return true;
  return field.split(',').some((part) => {
    const step = /^(\*|\d+)\/(\d+)$/.exec(part);
    if (step) return (value - (step[1] === '*' ? 0 : Number(step[1]))) % Number(step[2]) === 0 && value >= (step[1] === '*' ? 0 : Number(step[1]));
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) return value >= Number(range[1]) && value <= Number(range[2]);
    return /^\d+$/.test(part) && Number(part) === value;
  });
}

/**
 * The next time (UTC, after `from`) a schedule expression fires: `rate(N minute|minutes|hour|hours|day|days)`
 * or `cron(min hour day-of-month month day-of-week year)` with numbers, `*`, `?`, lists, ranges and
 * steps (named days and months, `L`, `W` and `#` are not supported: an error names them).
 * @example nextRun('cron(0 1 * * ? *)', new Date('2026-02-09T14:00:00Z')) // 2026-02-10T01:00:00.000Z
 */
export function nextRun(expression: string, from: Date): Date {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) return new Date(from.getTime() + Number(rate[1]) * { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 }[rate[2] as 'day'] * 1000);
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron || cron.slice(1).some((f) => /[A-Za-z#]/.test(f))) throw new ScheduleError(`schedule "${expression}": only rate(...) and numeric cron(min hour dom month dow year) run locally`, expression);
  const [, min, hour, dom, month, dow, year] = cron as unknown as string[];
  const t = new Date(Math.floor(from.getTime() / 60000) * 60000 + 60000);
  for (let i = 0; i < 366 * 24 * 60; i += 1, t.setTime(t.getTime() + 60000)) {
    // EventBridge day-of-week is 1-7 with 1 = Sunday.
    if (matches(min!, t.getUTCMinutes()) && matches(hour!, t.getUTCHours()) && matches(dom!, t.getUTCDate()) && matches(month!, t.getUTCMonth() + 1) && matches(dow!, t.getUTCDay() + 1) && matches(year!, t.getUTCFullYear())) return new Date(t);
  }
  throw new ScheduleError(`schedule "${expression}" does not fire within a year of ${from.toISOString()}`, expression);
}

/** Starts a playbook now, as the schedule rule does: no incident yet, Start incident opens one. */
export function runPlaybookNow(engine: ExecutionStarter & { readonly playbooks: MachineManifest[] }, playbook: string, now: Date, trigger: 'schedule' | 'manual' = 'manual'): Promise<StartResult & { name: string }> {
  if (!engine.playbooks.some((m) => m.playbook === playbook)) throw new PlaybookNotFoundError(`no compiled playbook "${playbook}" (known: ${engine.playbooks.map((m) => m.playbook).join(', ')})`, playbook);
  // Execution names: 1-80 characters, no whitespace or brackets.
  const name = `${playbook}-${trigger}-${now.toISOString().replace(/[:.]/g, '-')}`.slice(0, 80);
  return engine.startExecution({ playbook, name, input: { context: { trigger, scheduled_at: now.toISOString() } } }).then((r) => ({ ...r, name }));
}

export { PlaybookNotFoundError };

/** Options of {@link startSchedules}. */
export interface ScheduleOptions {
  log(line: string): void;
  /** The engine's clock. @default real time */
  now?(): Date;
  /**
   * The engine's speed-up: schedules run that many times faster, as its waits do. With a real
   * clock, schedule time starts at the engine's start and runs `speedUp`× faster (a `rate(1 day)`
   * fires every 24 min at 60×); with a simulated clock (`simulatedClock`), its own time is used
   * and only the real wait is divided. @default 1
   */
  readonly speedUp?: number;
  /** `now` already runs `speedUp` times faster (a drill's clock). @default false */
  readonly simulatedClock?: boolean;
}

/** Timers for every scheduled machine; `stop()` clears them. */
export function startSchedules(engine: ExecutionStarter & { readonly playbooks: MachineManifest[] }, o: ScheduleOptions): { stop(): void; next: Map<string, Date> } {
  const timers = new Set<NodeJS.Timeout>();
  const next = new Map<string, Date>();
  const clock = o.now ?? (() => new Date());
  const speedUp = o.speedUp ?? 1;
  if (!(speedUp > 0)) throw new UsageError(`schedules: speedUp must be positive, got ${speedUp}`, 'speedUp');
  const started = clock().getTime();
  // Schedule time: the engine's clock, run speedUp× faster from the start when that clock is real.
  const now = o.simulatedClock || speedUp === 1 ? clock : () => new Date(started + (clock().getTime() - started) * speedUp);
  for (const m of engine.playbooks) {
    if (m.trigger.type !== 'schedule') continue;
    const expression = m.trigger.expression;
    // A timer may fire a millisecond early, which at a speed-up is most of a second of schedule
    // time: runs are stamped with, and the next one computed from, the time they were due (as
    // EventBridge stamps an event with its scheduled time).
    const arm = (at: Date) => {
      next.set(m.playbook, at);
      // Node timers hold at most ~24.8 days; re-arm in steps.
      const timer = setTimeout(() => {
        timers.delete(timer);
        const t = now();
        if (t.getTime() + 1000 < at.getTime()) return arm(at);
        runPlaybookNow(engine, m.playbook, at, 'schedule').then((r) => o.log(`scheduled ${m.playbook}: started ${r.name}`), (err: Error) => o.log(`scheduled ${m.playbook}: could not start: ${err.message}`));
        arm(nextRun(expression, t.getTime() > at.getTime() ? t : at));
      }, Math.max(0, Math.min((at.getTime() - now().getTime()) / speedUp, 2 ** 31 - 1)));
      timer.unref();
      timers.add(timer);
    };
    try {
      arm(nextRun(expression, now()));
      o.log(`  schedule: ${m.playbook} ${expression}, next ${next.get(m.playbook)?.toISOString()}${speedUp === 1 ? '' : ` (×${speedUp})`}`);
    } catch (err) {
      o.log(`  schedule: ${m.playbook} not scheduled locally: ${(err as Error).message} (sre-agent run ${m.playbook} starts it)`);
    }
  }
  return { stop: () => timers.forEach((t) => clearTimeout(t)), next };
}
