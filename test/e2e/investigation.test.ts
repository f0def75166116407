/**
 * The investigation end to end on the local engine (compiled machines, dynalite, the IAM check
 * on, waits sped up 600×) with the Kubernetes API sandbox: seed scenario 2 — matching-engine
 * v2.3.1 deployed 5 minutes before its latency anomaly (10 before the alarm), latency stepping up
 * at the deploy. The
 * Investigate Parallel state runs its checks, the conclusion puts ranked hypotheses, the trend and
 * the risk on the timeline (investigation_completed), investigatedAt is set (MTTI), and the
 * rollback's approval request carries the hypotheses, the trend, the step's risk and its
 * resolved parameters.
 */
import { findApprovalForStep } from '../../lib/approval';
import type { InvestigationResult } from '../../lib/analysis';
import { getIncident, getTimeline, incidentMetrics, type TimelineEvent } from '../../lib/incident';
import { LocalEngine } from '../../lib/local/engine';
import { LocalMetricStore } from '../../lib/metrics';
import { MemoryEntries } from '../../lib/knowledge/entries';
import { OramaKnowledgeStore } from '../../lib/knowledge/orama';
import { handleAlarmEvent } from '../../lib/runtime/intake';
import { alarmEvent } from '../helpers/events';
import { expectNoDenials } from '../helpers/iam';
import { startTestSandbox, type TestSandbox } from '../helpers/kube-sandbox';
import { defaultCatalogue } from '../../lib/playbook/catalogue-file';

jest.setTimeout(60000);

const MINUTE = 60_000;
let t: TestSandbox;
let engine: LocalEngine;

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(async () => {
  await engine?.stop();
  if (engine) expectNoDenials(engine);
  await t?.close();
});

