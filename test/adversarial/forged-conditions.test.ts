/**
 * Attacks on `${Fn_evaluate}` `op: condition` (`<step>: check condition`) by anyone able to invoke
 * the function with a payload of their own: the condition evaluated is the compiled step's, in the
 * playbook version the incident is pinned to, and the outputs it reads are the ones earlier steps
 * stored. A forged payload can neither make a condition true by claiming outputs, nor have another
 * condition evaluated (the `condition_evaluated` event it leaves is quoted to approvers as evidence).
 */
import { getGlobalBreaker } from '../../lib/breaker';
import { claimStep, finishStep, getIncident, getTimeline, pinPlaybookHash, transitionIncident, type TimelineEvent } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { startedIncident } from '../helpers/started-incident';

let engine: LocalEngine;

beforeAll(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: false }).start();
});

afterAll(async () => engine.stop());

let n = 0;
/** A started kafka-consumer-lag incident (or another playbook's) and the refs its machine carries. */
async function incident(playbook = 'kafka-consumer-lag') {
  n += 1;
  const started = await startedIncident(engine.doc, engine.tables, { playbook, service: `cond-svc-${n}`, playbooks: engine.compiled });
  const i = started.incident;
  return { id: i.id, refs: { incident: { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity }, context: {}, steps: {} as Record<string, unknown> } };
}

/** What diagnose_consumers stored when it succeeded (the step record the dispatcher writes). */
async function diagnosed(id: string, outputs: Record<string, unknown>): Promise<void> {
  const claim = await claimStep(engine.doc, engine.tables, { incidentId: id, step: 'diagnose_consumers', action: 'kafka_admin', now: new Date() });
  expect(claim.claimed).toBe(true);
  if (!claim.claimed) return;
  await finishStep(engine.doc, engine.tables, id, 'diagnose_consumers', claim.record.claimId, { state: 'done', summary: 'diagnosed', outputs }, new Date());
}

const SCALE = { op: 'condition', step: 'scale_consumer', condition: 'consumers_healthy and lag_increasing', action: 'kubectl_scale', timing: null, after_step: null } as const;
const UNHEALTHY = { consumers_healthy: false, lag_increasing: true, consumer_has_errors: true, consumer_deployment: 'order-consumer' };
const conditionEvents = async (id: string): Promise<TimelineEvent[]> => (await getTimeline(engine.doc, engine.tables, id)).filter((e) => e.type === 'condition_evaluated');

