/**
 * Post-incident automation (seed §5): the timeline report in the seed's Markdown layout, with
 * MTTD / MTTI / MTTR, and the knowledge-base entry (§5.2) as structured data.
 */
import { incidentMetrics, type Incident, type TimelineEvent } from '../incident';

export interface IncidentReport {
  readonly markdown: string;
  /** Seed §5.2 `knowledge_entry` (without the embedding, which the knowledge-base writer adds). */
  readonly knowledge: Record<string, unknown>;
}

function hhmm(iso: string): string {
  return iso.slice(11, 16);
}

function minutes(seconds: number | undefined): string {
  return seconds === undefined ? 'n/a' : `${Math.round(seconds / 60)} 分钟`;
}

const HUMAN_EVENTS = new Set(['approval_decided', 'approval_approved', 'approval_rejected']);

export function renderIncidentReport(incident: Incident, timeline: readonly TimelineEvent[], steps: Readonly<Record<string, { summary?: string }>> = {}): IncidentReport {
  const m = incidentMetrics(incident);
  const t = incident.timestamps;
  const end = t.resolvedAt ?? timeline.at(-1)?.at ?? t.detectedAt;
  const durationMin = Math.round((Date.parse(end) - Date.parse(t.detectedAt)) / 60000);
  const actions = timeline.filter((e) => e.type === 'action');
  const resolutionSteps = actions.map((e) => `${e.step}: ${e.summary}`);
  const human = timeline.filter((e) => HUMAN_EVENTS.has(e.type) || (e.actor && e.actor !== 'agent' && e.type.startsWith('approval')));
  const lines = [
    `## 事件报告: ${incident.id}`,
    '',
    '### 概况',
    `- **服务**: ${incident.service}`,
    `- **严重度**: ${incident.severity}`,
    `- **状态**: ${incident.status}`,
    `- **Playbook**: ${incident.playbook}`,
    `- **持续时间**: ${durationMin} 分钟 (${hhmm(t.detectedAt)} - ${hhmm(end)} UTC)`,
    incident.alarm ? `- **告警**: ${incident.alarm.name}${incident.alarm.reason ? ` — ${incident.alarm.reason}` : ''}` : '',
    ...alarmFirings(incident),
    '',
    '### 时间线',
    '| 时间 (UTC) | 事件 |',
    '|------------|------|',
    ...timeline.map((e) => `| ${hhmm(e.at)} | ${e.summary.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    '',
    '### 修复措施',
    ...(resolutionSteps.length ? resolutionSteps.map((s) => `- ${s}`) : ['- 无自动修复操作']),
    '',
    '### 指标',
    `- MTTD (检测时间): ${minutes(m.mttdSeconds)}`,
    `- MTTI (调查时间): ${minutes(m.mttiSeconds)}`,
    `- MTTR (恢复时间): ${minutes(m.mttrSeconds)}`,
    `- 人工介入: ${human.length} 次`,
    '',
  ].filter((l, i, all) => l !== '' || all[i - 1] !== '');
  const knowledge = {
    incident_id: incident.id,
    timestamp: t.detectedAt,
    service: incident.service,
    severity: incident.severity,
    searchable_text: `服务 ${incident.service} 触发 playbook ${incident.playbook}。通过 ${resolutionSteps.join('; ') || '人工处理'} 处理。状态 ${incident.status}。`,
    root_cause: null,
    resolution_steps: resolutionSteps,
    resolution_duration: durationMin * 60,
    playbook_used: incident.playbook,
    was_auto_remediated: actions.length > 0 && human.length === 0,
    success: incident.status === 'RESOLVED',
    step_summaries: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.summary ?? null])),
  };
  return { markdown: lines.join('\n'), knowledge };
}

/** `- **告警触发**: name ×N (最近 HH:MM)` per alarm, when any fired more than once (repeats are not timeline rows). */
function alarmFirings(incident: Incident): string[] {
  const alarms = Object.entries(incident.alarms ?? {});
  if (!alarms.some(([, a]) => a.fired > 1)) return [];
  return [`- **告警触发**: ${alarms.map(([name, a]) => `${name} ×${a.fired} (最近 ${hhmm(a.lastAt)})`).join('; ')}`];
}
