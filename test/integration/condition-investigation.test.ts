/**
 * matching-engine-latency's rollback condition, the seed's `recent_deploy detected and confidence
 * > 0.7`, reads the stored investigation's recent-deploy-rollback hypothesis (its confidence and
 * the rollout it names), not the diagnostic step's timing score the execution's payload carries
 * (README "Investigation"). `Fn_evaluate` on a LocalEngine in memory (dynalite), the incident
 * opened in the store, the investigation as `Conclude investigation` records it.
 */
import type { Hypothesis, InvestigationResult } from '../../lib/analysis/types';
import { appendEvent, claimStep, finishStep, getTimeline, openOrJoinIncident, pinPlaybookHash, type Incident } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { runCore } from '../../lib/runtime/core';
import { investigationVariables } from '../../lib/runtime/condition-investigation';

const PLAYBOOK = 'matching-engine-latency';
const SERVICE = 'matching-engine';
const STEP = 'rollback_matching_engine';
const CONDITION = 'recent_deploy detected and confidence > 0.7';

let engine: LocalEngine;

const deployHypothesis = (confidence: number, deployAt?: string): Hypothesis => ({
  id: 'recent-deploy-rollback',
  statement: deployAt ? '部署 matching-engine v5.13.0 后异常开始' : '近期部署导致异常（30 分钟窗口内无部署）',
  statementEn: 'a deploy',
  confidence,
  evidence: deployAt
    ? [{ label: 'deploy matching-engine v5.13.0 (rollout)', value: '12 min before the anomaly', at: deployAt, source: 'kube:replicasets' }, { label: 'timing score', value: 0.75 }]
    : [{ label: 'rollouts in the window', value: 0, source: 'kube:replicasets' }],
});

const investigation = (hypotheses: Hypothesis[]): InvestigationResult => ({ startedAt: new Date().toISOString(), completedAt: new Date().toISOString(), hypotheses, similar: [], checks: [] });

async function open(): Promise<Incident> {
  const now = new Date();
  const { incident } = await openOrJoinIncident(engine.doc, engine.tables, { playbook: PLAYBOOK, service: SERVICE, severity: 'HIGH', alarm: { name: `sre-agent/${PLAYBOOK}/${SERVICE}/matching_engine_latency_p99` }, detectedAt: now, anomalyStartedAt: now });
  // Start incident pins the compiled version the execution runs: conditions are read from it.
  return pinPlaybookHash(engine.doc, engine.tables, incident.id, engine.compiled.get(PLAYBOOK)!.hash);
}

/** `<step>: check condition` as the machine calls it, after the diagnostic step stored its outputs (and the payload carries them too). */
async function evaluate(incident: Incident, outputs: Record<string, unknown>) {
  const claim = await claimStep(engine.doc, engine.tables, { incidentId: incident.id, step: 'collect_diagnostics', action: 'collect_thread_dump_and_metrics', now: new Date() });
  if (!claim.claimed) throw new Error(`collect_diagnostics of ${incident.id} already claimed`);
  await finishStep(engine.doc, engine.tables, incident.id, 'collect_diagnostics', claim.record.claimId, { state: 'done', summary: 'collected', outputs }, new Date());
  return runCore('Fn_evaluate', { op: 'condition', step: STEP, condition: CONDITION, incident: { id: incident.id, playbook: PLAYBOOK, service: SERVICE, severity: 'HIGH' }, context: {}, steps: { collect_diagnostics: { outputs } } }, engine.coreDeps()) as Promise<{ result: string; values: Record<string, unknown> }>;
}

const recorded = async (incident: Incident) => (await getTimeline(engine.doc, engine.tables, incident.id)).filter((e) => e.type === 'condition_evaluated').at(-1)?.data;

beforeEach(async () => {
  engine = await new LocalEngine({ notifier: false, oncall: false }).start();
});

afterEach(async () => {
  await engine.stop();
});

describe('the rollback condition reads the stored investigation', () => {
  it('is true on the investigation\'s 0.88 for a deploy, though the payload\'s timing score says 0.5', async () => {
    // prepare
    const incident = await open();
    await appendEvent(engine.doc, engine.tables, incident.id, { at: new Date(), type: 'investigation_completed', summary: '调查完成', data: { investigation: investigation([deployHypothesis(0.88, '2026-12-07T11:48:00.000Z'), { id: 'resource-bottleneck', statement: '资源瓶颈', statementEn: 'resources', confidence: 0.9, evidence: [] }]) } });
    // act
    const r = await evaluate(incident, { recent_deploy: true, confidence: 0.5 });
    // assess
    expect(r.result).toBe('true');
    expect(r.values).toMatchObject({ confidence: 0.88, recent_deploy: 'deploy matching-engine v5.13.0 (rollout) at 2026-12-07T11:48:00.000Z' });
    expect((await recorded(incident))?.sources).toEqual({ recent_deploy: 'investigation:recent-deploy-rollback', confidence: 'investigation:recent-deploy-rollback' });
  });

  it('is false when the investigation gives the deploy 0.6, though the payload says 0.95 (a forged or stale payload decides nothing)', async () => {
    const incident = await open();
    await appendEvent(engine.doc, engine.tables, incident.id, { at: new Date(), type: 'investigation_completed', summary: '调查完成', data: { investigation: investigation([deployHypothesis(0.6, '2026-12-07T11:40:00.000Z')]) } });

    const r = await evaluate(incident, { recent_deploy: true, confidence: 0.95 });

    expect(r.result).toBe('false');
    expect(r.values).toMatchObject({ confidence: 0.6 });
  });

  it('is false when the investigation found no rollout in the window (recent_deploy null)', async () => {
    const incident = await open();
    await appendEvent(engine.doc, engine.tables, incident.id, { at: new Date(), type: 'investigation_completed', summary: '调查完成', data: { investigation: investigation([deployHypothesis(0.05)]) } });

    const r = await evaluate(incident, { recent_deploy: true, confidence: 0.95 });

    expect(r.result).toBe('false');
    expect(r.values).toMatchObject({ recent_deploy: null, confidence: 0.05 });
  });

  it('keeps the step outputs, and says why, when no investigation completed', async () => {
    const incident = await open();

    const r = await evaluate(incident, { recent_deploy: 'matching-engine rev 7', confidence: 0.82 });

    expect(r.result).toBe('true');
    expect((await recorded(incident))?.sources).toEqual({ recent_deploy: 'step outputs (no completed investigation)', confidence: 'step outputs (no completed investigation)' });
  });
});

describe('Function: investigationVariables', () => {
  it('answers only the names a condition uses, and nothing for a step no hypothesis is about', () => {
    const timeline = [{ incidentId: 'INC-20261207-001', at: '2026-12-07T12:00:00.000Z', seq: 3, type: 'investigation_completed', summary: '', data: { investigation: investigation([deployHypothesis(0.88, '2026-12-07T11:48:00.000Z')]) } }];

    expect(investigationVariables(timeline, { action: 'kubectl_rollout_undo' }, ['matching_engine_latency_p99'])).toEqual({ variables: {}, sources: {} });
    expect(investigationVariables(timeline, { action: 'api_call' }, ['confidence'])).toEqual({ variables: {}, sources: { confidence: 'step outputs (no hypothesis of the investigation is about api_call)' } });
    expect(investigationVariables(timeline, { action: 'kubectl_rollout_undo' }, ['confidence']).variables).toEqual({ confidence: 0.88 });
  });
});
