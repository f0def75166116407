/**
 * The post-incident report of seed §5.1 as data: 概况 (with the impact read from the metrics),
 * 时间线, 根因 (the investigation's top hypothesis), 修复措施 (actions and follow-up tickets) and
 * 指标 (MTTD, MTTI, MTTR, human intervention). Built from stored state only, so it can be
 * rebuilt at any time (on close, on demand, after a hand resolve). `render.ts` writes it as
 * Markdown in zh-CN or en; the JSON is this object.
 */
import { labelledSummary, llmSummaryOf } from '../analysis/summary';
import type { Hypothesis, InvestigationResult } from '../analysis/types';
import { isFinalStatus, type Incident, type TimelineEvent } from '../incident';
import { searchableText, type KnowledgeEntry } from '../knowledge/entry';
import { formatValue, type ReportImpact } from './impact';
import { investigationOf, reportMetrics, type ReportMetrics } from './metrics';

export const REPORT_VERSION = 1;
/** The timeline event of a report being written (not itself a change the report must catch up with). */
export const REPORT_EVENT_TYPE = 'report_written';

/** One timeline row in both languages. */
export interface ReportRow {
  readonly at: string;
  readonly type: string;
  readonly zh: string;
  readonly en: string;
}

export interface ReportAction {
  readonly at: string;
  readonly step?: string;
  readonly action: string;
  readonly summary: string;
}

export interface ReportTicket {
  readonly id: string;
  readonly title: string;
  readonly url?: string;
  readonly priority?: string;
  readonly step?: string;
}

export interface ReportRootCause {
  /** `identified`: the investigation's top hypothesis (confidence ≥ 0.5); `unknown` otherwise (未确定). */
  readonly status: 'identified' | 'unknown';
  readonly top?: Pick<Hypothesis, 'id' | 'statement' | 'statementEn' | 'confidence' | 'evidence' | 'suggestion'>;
  /** The other hypotheses, ranked. */
  readonly alternatives: readonly Pick<Hypothesis, 'id' | 'statement' | 'statementEn' | 'confidence'>[];
  /** What the person who resolved it by hand wrote. */
  readonly resolvedByHand?: { readonly person: string; readonly reason: string; readonly at: string };
}

export interface IncidentReportData {
  readonly version: number;
  readonly incidentId: string;
  readonly generatedAt: string;
  /**
   * True while the incident is not closed (not RESOLVED or FAILED): a report built on demand from
   * the stored state of a running (or escalated) incident, labelled so, never the final report.
   */
  readonly inProgress: boolean;
  /** Sequence number of the newest timeline event it includes (a newer event means it is stale). */
  readonly lastEventSeq: number;
  readonly overview: {
    readonly service: string;
    readonly severity: string;
    readonly status: string;
    readonly playbook: string;
    readonly anomalyStartedAt: string;
    readonly detectedAt: string;
    /** Recovery confirmed (RESOLVED), or the last event while it is not resolved. */
    readonly endedAt: string;
    readonly durationSeconds: number;
    readonly alarm?: string;
    readonly alarmFirings: readonly { readonly name: string; readonly fired: number; readonly lastAt: string }[];
    readonly impact?: ReportImpact;
  };
  readonly timeline: readonly ReportRow[];
  readonly rootCause: ReportRootCause;
  readonly remediation: { readonly actions: readonly ReportAction[]; readonly tickets: readonly ReportTicket[] };
  readonly metrics: ReportMetrics;
  readonly investigation?: InvestigationResult;
  /** Seed §5.2 entry written to the knowledge base. */
  readonly knowledge: KnowledgeEntry;
}

/** Actions that only read, notify or ticket: not remediation (tickets are listed as follow-ups). */
const NOT_REMEDIATION = new Set(['send_alert', 'create_ticket', 'redis_analysis', 'check_certificates', 'collect_thread_dump_and_metrics', 'kafka_admin', 'kubectl_exec']);
/** Below this confidence the top hypothesis is shown as a candidate, and the root cause as unknown. */
export const ROOT_CAUSE_MIN_CONFIDENCE = 0.5;

const pct = (c: number) => `${Math.round(c * 100)}%`;
const minutes = (s: number) => Math.round(s / 60);

function statusOf(e: TimelineEvent): string | undefined {
  return (e.after as { status?: string } | undefined)?.status;
}

