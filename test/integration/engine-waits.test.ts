/**
 * The local engine's Wait states: real time by default, divided by the speed-up factor for
 * drills (issue 3), except the states a test holds at their real length (realTimeStates). A
 * one-state machine written for the test: Wait 1 s, then Succeed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalEngine } from '../../lib/local/engine';

let dir: string;
let manifestFile: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-waits-'));
  mkdirSync(path.join(dir, 'statemachines'));
  const asl = { StartAt: 'Hold', TimeoutSeconds: 60, States: { Hold: { Type: 'Wait', Seconds: 1, Next: 'Done' }, Done: { Type: 'Succeed' } } };
  writeFileSync(path.join(dir, 'statemachines/wait-drill.asl.json'), JSON.stringify(asl));
  manifestFile = path.join(dir, 'statemachines/index.json');
  writeFileSync(manifestFile, JSON.stringify({ machines: [{ playbook: 'wait-drill', file: 'statemachines/wait-drill.asl.json', trigger: { type: 'alarm', alarmNamePrefix: 'sre-agent/wait-drill/' } }] }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the machine once on an engine with `speedUp` (undefined: the default); ms it took. */
async function runOnce(speedUp: number | undefined): Promise<number> {
  const engine = await new LocalEngine({ manifestFile, speedUp, notifier: false, oncall: false }).start();
  try {
    const t0 = performance.now();
    await engine.startExecution({ playbook: 'wait-drill', name: 'drill', input: {} });
    const exec = engine.executions.get('drill')!;
    await exec.done;
    expect(exec.status).toBe('SUCCEEDED');
    return performance.now() - t0;
  } finally {
    await engine.stop();
  }
}

describe('LocalEngine Wait states', () => {
  it('wait in real time by default: a 1 s Wait takes at least 1 s', async () => {
    expect(await runOnce(undefined)).toBeGreaterThanOrEqual(990);
  });

  it('wait 1/speed-up of their time in a drill: at ×10 the same Wait takes 100 ms', async () => {
    // prepare: the engine started on real timers; the run on fake ones, so that "100 ms, not 1 s"
    // is read from the timers and not from a wall clock a loaded machine stretches
    const engine = await new LocalEngine({ manifestFile, speedUp: 10, notifier: false, oncall: false }).start();
    jest.useFakeTimers();
    try {
      // act
      await engine.startExecution({ playbook: 'wait-drill', name: 'drill', input: {} });
      const exec = engine.executions.get('drill')!;
      await jest.advanceTimersByTimeAsync(99);
      const after99 = exec.status;
      await jest.advanceTimersByTimeAsync(1);
      const after100 = exec.status;
      // assess
      expect(after99).toBe('RUNNING');
      expect(after100).toBe('SUCCEEDED');
    } finally {
      jest.useRealTimers();
      await engine.stop();
    }
  });

  it('keep their whole length when named in realTimeStates: at ×10 the held Wait still takes 1 s', async () => {
    // prepare: as above, the run on fake timers
    const engine = await new LocalEngine({ manifestFile, speedUp: 10, realTimeStates: ['Hold'], notifier: false, oncall: false }).start();
    jest.useFakeTimers();
    try {
      // act
      await engine.startExecution({ playbook: 'wait-drill', name: 'drill', input: {} });
      const exec = engine.executions.get('drill')!;
      await jest.advanceTimersByTimeAsync(999);
      const after999 = exec.status;
      await jest.advanceTimersByTimeAsync(1);
      const after1000 = exec.status;
      // assess
      expect(after999).toBe('RUNNING');
      expect(after1000).toBe('SUCCEEDED');
    } finally {
      jest.useRealTimers();
      await engine.stop();
    }
  });

  it('refuses to hold a state that no compiled machine has (a typo would hold nothing)', async () => {
    await expect(new LocalEngine({ manifestFile, speedUp: 10, realTimeStates: ['Hold', 'Hlod'], notifier: false, oncall: false }).start()).rejects.toThrow('realTimeStates: no compiled machine has a state named "Hlod"');
  });

  it('refuses a speed-up that is not positive', () => {
    expect(() => new LocalEngine({ manifestFile, speedUp: 0 })).toThrow('speedUp must be positive, got 0');
  });
});
