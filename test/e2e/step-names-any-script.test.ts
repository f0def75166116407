/**
 * Step names in any script, run (issue 14): a playbook whose steps are named `分析`, `限流` and
 * `通知` runs on the local engine as the seed's snake_case ones do — the states carry the names as
 * written, the JSONPaths under $.run hold each step's check, gate and result, a condition waits for
 * `分析` by name, a later step's message uses what `分析` read, and the timeline, the step records
 * and the mutating step's gate and config change are keyed by the names. Real Redis (DB 7, keys of
 * this run only), the config store in a temporary file, waits sped up 600×, under the IAM check.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { FileConfigStore } from '../../lib/actions/config/file-config';
import { getTimeline } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { executionName } from '../../lib/runtime/executions';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { expectNoDenials } from '../helpers/iam';
import { compiledPlaybook, type CompiledPlaybook } from '../helpers/compiled-playbook';
import { alarmEvent } from '../helpers/events';
import { recordingNotifier } from '../helpers/recording-notifier';

const RUN = `steps-any-script-${process.pid}-${Date.now()}`;
const PLAYBOOK = `
playbook: unicode-steps
risk: LOW-MEDIUM
service: trading-api
steps:
  - name: 分析
    action: redis_analysis
    params:
      commands: ["INFO memory", "DBSIZE"]
    auto_execute: true
  - name: 限流
    condition: "dbsize >= 3 after 分析"
    action: update_config
    params: { service: trading-api, config: rate_limit_enabled=true }
    risk: MEDIUM
    auto_execute: true
  - name: 通知
    action: send_alert
    params: { severity: LOW, channels: [slack], message: "{{service}}: 已限流 ({{dbsize}} 个键)" }
    auto_execute: true
`;

let playbook: CompiledPlaybook;
let redis: Redis;
let engine: LocalEngine;
let dir: string;
const { notifier: recording, sent } = recordingNotifier();

beforeAll(async () => {
  playbook = compiledPlaybook('unicode-steps', PLAYBOOK);
  dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-unicode-steps-'));
  redis = new Redis({ host: '127.0.0.1', port: 6379, db: 7 });
  for (let i = 0; i < 5; i += 1) await redis.set(`${RUN}:${i}`, 'x');
  const config = new FileConfigStore(path.join(dir, 'config-store.json'));
  engine = await new LocalEngine({ manifestFile: playbook.manifestFile, speedUp: 600, targets: { redis, config }, notifier: recording, oncall: false, iam: true }).start();
});

afterAll(async () => {
  await engine.stop();
  expectNoDenials(engine);
  await redis.del(...Array.from({ length: 5 }, (_, i) => `${RUN}:${i}`));
  redis.disconnect();
  playbook.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('a playbook whose steps are named in Chinese', () => {
  it('runs every step under its own name: checks, gate, action, outputs, timeline and config change', async () => {
    // act
    const started = await engine.asFunction('trigger', () => handleAlarmEvent(alarmEvent('sre-agent/unicode-steps/trading-api/api_latency_p99'), engine.intakeDeps()));
    const exec = engine.executions.get(executionName(started.incidentId!))!;
    await exec.done;

    // assess: the Task states as written, in order (each Choice between them read $.run.checks.限流 / $.run.gates.限流)
    expect(exec.status).toBe('SUCCEEDED');
    const entered = exec.states.filter((s) => /^(分析|限流|通知)/.test(s));
    expect(entered).toEqual(['分析', '限流: check condition', '限流: breaker gate', '限流', '通知']);
    // the results under $.run, keyed by the names
    const run = (exec.output as { run: Record<string, Record<string, { outputs?: { dbsize?: number }; result?: string; mode?: string }>> }).run;
    expect(run.steps?.['分析']?.outputs?.dbsize).toBeGreaterThanOrEqual(5);
    expect(run.checks?.['限流']?.result).toBe('true');
    expect(run.gates?.['限流']?.mode).toBe('auto');
    expect(Object.keys(run.steps ?? {})).toEqual(['分析', '限流', '通知']);
    // the timeline names the steps; the condition names the step it waited for
    const timeline = await getTimeline(engine.doc, engine.tables, started.incidentId!);
    const actions = timeline.filter((e) => e.type === 'action').map((e) => e.step);
    expect(actions).toEqual(['分析', '限流', '通知']);
    expect(timeline.find((e) => e.type === 'condition_evaluated' && e.step === '限流')?.summary).toBe('限流: "dbsize >= 3 after 分析" is true');
    // the mutating step really changed the config; the message used what 分析 read
    expect(JSON.parse(readFileSync(path.join(dir, 'config-store.json'), 'utf8'))).toMatchObject({ config: { 'trading-api': { rate_limit_enabled: 'true' } } });
    expect(sent.map((n) => n.message)).toContain(`trading-api: 已限流 (${run.steps?.['分析']?.outputs?.dbsize} 个键)`);
  });
});