/** Localised text of the events the report knows; others keep their stored summary. */
function rowsOf(incident: Incident, timeline: readonly TimelineEvent[], investigation: InvestigationResult | undefined, catalogueUnits: Readonly<Record<string, string>>): ReportRow[] {
  const rows: ReportRow[] = [];
  // Facts before detection the investigation found (a deploy at 14:00): the seed's first row.
  for (const ev of investigation?.hypotheses[0]?.evidence ?? []) {
    if (ev.at && ev.at < incident.timestamps.detectedAt) rows.push({ at: ev.at, type: 'evidence', zh: `${ev.label}${ev.value !== '' ? `: ${ev.value}` : ''}`, en: `${ev.label}${ev.value !== '' ? `: ${ev.value}` : ''}` });
  }
  for (const e of timeline) {
    const d = e.data ?? {};
    switch (e.type) {
      case 'incident_opened': {
        const alarm = incident.alarm?.name ?? 'alarm';
        rows.push({ at: e.at, type: e.type, zh: `SRE Agent 检测到异常: ${alarm}`, en: `SRE Agent detected the anomaly: ${alarm}` });
        break;
      }
      case 'investigation_completed': {
        const inv = d.investigation as InvestigationResult | undefined;
        if (!inv) break;
        const t = inv.trend;
        if (t?.status === 'crossing' && t.etaSeconds !== undefined) {
          const v = formatValue(t.metric, t.threshold, catalogueUnits);
          rows.push({ at: e.at, type: 'trend', zh: `趋势预测: ${t.metric} 将在 ${Math.max(1, minutes(t.etaSeconds))} 分钟内达到 ${v}`, en: `Trend: ${t.metric} will reach ${v} within ${Math.max(1, minutes(t.etaSeconds))} min` });
        } else if (t?.status === 'already_crossed') {
          rows.push({ at: e.at, type: 'trend', zh: `趋势预测: ${t.metric} 已超过 ${formatValue(t.metric, t.threshold, catalogueUnits)}`, en: `Trend: ${t.metric} is already past ${formatValue(t.metric, t.threshold, catalogueUnits)}` });
        } else if (t) {
          const zh = t.status === 'not_crossing' ? '未见越过阈值的趋势' : '数据不足';
          rows.push({ at: e.at, type: 'trend', zh: `趋势预测: ${t.metric} ${zh}`, en: `Trend: ${t.metric} ${t.status === 'not_crossing' ? 'not heading past its threshold' : 'not enough data'}` });
        }
        const top = inv.hypotheses[0];
        rows.push(
          top
            ? { at: e.at, type: 'root_cause', zh: `根因分析: ${top.statement} (置信度 ${pct(top.confidence)})`, en: `Root-cause analysis: ${top.statementEn} (confidence ${pct(top.confidence)})` }
            : { at: e.at, type: 'root_cause', zh: '根因分析: 未确定', en: 'Root-cause analysis: unknown' },
        );
        if (inv.risk) rows.push({ at: e.at, type: 'risk', zh: `风险评估: ${inv.risk.level} (${inv.risk.score.toFixed(2)}), ${inv.risk.suggestion}`, en: `Risk: ${inv.risk.level} (${inv.risk.score.toFixed(2)}), ${inv.risk.suggestion}` });
        if (inv.similar.length) rows.push({ at: e.at, type: 'similar', zh: `相似历史事件: ${inv.similar.map((s) => s.incidentId).join(', ')}`, en: `Similar past incidents: ${inv.similar.map((s) => s.incidentId).join(', ')}` });
        // The LLM summary, labelled as advice; the root cause and the knowledge entry never come from it.
        const llm = llmSummaryOf(d);
        if (llm) rows.push({ at: e.at, type: 'llm_summary', zh: `LLM 摘要，仅供参考，不做任何决定 — ${labelledSummary(llm)}`, en: labelledSummary(llm) });
        break;
      }
      case 'approval_requested': {
        // Who was asked: the people the request's notifications reached (seed: 审批请求发送至 On-Call SRE @john).
        const reached = timeline.filter((n) => n.type === 'notification_sent' && n.data?.kind === 'approval_request' && n.step === e.step && n.at >= e.at && typeof n.data?.person === 'string' && n.data?.level === d.level);
        const who = [...new Set(reached.map((n) => String(n.data?.person)))].join(', ') || undefined;
        rows.push({ at: e.at, type: e.type, zh: `审批请求发送 (${e.step ?? ''}, 级别 ${String(d.level ?? '')})${who ? `: ${who}` : ''}`, en: `Approval requested (${e.step ?? ''}, level ${String(d.level ?? '')})${who ? `: ${who}` : ''}` });
        break;
      }
      case 'approval_approved':
        rows.push({ at: e.at, type: e.type, zh: `${e.actor ?? ''} 批准 ${e.step ?? ''}`, en: `${e.actor ?? ''} approved ${e.step ?? ''}` });
        break;
      case 'approval_rejected_by':
        rows.push({ at: e.at, type: e.type, zh: `${e.actor ?? ''} 拒绝 ${e.step ?? ''}`, en: `${e.actor ?? ''} rejected ${e.step ?? ''}` });
        break;
      case 'approval_viewed':
        break; // counted in the human time; not a row of the seed's table
      case 'status_changed': {
        const to = statusOf(e);
        if (to === 'RESOLVED') rows.push({ at: e.at, type: e.type, zh: `确认恢复，关闭事件${e.actor?.startsWith('person:') ? ` (${e.actor.slice(7)} 人工处理)` : ''}`, en: `Recovery confirmed, incident closed${e.actor?.startsWith('person:') ? ` (resolved by hand by ${e.actor.slice(7)})` : ''}` });
        else if (to === 'ESCALATED') rows.push({ at: e.at, type: e.type, zh: `升级至人工处理: ${e.summary}`, en: `Escalated to people: ${e.summary}` });
        else if (to === 'FAILED') rows.push({ at: e.at, type: e.type, zh: `事件失败: ${e.summary}`, en: `Incident failed: ${e.summary}` });
        break; // OPEN ⇄ MITIGATING ⇄ AWAITING_APPROVAL are bookkeeping, not rows
      }
      case 'action':
        rows.push({ at: e.at, type: e.type, zh: `${e.step ? `${e.step}: ` : ''}${e.summary}`, en: `${e.step ? `${e.step}: ` : ''}${e.summary}` });
        break;
      case 'recovery_checked':
      case 'recovery_verified':
        rows.push({ at: e.at, type: e.type, zh: `验证: ${e.summary}`, en: `Verified: ${e.summary}` });
        break;
      case REPORT_EVENT_TYPE:
      case 'notification_sent':
      case 'notification_failed':
        break; // the report itself and each delivery are not events of the incident
      default:
        rows.push({ at: e.at, type: e.type, zh: e.summary, en: e.summary });
    }
  }
  return rows.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

function rootCauseOf(investigation: InvestigationResult | undefined, timeline: readonly TimelineEvent[]): ReportRootCause {
  const [top, ...rest] = investigation?.hypotheses ?? [];
  const hand = timeline.filter((e) => e.type === 'status_changed' && statusOf(e) === 'RESOLVED' && e.actor?.startsWith('person:')).at(-1);
  const resolvedByHand = hand ? { person: hand.actor!.slice(7), reason: hand.summary.replace(/^[A-Z_]+ → RESOLVED: /, ''), at: hand.at } : undefined;
  return {
    status: top && top.confidence >= ROOT_CAUSE_MIN_CONFIDENCE ? 'identified' : 'unknown',
    ...(top ? { top: { id: top.id, statement: top.statement, statementEn: top.statementEn, confidence: top.confidence, evidence: top.evidence, ...(top.suggestion ? { suggestion: top.suggestion } : {}) } } : {}),
    alternatives: rest.map((h) => ({ id: h.id, statement: h.statement, statementEn: h.statementEn, confidence: h.confidence })),
    ...(resolvedByHand ? { resolvedByHand } : {}),
  };
}

function remediationOf(timeline: readonly TimelineEvent[]): IncidentReportData['remediation'] {
  const actions: ReportAction[] = [];
  const tickets: ReportTicket[] = [];
  for (const e of timeline.filter((x) => x.type === 'action')) {
    const action = String(e.data?.action ?? '');
    if (action === 'create_ticket') {
      for (const t of ((e.after as { tickets?: { id: string; title: string; url?: string; priority?: string }[] } | undefined)?.tickets ?? [])) tickets.push({ id: t.id, title: t.title, ...(t.url ? { url: t.url } : {}), ...(t.priority ? { priority: t.priority } : {}), ...(e.step ? { step: e.step } : {}) });
    } else if (!NOT_REMEDIATION.has(action)) {
      actions.push({ at: e.at, ...(e.step ? { step: e.step } : {}), action, summary: e.summary });
    }
  }
  return { actions, tickets };
}

export interface BuildReportInput {
  readonly incident: Incident;
  readonly timeline: readonly TimelineEvent[];
  /** The impact read from the metrics (see `assessImpact`); omitted when no metric could be read. */
  readonly impact?: ReportImpact;
  /** Catalogue units by metric name, to show thresholds in the metric's unit. @default {} (base units) */
  readonly units?: Readonly<Record<string, string>>;
  readonly now: Date;
}

/** The §5.1 report of one incident, from its stored state. */
export function buildReport(input: BuildReportInput): IncidentReportData {
  const { incident, timeline } = input;
  const t = incident.timestamps;
  const inv = investigationOf(timeline)?.result;
  const endedAt = t.resolvedAt ?? timeline.at(-1)?.at ?? t.detectedAt;
  const metrics = reportMetrics(incident, timeline);
  const rootCause = rootCauseOf(inv, timeline);
  const remediation = remediationOf(timeline);
  const rows = rowsOf(incident, timeline, inv, input.units ?? {});
  const alarmFirings = Object.entries(incident.alarms ?? {}).map(([name, a]) => ({ name, fired: a.fired, lastAt: a.lastAt }));
  const overview: IncidentReportData['overview'] = {
    service: incident.service,
    severity: incident.severity,
    status: incident.status,
    playbook: incident.playbook,
    anomalyStartedAt: t.anomalyStartedAt,
    detectedAt: t.detectedAt,
    endedAt,
    durationSeconds: Math.max(0, (Date.parse(endedAt) - Date.parse(t.detectedAt)) / 1000),
    ...(incident.alarm ? { alarm: incident.alarm.name } : {}),
    alarmFirings,
    ...(input.impact ? { impact: input.impact } : {}),
  };
  const steps = [...remediation.actions.map((a) => (a.step ? `${a.step}: ${a.summary}` : a.summary)), ...(rootCause.resolvedByHand ? [`人工处理 (${rootCause.resolvedByHand.person}): ${rootCause.resolvedByHand.reason}`] : [])];
  const rootText = rootCause.status === 'identified' && rootCause.top ? rootCause.top.statement : rootCause.resolvedByHand?.reason ?? null;
  const anomaly = input.impact ? impactText(input.impact, 'zh') : `${incident.alarm?.name ?? incident.playbook} 告警`;
  const knowledge: KnowledgeEntry = {
    incident_id: incident.id,
    timestamp: t.detectedAt,
    service: incident.service,
    severity: incident.severity,
    searchable_text: searchableText({
      service: incident.service,
      anomaly: `${anomaly} (playbook ${incident.playbook})`,
      rootCause: rootText,
      steps,
      keyMetrics: [
        ...(input.impact ? [impactText(input.impact, 'zh')] : []),
        ...(metrics.mttrSeconds !== undefined ? [`MTTR ${minutes(metrics.mttrSeconds)} 分钟`] : []),
      ],
    }),
    root_cause: rootText,
    resolution_steps: steps,
    resolution_duration: metrics.mttrSeconds ?? overview.durationSeconds,
    playbook_used: incident.playbook,
    was_auto_remediated: incident.status === 'RESOLVED' && remediation.actions.length > 0 && metrics.human.length === 0,
    success: incident.status === 'RESOLVED',
  };
  return {
    version: REPORT_VERSION,
    incidentId: incident.id,
    generatedAt: input.now.toISOString(),
    inProgress: !isFinalStatus(incident.status),
    lastEventSeq: timeline.reduce((m, e) => (e.type === REPORT_EVENT_TYPE ? m : Math.max(m, e.seq)), -1),
    overview,
    timeline: rows,
    rootCause,
    remediation,
    metrics,
    ...(inv ? { investigation: inv } : {}),
    knowledge,
  };
}

/** "api_latency_p99 从 50ms 上升到 350ms (+600%)，影响约 3000 活跃用户" (zh) or its English. */
export function impactText(impact: ReportImpact, lang: 'zh' | 'en'): string {
  const parts: string[] = [];
  const { metric, peakText, baselineText, changePercent } = impact;
  const change = changePercent === undefined ? '' : ` (${changePercent >= 0 ? '+' : ''}${Math.round(changePercent)}%)`;
  if (lang === 'zh') {
    parts.push(baselineText ? `${metric} 从 ${baselineText} 上升到 ${peakText}${change}` : `${metric} 峰值 ${peakText} (无基线数据)`);
    if (impact.affectedUsers !== undefined) parts.push(`影响约 ${impact.affectedUsers} 活跃用户`);
    return parts.join('，');
  }
  parts.push(baselineText ? `${metric} rose from ${baselineText} to ${peakText}${change}` : `${metric} peaked at ${peakText} (no baseline data)`);
  if (impact.affectedUsers !== undefined) parts.push(`about ${impact.affectedUsers} active users affected`);
  return parts.join(', ');
}
