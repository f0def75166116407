/**
 * Step outputs join the execution's context (issue 3): a playbook compiled for this test reads
 * Redis (real, 127.0.0.1:6379 DB 7) with redis_analysis, then a later step's condition and its
 * message use what that step read (`dbsize`): action parameters resolve from stored outputs, never from metrics. Run by the local engine
 * (waits sped up 600×) with a recording notifier.
 */
import { Redis } from 'ioredis';
import { getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { expectNoDenials } from '../helpers/iam';
import { executionName } from '../../lib/runtime/executions';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { compiledPlaybook, type CompiledPlaybook } from '../helpers/compiled-playbook';
import { alarmEvent } from '../helpers/events';
import { recordingNotifier } from '../helpers/recording-notifier';

const RUN = `outputs-${process.pid}-${Date.now()}`;
const PLAYBOOK = `
playbook: outputs-flow
risk: LOW
service: redis-cache
steps:
  - name: analyze
    action: redis_analysis
    params:
      commands: ["INFO memory", "DBSIZE"]
    auto_execute: true
  - name: tell
    condition: "dbsize >= 3"
    action: send_alert
    params: { severity: LOW, channels: [slack], message: "{{service}}: {{dbsize}} keys" }
    auto_execute: true
`;

let playbook: CompiledPlaybook;
let redis: Redis;
let engine: LocalEngine;
const { notifier: recording, sent } = recordingNotifier();

beforeAll(async () => {
  playbook = compiledPlaybook('outputs-flow', PLAYBOOK);
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 7 });
  for (let i = 0; i < 5; i += 1) await redis.set(`${RUN}:${i}`, 'x');
  engine = await new LocalEngine({ manifestFile: playbook.manifestFile, speedUp: 600, targets: { redis }, notifier: recording, oncall: false, iam: true }).start();
});

afterAll(async () => {
  await engine.stop();
  expectNoDenials(engine);
  await redis.del(...Array.from({ length: 5 }, (_, i) => `${RUN}:${i}`));
  redis.disconnect();
  playbook.remove();
});

describe('step outputs', () => {
  it("feed a later step's condition and message with what an earlier step read", async () => {
    // act
    const started = await engine.asFunction('trigger', () => handleAlarmEvent(alarmEvent('sre-agent/outputs-flow/redis-cache/redis_memory_usage'), engine.intakeDeps()));
    const exec = engine.executions.get(executionName(started.incidentId!))!;
    await exec.done;
    // assess: what analyze read...
    expect(exec.status).toBe('SUCCEEDED');
    const timeline = await getTimeline(engine.doc, engine.tables, started.incidentId!);
    const outputs = (exec.output as { run?: { steps?: { analyze?: { outputs?: { dbsize?: number } } } } }).run?.steps?.analyze?.outputs;
    expect(outputs?.dbsize).toBeGreaterThanOrEqual(5);
    expect(timeline.find((e) => e.step === 'analyze' && e.type === 'action')?.summary).toContain(`${outputs?.dbsize} keys`);
    // ...decided the condition, with the value it read...
    const checked = timeline.find((e) => e.step === 'tell' && e.type === 'condition_evaluated');
    expect(checked?.summary).toBe('tell: "dbsize >= 3" is true');
    expect((checked?.data as { values: Record<string, unknown> }).values.dbsize).toBe(outputs?.dbsize);
    // ...and filled the message
    const alert = sent.find((n) => n.message.startsWith('redis-cache: '));
    expect(alert?.message).toBe(`redis-cache: ${outputs?.dbsize} keys`);
  });
});
