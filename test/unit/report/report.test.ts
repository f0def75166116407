/**
 * Unit tests of the §5.1 report: the seed's own example (INC-20260209-001, trading-api v2.3.1
 * rolled back with @john's approval) rebuilt as timeline events and metrics. No network.
 */
import type { InvestigationResult } from '../../../lib/analysis/types';
import type { Incident, TimelineEvent } from '../../../lib/incident';
import { LocalMetricStore } from '../../../lib/metrics';
import { assessImpact, buildReport, catalogueUnits, humanIntervention, parseReportLanguage, renderReportMarkdown, ReportLanguageError } from '../../../lib/report';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const at = (hhmm: string) => `2026-02-09T${hhmm}:00.000Z`;
const catalogue = defaultCatalogue();
const ALARM = 'sre-agent/api-latency/trading-api/api_latency_p99';

const incident: Incident = {
  id: 'INC-20260209-001',
  playbook: 'api-latency',
  service: 'trading-api',
  severity: 'HIGH',
  status: 'RESOLVED',
  alarm: { name: ALARM, reason: 'Threshold crossed' },
  alarms: { [ALARM]: { firstAt: at('14:15'), lastAt: at('14:15'), fired: 1 } },
  timestamps: { anomalyStartedAt: at('14:00'), detectedAt: at('14:15'), investigatedAt: at('14:16'), mitigatedAt: at('14:25'), resolvedAt: at('14:38') },
  // As the intake records it: the alarm's first breaching datapoint (CloudWatch's range began earlier).
  anomalyStart: { basis: 'first_breaching_datapoint', startDate: at('13:58') },
};

const investigation: InvestigationResult = {
  startedAt: at('14:15'),
  completedAt: at('14:16'),
  hypotheses: [
    {
      id: 'recent-deploy-rollback',
      statement: '部署 v2.3.1 后异常开始',
      statementEn: 'the anomaly began after the v2.3.1 deploy',
      confidence: 0.85,
      evidence: [{ label: 'CI/CD 部署 trading-api v2.3.1', value: '', at: at('14:00'), source: 'kube:deployments' }],
      suggestion: '建议回滚',
    },
    { id: 'external-surge', statement: '外部流量激增', statementEn: 'external traffic surge', confidence: 0.1, evidence: [] },
  ],
  trend: { metric: 'api_latency_p99', threshold: 0.5, status: 'crossing', etaSeconds: 30 * 60, etaLowSeconds: 20 * 60, etaHighSeconds: 45 * 60, slopePerMinute: 0.005, points: 15 },
  risk: { score: 0.55, level: 'MEDIUM', factors: { step: 0.5 }, suggestion: '建议回滚' },
  similar: [],
  checks: [{ name: 'recent deploys', status: 'ok' }],
};

let seq = 0;
const event = (hhmm: string, type: string, summary: string, more: Partial<TimelineEvent> = {}): TimelineEvent => ({ incidentId: incident.id, at: at(hhmm), seq: seq++, type, summary, ...more });

/** The seed's timeline as the agent records it. */
const timeline: TimelineEvent[] = [
  event('14:15', 'incident_opened', `incident opened by alarm ${ALARM}`),
  event('14:15', 'status_changed', 'OPEN → MITIGATING', { after: { status: 'MITIGATING' } }),
  event('14:16', 'investigation_completed', '调查完成: 部署 v2.3.1 后异常开始 (置信度 85%)', { data: { investigation } }),
  event('14:17', 'approval_requested', 'approval requested from oncall_sre (level 2) for rollback', { step: 'rollback', data: { approvalId: 'ap-1', level: 2 } }),
  event('14:17', 'notification_sent', 'approval request via email to john', { step: 'rollback', data: { channel: 'email', person: 'john', kind: 'approval_request', level: 2, ok: true } }),
  event('14:17', 'approval_viewed', 'approval page (approve) for rollback opened with the link of john (oncall_sre)', { step: 'rollback', data: { approvalId: 'ap-1', person: 'john', role: 'oncall_sre' } }),
  event('14:19', 'approval_approved', 'john (oncall_sre) approved rollback', { step: 'rollback', actor: 'john', data: { approvalId: 'ap-1', role: 'oncall_sre', decision: 'approve' } }),
  event('14:25', 'action', 'rolled back trading/trading-api v2.3.1 → v2.3.0, all pods Ready', { step: 'rollback', data: { action: 'kubectl_rollout_undo' } }),
  event('14:26', 'action', 'ticket TKT-7 (MEDIUM): 修复 v2.3.1 中的 Redis 连接池配置', { step: 'follow_up', data: { action: 'create_ticket' }, after: { tickets: [{ id: 'TKT-7', title: '修复 v2.3.1 中的 Redis 连接池配置', priority: 'MEDIUM', created: true }] } }),
  event('14:30', 'recovery_checked', 'recovery verified: detection rules no longer hold'),
  event('14:38', 'status_changed', 'MITIGATING → RESOLVED: recovery verified', { after: { status: 'RESOLVED' } }),
];

