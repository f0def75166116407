/** The §5.1 report as Markdown, in the seed's layout: zh-CN (default) or en. */
import { impactText, type IncidentReportData } from './report';

export const REPORT_LANGUAGES = ['zh-CN', 'en'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

/** A language the report is not written in; names the one asked for. */
export class ReportLanguageError extends Error {
  public constructor(lang: string) {
    super(`report language "${lang}" is not one of ${REPORT_LANGUAGES.join(', ')}`);
    this.name = 'ReportLanguageError';
  }
}

/** `zh`, `zh-cn`, `cn` → zh-CN; `en`, `en-US`... → en. @throws ReportLanguageError */
export function parseReportLanguage(lang: string | undefined): ReportLanguage {
  if (lang === undefined) return 'zh-CN';
  const l = lang.toLowerCase();
  if (l === 'zh' || l === 'zh-cn' || l === 'cn' || l === 'zh-hans') return 'zh-CN';
  if (l === 'en' || l.startsWith('en-')) return 'en';
  throw new ReportLanguageError(lang);
}

const hhmm = (iso: string) => iso.slice(11, 16);

/** Where MTTD counts from, in words (the basis the intake recorded; a fallback says why). */
function mttdFromText(from: IncidentReportData['metrics']['mttdFrom'] | undefined, zh: boolean): string {
  if (!from) return '';
  const t = `${hhmm(from.at)} UTC`;
  const why = from.fallback ? `; ${from.fallback}` : '';
  switch (from.basis) {
    case 'first_breaching_datapoint':
      return zh ? ` (自首个越过阈值的数据点 ${t})` : ` (from the first breaching datapoint, ${t})`;
    case 'start_date':
      return zh ? ` (自 CloudWatch startDate ${t}, 非首个越过阈值的数据点${why})` : ` (from CloudWatch's startDate, ${t}, not the first breaching datapoint${why})`;
    case 'state_change':
      return zh ? ` (自告警状态变化 ${t}${why})` : ` (from the alarm's state change, ${t}${why})`;
    default:
      return zh ? ` (自异常开始 ${t}, 来源未记录)` : ` (from the anomaly start, ${t}, its source not recorded)`;
  }
}
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const pct = (c: number) => `${Math.round(c * 100)}%`;

function duration(seconds: number | undefined, zh: boolean): string {
  if (seconds === undefined) return zh ? '未知' : 'n/a';
  const m = Math.round(seconds / 60);
  return zh ? `${m} 分钟` : `${m} min`;
}

/** Blank lines collapsed to one: optional lines leave no gaps. */
function join(lines: readonly (string | undefined)[]): string {
  return `${lines.filter((l): l is string => l !== undefined).filter((l, i, all) => l !== '' || all[i - 1] !== '').join('\n').trim()}\n`;
}

export function renderReportMarkdown(r: IncidentReportData, lang: ReportLanguage = 'zh-CN'): string {
  const zh = lang === 'zh-CN';
  const o = r.overview;
  const m = r.metrics;
  const L = zh
    ? { title: '事件报告', overview: '概况', service: '服务', severity: '严重度', status: '状态', duration: '持续时间', impact: '影响', alarm: '告警', fired: '告警触发', latest: '最近', timeline: '时间线', time: '时间 (UTC)', event: '事件', root: '根因', fix: '修复措施', metrics: '指标', noImpact: '无指标数据' }
    : { title: 'Incident report', overview: 'Overview', service: 'Service', severity: 'Severity', status: 'Status', duration: 'Duration', impact: 'Impact', alarm: 'Alarm', fired: 'Alarm firings', latest: 'latest', timeline: 'Timeline', time: 'Time (UTC)', event: 'Event', root: 'Root cause', fix: 'Remediation', metrics: 'Metrics', noImpact: 'no metric data' };
  const rc = r.rootCause;
  const rootLines: string[] = [];
  if (rc.top && rc.status === 'identified') {
    rootLines.push(`${zh ? rc.top.statement : rc.top.statementEn} (${zh ? '置信度' : 'confidence'} ${pct(rc.top.confidence)})`);
  } else {
    rootLines.push(zh ? '未确定' : 'Unknown');
    if (rc.top) rootLines.push(`- ${zh ? '最可能 (置信度低, 未确认)' : 'most likely (low confidence, unconfirmed)'}: ${zh ? rc.top.statement : rc.top.statementEn} (${pct(rc.top.confidence)})`);
  }
  if (rc.top && rc.status === 'identified') for (const e of rc.top.evidence) rootLines.push(`- ${e.label}: ${e.value}${e.at ? ` (${hhmm(e.at)} UTC)` : ''}${e.source ? ` [${e.source}]` : ''}`);
  for (const a of rc.alternatives) rootLines.push(`- ${zh ? '其他假设' : 'alternative'}: ${zh ? a.statement : a.statementEn} (${pct(a.confidence)})`);
  if (rc.resolvedByHand) rootLines.push(`- ${zh ? `人工处理 (${rc.resolvedByHand.person})` : `resolved by hand (${rc.resolvedByHand.person})`}: ${rc.resolvedByHand.reason}`);

  const fixes = [
    ...r.remediation.actions.map((a) => `- ${a.step ? `${a.step}: ` : ''}${a.summary}`),
    ...r.remediation.tickets.map((t) => `- ${zh ? '创建跟进工单' : 'Follow-up ticket'}: ${t.id}${t.priority ? ` (${t.priority})` : ''} ${t.title}${t.url ? ` <${t.url}>` : ''}`),
    ...(rc.resolvedByHand ? [`- ${zh ? '人工处理' : 'By hand'} (${rc.resolvedByHand.person}): ${rc.resolvedByHand.reason}`] : []),
  ];
  const approvals = m.human.filter((h) => h.kind === 'approval').length;
  const manual = m.human.filter((h) => h.kind === 'manual').length;
  const humanWhat = zh ? [approvals ? `审批 ${approvals} 次` : '', manual ? `人工处理 ${manual} 次` : ''].filter(Boolean).join(', ') : [approvals ? `${approvals} approval(s)` : '', manual ? `${manual} manual step(s)` : ''].filter(Boolean).join(', ');
  const inv = r.investigation;
  // Reports stored before `inProgress` existed: a closed status is the final report.
  const inProgress = r.inProgress ?? !['RESOLVED', 'FAILED'].includes(o.status);
  return join([
    `## ${L.title}: ${r.incidentId}${inProgress ? (zh ? ' (进行中)' : ' (in progress)') : ''}`,
    inProgress ? (zh ? `> 事件仍在处理中 (状态 ${o.status})：本报告于 ${hhmm(r.generatedAt)} UTC 按已存储的状态生成，不是最终报告。` : `> In progress (status ${o.status}): built at ${hhmm(r.generatedAt)} UTC from the stored state; not the final report.`) : undefined,
    '',
    `### ${L.overview}`,
    `- **${L.service}**: ${o.service}`,
    `- **${L.severity}**: ${o.severity}`,
    `- **${L.status}**: ${o.status} (playbook ${o.playbook})`,
    `- **${L.duration}**: ${duration(o.durationSeconds, zh)} (${hhmm(o.detectedAt)} - ${hhmm(o.endedAt)} UTC, ${o.detectedAt.slice(0, 10)})`,
    `- **${L.impact}**: ${o.impact ? impactText(o.impact, zh ? 'zh' : 'en') : L.noImpact}`,
    o.alarm ? `- **${L.alarm}**: ${o.alarm}` : undefined,
    o.alarmFirings.some((a) => a.fired > 1) ? `- **${L.fired}**: ${o.alarmFirings.map((a) => `${a.name} ×${a.fired} (${L.latest} ${hhmm(a.lastAt)})`).join('; ')}` : undefined,
    '',
    `### ${L.timeline}`,
    `| ${L.time} | ${L.event} |`,
    '|------------|------|',
    ...r.timeline.map((row) => `| ${hhmm(row.at)} | ${cell(zh ? row.zh : row.en)} |`),
    '',
    `### ${L.root}`,
    ...rootLines,
    '',
    `### ${L.fix}`,
    ...(fixes.length ? fixes : [zh ? '- 无修复操作' : '- no remediation action']),
    '',
    `### ${L.metrics}`,
    `- MTTD (${zh ? '检测时间' : 'time to detect'}): ${duration(m.mttdSeconds, zh)}${mttdFromText(m.mttdFrom, zh)}`,
    `- MTTI (${zh ? '调查时间' : 'time to investigate'}): ${duration(m.mttiSeconds, zh)}${inv ? (zh ? ' (Agent 自动分析)' : ' (automatic analysis)') : m.mttiSeconds === undefined ? (zh ? ' (未完成调查)' : ' (no investigation completed)') : ''}`,
    `- MTTR (${zh ? '恢复时间' : 'time to recover'}): ${duration(m.mttrSeconds, zh)}${m.mttrSeconds === undefined ? (zh ? ' (未恢复)' : ' (not recovered)') : ''}`,
    `- ${zh ? '人工介入时间' : 'Human intervention'}: ${duration(m.humanSeconds, zh)}${humanWhat ? ` (${humanWhat})` : ''}`,
  ]);
}