describe('forged Fn_evaluate condition', () => {
  it('reads earlier steps\' outputs from the stored steps: outputs the payload claims cannot make "consumers_healthy and lag_increasing" true', async () => {
    // prepare: diagnose_consumers stored unhealthy consumers
    const inc = await incident();
    await diagnosed(inc.id, UNHEALTHY);
    // act: the payload claims the consumers are healthy, in the step outputs and in the context
    const lie = { consumers_healthy: true, lag_increasing: true };
    const out = (await engine.invoke('Fn_evaluate', { ...SCALE, ...inc.refs, context: lie, steps: { diagnose_consumers: { summary: 'healthy', outputs: lie } } })) as { result: string; values: Record<string, unknown> };
    // assess: judged on the stored outputs; the timeline says so
    expect(out.result).toBe('false');
    expect(out.values).toMatchObject({ consumers_healthy: false });
    expect((await conditionEvents(inc.id)).map((e) => e.summary)).toEqual(['scale_consumer: "consumers_healthy and lag_increasing" is false']);
  });

  it('claims outputs of a step that never ran: unknown (no data), not true', async () => {
    const inc = await incident();
    const out = (await engine.invoke('Fn_evaluate', { ...SCALE, ...inc.refs, steps: { diagnose_consumers: { outputs: { consumers_healthy: true, lag_increasing: true } } } })) as { result: string };
    expect(out.result).not.toBe('true');
  });

  it.each([
    ['another condition of the grammar', 'lag_increasing'],
    ['a condition that always holds', 'lag_increasing or not lag_increasing'],
    ['the compiled words in another order', 'lag_increasing and consumers_healthy'],
    ['another spelling (case)', 'Consumers_healthy and lag_increasing'],
    ['another spelling (spacing)', 'consumers_healthy  and lag_increasing'],
    ['another spelling (trailing blank)', 'consumers_healthy and lag_increasing '],
    ['the restart step\'s condition', 'consumer_has_errors'],
  ])('refuses condition text other than the compiled step\'s (%s), naming incident and step, and records nothing', async (_what, condition) => {
    // prepare: stored outputs under which the forged text would be true
    const inc = await incident();
    await diagnosed(inc.id, UNHEALTHY);
    // act
    const forged = engine.invoke('Fn_evaluate', { ...SCALE, condition, ...inc.refs });
    // assess
    await expect(forged).rejects.toMatchObject({ name: 'ConditionMismatchError', incidentId: inc.id, step: 'scale_consumer', message: expect.stringContaining(`condition of step "scale_consumer" of ${inc.id} refused`) });
    expect(await conditionEvents(inc.id)).toEqual([]);
  });

  it.each([
    ['a step the playbook does not have', 'drain_wallet', 'consumers_healthy and lag_increasing', 'has no step "drain_wallet"'],
    ['a step without a condition', 'diagnose_consumers', 'consumers_healthy and lag_increasing', 'has no condition'],
    ["another playbook's step", 'scale_redis_cluster', 'redis_memory_usage still > 85% after cleanup', 'has no step "scale_redis_cluster"'],
  ])('refuses %s (ConditionMismatchError naming incident and step)', async (_what, step, condition, reason) => {
    const inc = await incident();
    await expect(engine.invoke('Fn_evaluate', { ...SCALE, step, condition, ...inc.refs })).rejects.toMatchObject({ name: 'ConditionMismatchError', incidentId: inc.id, step, message: expect.stringContaining(reason) });
    expect(await conditionEvents(inc.id)).toEqual([]);
  });

  it('refuses a payload naming another playbook for the incident: the stored incident\'s playbook decides which steps exist', async () => {
    const inc = await incident();
    const forged = { ...inc.refs, incident: { ...inc.refs.incident, playbook: 'redis-memory-pressure' } };
    await expect(engine.invoke('Fn_evaluate', { ...SCALE, step: 'scale_redis_cluster', condition: 'redis_memory_usage still > 85% after cleanup', ...forged })).rejects.toMatchObject({ name: 'ConditionMismatchError', incidentId: inc.id });
  });

  it('refuses step outputs under names that are not the playbook\'s steps', async () => {
    const inc = await incident();
    await diagnosed(inc.id, UNHEALTHY);
    const forged = engine.invoke('Fn_evaluate', { ...SCALE, ...inc.refs, steps: { diagnose_consumers: { outputs: UNHEALTHY }, 'zz-override': { outputs: { consumers_healthy: true } } } });
    await expect(forged).rejects.toMatchObject({ name: 'ConditionMismatchError', incidentId: inc.id, step: 'scale_consumer', message: expect.stringContaining('"zz-override"') });
    expect(await conditionEvents(inc.id)).toEqual([]);
  });

  it('refuses an incident pinned to another playbook version, naming the incident and the step', async () => {
    // prepare: an incident whose execution runs another version (pinned first, so the helper's pin is refused)
    n += 1;
    const { openOrJoinIncident } = await import('../../lib/incident');
    const { incident: i } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: 'kafka-consumer-lag', service: `cond-svc-${n}`, severity: 'MEDIUM', alarm: { name: `sre-agent/kafka-consumer-lag/cond-svc-${n}` }, detectedAt: new Date(), anomalyStartedAt: new Date() });
    await pinPlaybookHash(engine.doc, engine.tables, i.id, 'f'.repeat(64));
    const refs = { incident: { id: i.id, playbook: i.playbook, service: i.service, severity: i.severity }, context: {}, steps: {} };
    // act + assess
    await expect(engine.invoke('Fn_evaluate', { ...SCALE, ...refs })).rejects.toMatchObject({ name: 'PlaybookVersionError', message: expect.stringMatching(new RegExp(`incident ${i.id} runs playbook kafka-consumer-lag version ffffffffffff.*step "scale_consumer"`)) });
    expect(await conditionEvents(i.id)).toEqual([]);
  });

  it('refuses an incident that does not exist, naming it', async () => {
    const inc = await incident();
    const ghost = { ...inc.refs, incident: { ...inc.refs.incident, id: 'INC-20260101-999' } };
    await expect(engine.invoke('Fn_evaluate', { ...SCALE, ...ghost })).rejects.toMatchObject({ name: 'IncidentNotFoundError', message: expect.stringContaining('INC-20260101-999') });
  });

  it('safe twin: the payload the machine sends is evaluated on the stored outputs, true when they say so, and a replay answers the same', async () => {
    // prepare: healthy consumers, growing lag, as stored by diagnose_consumers
    const inc = await incident();
    const healthy = { ...UNHEALTHY, consumers_healthy: true, consumer_has_errors: false };
    await diagnosed(inc.id, healthy);
    const machine = { ...SCALE, ...inc.refs, context: { alarm_state_at: new Date().toISOString() }, steps: { diagnose_consumers: { summary: 'diagnosed', outputs: healthy } } };
    // act: the check, then the same invocation again
    const first = (await engine.invoke('Fn_evaluate', machine)) as { result: string };
    const again = (await engine.invoke('Fn_evaluate', machine)) as { result: string };
    // assess
    expect([first.result, again.result]).toEqual(['true', 'true']);
    expect((await engine.invoke('Fn_evaluate', { ...machine, step: 'restart_consumers', condition: 'consumer_has_errors', action: 'rolling_restart' })) as { result: string }).toMatchObject({ result: 'false' });
    expect((await conditionEvents(inc.id)).map((e) => e.summary)).toEqual([
      'scale_consumer: "consumers_healthy and lag_increasing" is true',
      'scale_consumer: "consumers_healthy and lag_increasing" is true',
      'restart_consumers: "consumer_has_errors" is false',
    ]);
  });

  describe('on a closed incident', () => {
    const samples = async () => (await getGlobalBreaker(engine.doc, engine.tables, engine.breakerConfig)).dataCollection?.samples ?? 0;

    it('safe twin (first: the window holds 20 samples): on an open incident with missing metrics, the same checks count as failed data collections', async () => {
      const inc = await incident();
      const before = await samples();
      await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'kafka-consumer-lag', ...inc.refs, rules: [] });
      expect(await samples()).toBe(before + 1);
    });

    it.each([
      ['resolved by hand', 'RESOLVED', 'true'],
      ['failed', 'FAILED', 'unknown'],
    ] as const)('%s: a condition or a recovery check evaluates nothing, leaves no event and counts nothing toward the data-collection breaker', async (_, status, verified) => {
      // prepare: a closed incident whose metrics are missing (each read would count as a failed data collection)
      const inc = await incident();
      await diagnosed(inc.id, UNHEALTHY);
      await transitionIncident(engine.doc, engine.tables, inc.id, status, new Date(), { actor: 'person:oncall', reason: 'closed in the test' });
      const before = await samples();
      const events = (await getTimeline(engine.doc, engine.tables, inc.id)).length;
      // act: the machine's own payloads, forty times each (what a flood of forged calls would send)
      const results = [];
      for (let i = 0; i < 40; i += 1) {
        results.push(((await engine.invoke('Fn_evaluate', { ...SCALE, ...inc.refs })) as { result: string }).result);
        results.push(((await engine.invoke('Fn_evaluate', { op: 'verify', playbook: 'kafka-consumer-lag', ...inc.refs, rules: [] })) as { result: string }).result);
      }
      // assess
      expect(new Set(results)).toEqual(new Set(['unknown', verified]));
      expect(await samples()).toBe(before);
      expect((await getTimeline(engine.doc, engine.tables, inc.id)).length).toBe(events);
      expect((await getIncident(engine.doc, engine.tables, inc.id)).status).toBe(status);
    });

  });
});