/** API P99 at 50 ms for the hour before 14:00, rising to 350 ms; 3000 active users. */
function seedMetrics(): LocalMetricStore {
  const store = new LocalMetricStore({ catalogue });
  for (let m = 0; m < 60; m += 1) store.put({ name: 'api_latency_p99', service: 'trading-api', value: 50, at: Date.parse(at('13:00')) + m * 60_000 });
  for (let m = 0; m <= 38; m += 1) {
    store.put({ name: 'api_latency_p99', service: 'trading-api', value: m <= 25 ? 50 + m * 12 : 60, at: Date.parse(at('14:00')) + m * 60_000 });
    store.put({ name: 'active_users', service: 'trading-api', value: 2500 + Math.min(m, 20) * 25, at: Date.parse(at('14:00')) + m * 60_000 });
  }
  return store;
}

async function seedReport() {
  const { impact } = await assessImpact(seedMetrics(), catalogue, incident, new Date(at('14:40')));
  return buildReport({ incident, timeline, impact, units: catalogueUnits(catalogue), now: new Date(at('14:40')) });
}

describe('report (seed §5.1)', () => {
  describe('Function: buildReport on the seed example', () => {
    it('has MTTD 15, MTTI 1, MTTR 23 and 2 minutes of human intervention', async () => {
      const r = await seedReport();

      expect(r.metrics).toMatchObject({ mttdSeconds: 15 * 60, mttiSeconds: 60, mttrSeconds: 23 * 60, humanSeconds: 120 });
      expect(r.metrics.human).toEqual([{ kind: 'approval', person: 'john', step: 'rollback', approvalId: 'ap-1', from: 'view', startedAt: at('14:17'), endedAt: at('14:19'), seconds: 120 }]);
    });

    it('reads the impact from the metrics: P99 from 50ms to 350ms, about 3000 active users', async () => {
      const r = await seedReport();

      expect(r.overview.impact).toMatchObject({ metric: 'api_latency_p99', baselineText: '50ms', peakText: '350ms', baselineFrom: 'hour_before', changePercent: 600, affectedUsers: 3000 });
      expect(r.overview).toMatchObject({ service: 'trading-api', severity: 'HIGH', detectedAt: at('14:15'), endedAt: at('14:38'), durationSeconds: 23 * 60 });
    });

    it('takes the root cause from the investigation with its confidence, and lists the fix and the follow-up ticket', async () => {
      const r = await seedReport();

      expect(r.rootCause).toMatchObject({ status: 'identified', top: { statement: '部署 v2.3.1 后异常开始', confidence: 0.85 } });
      expect(r.remediation.actions).toEqual([{ at: at('14:25'), step: 'rollback', action: 'kubectl_rollout_undo', summary: 'rolled back trading/trading-api v2.3.1 → v2.3.0, all pods Ready' }]);
      expect(r.remediation.tickets).toEqual([{ id: 'TKT-7', title: '修复 v2.3.1 中的 Redis 连接池配置', priority: 'MEDIUM', step: 'follow_up' }]);
    });

    it('says unknown when the investigation found nothing, and when its best guess is weak', () => {
      const none = buildReport({ incident, timeline: timeline.filter((e) => e.type !== 'investigation_completed'), now: new Date() });
      const weak = buildReport({
        incident,
        timeline: timeline.map((e) => (e.type === 'investigation_completed' ? { ...e, data: { investigation: { ...investigation, hypotheses: [{ ...investigation.hypotheses[0]!, confidence: 0.3 }] } } } : e)),
        now: new Date(),
      });

      expect(none.rootCause).toEqual({ status: 'unknown', alternatives: [] });
      expect(none.metrics.mttiSeconds).toBe(60); // the incident's investigatedAt
      expect(renderReportMarkdown(none)).toContain('### 根因\n未确定\n');
      expect(weak.rootCause.status).toBe('unknown');
      expect(renderReportMarkdown(weak)).toContain('- 最可能 (置信度低, 未确认): 部署 v2.3.1 后异常开始 (30%)');
    });

    it('fills every §5.2 knowledge field', async () => {
      const r = await seedReport();

      expect(r.knowledge).toEqual({
        incident_id: 'INC-20260209-001',
        timestamp: at('14:15'),
        service: 'trading-api',
        severity: 'HIGH',
        searchable_text: expect.stringContaining('根因是 部署 v2.3.1 后异常开始。'),
        root_cause: '部署 v2.3.1 后异常开始',
        resolution_steps: ['rollback: rolled back trading/trading-api v2.3.1 → v2.3.0, all pods Ready'],
        resolution_duration: 23 * 60,
        playbook_used: 'api-latency',
        was_auto_remediated: false,
        success: true,
      });
      expect(r.knowledge.searchable_text).toContain('服务 trading-api 出现 api_latency_p99 从 50ms 上升到 350ms (+600%)，影响约 3000 活跃用户');
    });
  });

  describe('Function: renderReportMarkdown', () => {
    it('writes the seed layout in zh-CN with the same facts', async () => {
      const md = renderReportMarkdown(await seedReport());

      expect(md).toContain('## 事件报告: INC-20260209-001');
      expect(md).toContain('- **服务**: trading-api\n- **严重度**: HIGH');
      expect(md).toContain('- **持续时间**: 23 分钟 (14:15 - 14:38 UTC, 2026-02-09)');
      expect(md).toContain('- **影响**: api_latency_p99 从 50ms 上升到 350ms (+600%)，影响约 3000 活跃用户');
      for (const row of [
        '| 14:00 | CI/CD 部署 trading-api v2.3.1 |',
        `| 14:15 | SRE Agent 检测到异常: ${ALARM} |`,
        '| 14:16 | 趋势预测: api_latency_p99 将在 30 分钟内达到 500ms |',
        '| 14:16 | 根因分析: 部署 v2.3.1 后异常开始 (置信度 85%) |',
        '| 14:16 | 风险评估: MEDIUM (0.55), 建议回滚 |',
        '| 14:17 | 审批请求发送 (rollback, 级别 2): john |',
        '| 14:19 | john 批准 rollback |',
        '| 14:25 | rollback: rolled back trading/trading-api v2.3.1 → v2.3.0, all pods Ready |',
        '| 14:30 | 验证: recovery verified: detection rules no longer hold |',
        '| 14:38 | 确认恢复，关闭事件 |',
      ]) expect(md).toContain(row);
      expect(md).toContain('### 根因\n部署 v2.3.1 后异常开始 (置信度 85%)');
      expect(md).toContain('- 创建跟进工单: TKT-7 (MEDIUM) 修复 v2.3.1 中的 Redis 连接池配置');
      expect(md).toContain('- MTTD (检测时间): 15 分钟 (自首个越过阈值的数据点 14:00 UTC)\n- MTTI (调查时间): 1 分钟 (Agent 自动分析)\n- MTTR (恢复时间): 23 分钟\n- 人工介入时间: 2 分钟 (审批 1 次)');
    });

    it('writes the same report in English', async () => {
      const md = renderReportMarkdown(await seedReport(), 'en');

      expect(md).toContain('## Incident report: INC-20260209-001');
      expect(md).toContain('- **Impact**: api_latency_p99 rose from 50ms to 350ms (+600%), about 3000 active users affected');
      expect(md).toContain('| 14:16 | Root-cause analysis: the anomaly began after the v2.3.1 deploy (confidence 85%) |');
      expect(md).toContain('- MTTD (time to detect): 15 min (from the first breaching datapoint, 14:00 UTC)\n- MTTI (time to investigate): 1 min (automatic analysis)\n- MTTR (time to recover): 23 min\n- Human intervention: 2 min (1 approval(s))');
      expect(md).not.toMatch(/[\u4e00-\u9fff]{2}分钟/);
    });

    it('says where MTTD counts from when the intake fell back, and why', async () => {
      // prepare: the same incident opened by an event without datapoints, one with garbled reasonData, one from before the basis was recorded
      const startDate = { ...incident, anomalyStart: { basis: 'start_date' as const, fallback: 'reasonData has no evaluatedDatapoints', startDate: at('14:00') } };
      const stateChange = { ...incident, timestamps: { ...incident.timestamps, anomalyStartedAt: at('14:15') }, anomalyStart: { basis: 'state_change' as const, fallback: 'reasonData is not JSON' } };
      const { anomalyStart: _none, ...unrecorded } = incident;
      // act
      const r = buildReport({ incident: startDate, timeline, now: new Date(at('14:40')) });
      const zh = renderReportMarkdown(r);
      const en = renderReportMarkdown(r, 'en');
      const changed = buildReport({ incident: stateChange, timeline, now: new Date(at('14:40')) });
      const old = buildReport({ incident: unrecorded, timeline, now: new Date(at('14:40')) });
      // assess
      expect(r.metrics.mttdFrom).toEqual({ basis: 'start_date', at: at('14:00'), fallback: 'reasonData has no evaluatedDatapoints' });
      expect(zh).toContain('- MTTD (检测时间): 15 分钟 (自 CloudWatch startDate 14:00 UTC, 非首个越过阈值的数据点; reasonData has no evaluatedDatapoints)');
      expect(en).toContain("- MTTD (time to detect): 15 min (from CloudWatch's startDate, 14:00 UTC, not the first breaching datapoint; reasonData has no evaluatedDatapoints)");
      expect(changed.metrics.mttdSeconds).toBe(0);
      expect(renderReportMarkdown(changed, 'en')).toContain("- MTTD (time to detect): 0 min (from the alarm's state change, 14:15 UTC; reasonData is not JSON)");
      expect(old.metrics.mttdFrom.basis).toBe('not_recorded');
      expect(renderReportMarkdown(old, 'en')).toContain('- MTTD (time to detect): 15 min (from the anomaly start, 14:00 UTC, its source not recorded)');
    });

    it('labels the report of an incident still running as in progress, never as final', () => {
      // prepare: the seed incident before its recovery, waiting for the approval
      const running: Incident = { ...incident, status: 'AWAITING_APPROVAL', timestamps: { ...incident.timestamps, resolvedAt: undefined } };
      // act
      const r = buildReport({ incident: running, timeline: timeline.slice(0, 5), now: new Date(at('14:18')) });
      const closed = buildReport({ incident, timeline, now: new Date(at('14:40')) });
      // assess
      expect(r.inProgress).toBe(true);
      expect(closed.inProgress).toBe(false);
      expect(renderReportMarkdown(r)).toMatch(/^## 事件报告: INC-20260209-001 \(进行中\)\n> 事件仍在处理中 \(状态 AWAITING_APPROVAL\)：本报告于 14:18 UTC 按已存储的状态生成，不是最终报告。\n/);
      expect(renderReportMarkdown(r, 'en')).toMatch(/^## Incident report: INC-20260209-001 \(in progress\)\n> In progress \(status AWAITING_APPROVAL\): built at 14:18 UTC from the stored state; not the final report\.\n/);
      expect(renderReportMarkdown(r, 'en')).toContain('- MTTR (time to recover): n/a (not recovered)');
      expect(renderReportMarkdown(closed)).not.toContain('进行中');
      expect(renderReportMarkdown(closed, 'en')).not.toContain('in progress');
    });

    it('escapes a pipe in a summary so the table keeps its columns', () => {
      const md = renderReportMarkdown(buildReport({ incident, timeline: [event('14:20', 'action', 'ran a | b', { data: { action: 'update_config' } })], now: new Date() }));

      expect(md).toContain('| 14:20 | ran a \\| b |');
    });

    it('says how often each alarm fired when one fired more than once', () => {
      const stormy: Incident = { ...incident, alarms: { [ALARM]: { firstAt: at('14:15'), lastAt: at('14:31'), fired: 12 } } };

      expect(renderReportMarkdown(buildReport({ incident: stormy, timeline, now: new Date() }))).toContain(`- **告警触发**: ${ALARM} ×12 (最近 14:31)`);
    });

    it.each([
      ['zh', 'zh-CN'],
      ['zh-CN', 'zh-CN'],
      ['en', 'en'],
      ['en-US', 'en'],
      [undefined, 'zh-CN'],
    ])('reads the language %s as %s', (given, expected) => {
      expect(parseReportLanguage(given)).toBe(expected);
    });

    it('refuses a language it does not write', () => {
      expect(() => parseReportLanguage('fr')).toThrow(new ReportLanguageError('fr'));
      expect(() => parseReportLanguage('fr')).toThrow('report language "fr" is not one of zh-CN, en');
    });
  });

  describe('Function: humanIntervention', () => {
    it('counts a decision without a view from the request that reached the person (CLI, dashboard)', () => {
      const noView = timeline.filter((e) => e.type !== 'approval_viewed').map((e) => (e.type === 'approval_approved' ? { ...e, at: at('14:21') } : e));

      expect(humanIntervention(noView)).toEqual([expect.objectContaining({ from: 'request', startedAt: at('14:17'), endedAt: at('14:21'), seconds: 240 })]);
    });

    it('counts a view only by the person who decides (a scanner or someone else opening a link does not start it)', () => {
      const other = [...timeline.filter((e) => e.type !== 'approval_viewed'), event('14:18', 'approval_viewed', 'viewed', { data: { approvalId: 'ap-1', person: 'mail-scanner' } })];

      expect(humanIntervention(other)[0]).toMatchObject({ from: 'request', seconds: 120 });
    });

    it('adds a hand resolve of an escalated incident from its hand-over', () => {
      const escalated = [
        event('14:00', 'status_changed', 'MITIGATING → ESCALATED', { after: { status: 'ESCALATED' } }),
        event('14:45', 'status_changed', 'ESCALATED → RESOLVED: restarted the pool by hand', { actor: 'person:alice', after: { status: 'RESOLVED' } }),
      ];

      expect(humanIntervention(escalated)).toEqual([{ kind: 'manual', person: 'alice', from: 'escalation', startedAt: at('14:00'), endedAt: at('14:45'), seconds: 45 * 60 }]);
    });
  });
});
