/**
 * Issue 3: "20 parallel executions must not get past a limit of 3". Twenty executions of a
 * one-step playbook (a mutating redis_command, automatic) run at once on the local engine for
 * the same service; no Redis target is configured, so an allowed attempt then fails as "target
 * not configured" — the attempt is counted either way. The service breaker lets exactly three
 * through and refuses the other seventeen.
 */
import { getServiceBreaker } from '../../lib/breaker';
import { getTimeline, openOrJoinIncident } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { expectNoDenials } from '../helpers/iam';
import { executionName } from '../../lib/runtime/executions';
import { compiledPlaybooks, type CompiledPlaybook } from '../helpers/compiled-playbook';

const SERVICE = 'redis-cache';
/** Twenty playbooks that all work on one service: twenty incidents can be open on it at once. */
const playbookYaml = (i: number) => `
playbook: parallel-flush-${i}
risk: LOW
service: ${SERVICE}
steps:
  - name: flush
    action: redis_command
    params:
      command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK"
    risk: LOW
    auto_execute: true
    on_fail: skip
`;

let playbook: CompiledPlaybook;
let engine: LocalEngine;

beforeAll(async () => {
  playbook = compiledPlaybooks(Array.from({ length: 20 }, (_, i) => ({ name: `parallel-flush-${i}`, yaml: playbookYaml(i) })));
  engine = await new LocalEngine({ manifestFile: playbook.manifestFile, speedUp: 600, notifier: false, oncall: false, iam: true }).start();
});

afterAll(async () => {
  await engine.stop();
  expectNoDenials(engine);
  playbook.remove();
});

describe('20 parallel executions on one service', () => {
  it('get exactly 3 remediation attempts past the service breaker; the other 17 are refused and recorded', async () => {
    // prepare: 20 incidents of the service (one per alarm source), each with its own execution
    const incidents = await Promise.all(
      Array.from({ length: 20 }, async (_, i) =>
        (await openOrJoinIncident(engine.doc, engine.tables, { playbook: `parallel-flush-${i}`, service: SERVICE, severity: 'LOW', alarm: { name: `source-${i}` }, detectedAt: new Date(), anomalyStartedAt: new Date() })).incident,
      ),
    );
    // act: all at once
    await Promise.all(incidents.map((inc) => engine.startExecution({ playbook: inc.playbook, name: executionName(inc.id), input: { incident: { id: inc.id, playbook: inc.playbook, service: SERVICE, severity: 'LOW' } } })));
    await Promise.all(incidents.map((inc) => engine.executions.get(executionName(inc.id))!.done));
    // assess
    const timelines = await Promise.all(incidents.map((inc) => getTimeline(engine.doc, engine.tables, inc.id)));
    const of = (type: string) => timelines.flat().filter((e) => e.step === 'flush' && e.type === type);
    // An allowed attempt reaches the action, which fails for want of a target; a refused one never does.
    const attempted = of('step_failed').filter((e) => e.summary.includes('TargetNotConfiguredError'));
    // Refused by the service breaker, or by the global one once three failures opened it: never run.
    const refused = of('action_refused');
    expect(attempted).toHaveLength(3);
    expect(refused).toHaveLength(17);
    expect(refused.every((e) => /breaker refused the attempt|automatic remediation is paused/.test(e.summary))).toBe(true);
    const breaker = await getServiceBreaker(engine.doc, engine.tables, engine.breakerConfig, new Date(), SERVICE);
    expect(breaker).toMatchObject({ state: 'OPEN' });
    expect(breaker.attempts).toHaveLength(3);
  });
});