describe('investigation of seed scenario 2 (matching-engine latency after a deploy)', () => {
  it('ranks the rollback first (≥ 0.8), predicts the trend, sets MTTI and hands hypotheses, risk and parameters to the approvers', async () => {
    // prepare: matching-engine v2.3.1 rolls out now (T); the anomaly begins 5 minutes later and the
    // alarm fires 5 minutes after that, so the engine's clock runs 10 minutes ahead. (The playbook's
    // own rollback condition, collect_diagnostics' confidence > 0.7, times the deploy from the alarm.)
    t = await startTestSandbox();
    const T = Date.now();
    t.sandbox.cluster.deploy('trading', 'matching-engine', 'v2.3.1');
    await t.sandbox.cluster.until(() => t.sandbox.cluster.rolledOut('trading', 'matching-engine'));
    const clock = () => new Date(Date.now() + 10 * MINUTE);
    const metrics = new LocalMetricStore({ catalogue: defaultCatalogue(), clock });
    // Latency 4 ms before the deploy, 40 ms after, creeping up 2 ms a minute; GC pauses short.
    for (let m = -20; m <= 10; m++) {
      metrics.put({ name: 'matching_engine_latency_p99', value: m < 0 ? 4 : 40 + 2 * m, unit: 'Milliseconds', at: T + m * MINUTE });
      metrics.put({ name: 'matching_engine_gc_pause_duration', value: 20, unit: 'Milliseconds', at: T + m * MINUTE });
    }
    // The knowledge base holds two past incidents: the same kind of regression, and an unrelated one.
    const knowledge = new OramaKnowledgeStore(new MemoryEntries());
    const past = (incident_id: string, service: string, searchable_text: string, root_cause: string, resolution_steps: string[]) =>
      knowledge.upsert({ incident_id, timestamp: '2026-10-02T08:00:00Z', service, severity: 'HIGH', searchable_text, root_cause, resolution_steps, resolution_duration: 900, playbook_used: null, was_auto_remediated: false, success: true });
    await past('INC-20261002-004', 'matching-engine', '服务 matching-engine 出现 撮合延迟升高。根因是 部署 v2.2.9 引入的锁竞争。通过 回滚部署 解决。关键指标: matching_engine_latency_p99。', '部署 v2.2.9 引入的锁竞争', ['kubectl rollout undo deployment/matching-engine']);
    await past('INC-20260815-001', 'trading-api', '服务 trading-api 出现 证书即将过期。根因是 自动续期失败。通过 手动续期证书 解决。关键指标: cert_days_left。', '自动续期失败', ['renew certificate']);
    engine = await new LocalEngine({ speedUp: 600, targets: { kube: t.kube }, metrics, notifier: false, iam: true, now: clock, knowledge }).start();

    // act
    const r = await engine.asFunction('trigger', () =>
      handleAlarmEvent(alarmEvent('sre-agent/matching-engine-latency/matching-engine/matching_engine_latency_p99', { at: clock() }), { doc: engine.doc, tables: engine.tables, breakerConfig: {}, starter: engine, machines: engine.playbooks, now: clock }),
    );
    const id = r.incidentId as string;
    const event = await waitFor(async () => (await getTimeline(engine.doc, engine.tables, id)).find((e) => e.type === 'investigation_completed'), 'investigation_completed');

    // assess: the event
    const inv = event.data?.investigation as InvestigationResult;
    expect(inv.checks.map((c) => [c.name, c.status])).toEqual([
      ['anomaly_metric', 'ok'],
      ['resources', 'ok'],
      ['dependencies', 'ok'],
      ['traffic', 'ok'],
      ['recent_deploys', 'ok'],
      ['similar_incidents', 'ok'],
    ]);
    const [top] = inv.hypotheses;
    expect(top?.id).toBe('recent-deploy-rollback');
    expect(top?.statement).toBe('部署 matching-engine v2.3.1 后异常开始');
    expect(top?.confidence).toBeGreaterThanOrEqual(0.8);
    // The knowledge base's most similar past incident joins the investigation, with what resolved it.
    expect(inv.similar[0]).toMatchObject({ incidentId: 'INC-20261002-004', resolutionSteps: ['kubectl rollout undo deployment/matching-engine'] });
    expect(top?.confidence).toBeLessThan(1);
    expect(top?.evidence.map((e) => e.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^deploy trading\/matching-engine v2\.3\.1/), 'matching_engine_latency_p99 at the deploy']));
    expect(inv.hypotheses.map((h) => h.confidence)).toEqual([...inv.hypotheses.map((h) => h.confidence)].sort((a, b) => b - a));
    expect(event.summary).toMatch(/^调查完成: 部署 matching-engine v2\.3\.1 后异常开始 \(置信度 \d+%\)$/);
    // The latency climbs 2 ms a minute toward the 100 ms of the emergency step.
    expect(inv.trend).toMatchObject({ metric: 'matching_engine_latency_p99', threshold: 0.1, status: 'crossing' });
    expect(inv.trend?.etaSeconds).toBeGreaterThan(10 * 60);
    expect(inv.trend?.etaSeconds).toBeLessThan(40 * 60);
    expect(inv.risk?.suggestion).toContain('回滚');

    // assess: MTTI = investigation complete − detection
    const incident = await getIncident(engine.doc, engine.tables, id);
    expect(incident.timestamps.investigatedAt).toBe(event.at);
    expect(incidentMetrics(incident).mttiSeconds).toBe((Date.parse(event.at) - Date.parse(incident.timestamps.detectedAt)) / 1000);
    expect(incidentMetrics(incident).mttiSeconds).toBeGreaterThan(0);

    // assess: the rollback's approval carries the investigation, the step's risk and its parameters
    const rec = await waitFor(async () => findApprovalForStep(engine.doc, engine.tables, id, 'rollback_matching_engine'), 'the rollback approval');
    expect(rec.params).toEqual({ deployment: 'matching-engine' });
    expect(rec.analysis?.[1]).toMatch(/^根因分析 1: 部署 matching-engine v2\.3\.1 后异常开始 \(置信度 \d+%\) — deploy trading\/matching-engine v2\.3\.1/);
    expect(rec.analysis).toEqual(expect.arrayContaining([expect.stringMatching(/^趋势预测: matching_engine_latency_p99 将在 \d+ 分钟 内达到 100ms/), expect.stringMatching(/^风险评估 \(rollback_matching_engine\): (MEDIUM|HIGH|CRITICAL) \(0\.\d\d\), /)]));
    // The event follows the record's write.
    const requested = await waitFor(async () => (await getTimeline(engine.doc, engine.tables, id)).find((e: TimelineEvent) => e.type === 'approval_requested' && e.step === 'rollback_matching_engine'), 'approval_requested');
    expect(requested.data).toMatchObject({ params: { deployment: 'matching-engine' }, analysis: rec.analysis });
  });
});
