/** Unit tests of the §5.1 timeline report and the §5.2 knowledge entry. No network. */
import type { Incident, TimelineEvent } from '../../../lib/incident';
import { renderIncidentReport } from '../../../lib/report/timeline';

const at = (hhmm: string) => `2026-02-09T${hhmm}:00.000Z`;

/** The seed §5.1 incident: trading-api latency after a deploy, rolled back with @john's approval. */
const incident: Incident = {
  id: 'INC-20260209-001',
  playbook: 'api-latency',
  service: 'trading-api',
  severity: 'HIGH',
  status: 'RESOLVED',
  alarm: { name: 'sre-agent/api-latency/trading-api/p99', reason: 'Threshold crossed' },
  alarms: { 'sre-agent/api-latency/trading-api/p99': { firstAt: at('14:15'), lastAt: at('14:15'), fired: 1 } },
  timestamps: { anomalyStartedAt: at('14:00'), detectedAt: at('14:15'), investigatedAt: at('14:16'), mitigatedAt: at('14:25'), resolvedAt: at('14:38') },
};

const event = (hhmm: string, seq: number, type: string, summary: string, more: Partial<TimelineEvent> = {}): TimelineEvent => ({ incidentId: incident.id, at: at(hhmm), seq, type, summary, ...more });

const timeline: TimelineEvent[] = [
  event('14:15', 0, 'incident_opened', 'incident opened by alarm sre-agent/api-latency/trading-api/p99'),
  event('14:17', 1, 'approval_requested', 'approval requested from oncall_sre @john', { step: 'rollback' }),
  event('14:19', 2, 'approval_decided', '@john approved', { step: 'rollback', actor: 'john' }),
  event('14:25', 3, 'action', 'rolled back trading-api v2.3.1 → v2.3.0', { step: 'rollback', before: { image: 'v2.3.1' }, after: { image: 'v2.3.0' } }),
  event('14:38', 4, 'status_changed', 'MITIGATING → RESOLVED: recovery verified'),
];

describe('renderIncidentReport', () => {
  it('writes the seed §5.1 layout: overview, one row per event, the fix, MTTD 15 / MTTI 1 / MTTR 23 minutes', () => {
    const { markdown } = renderIncidentReport(incident, timeline);

    expect(markdown).toContain('## 事件报告: INC-20260209-001');
    expect(markdown).toContain('- **持续时间**: 23 分钟 (14:15 - 14:38 UTC)');
    expect(markdown).toContain('| 14:25 | rolled back trading-api v2.3.1 → v2.3.0 |');
    expect(markdown).toContain('- rollback: rolled back trading-api v2.3.1 → v2.3.0');
    expect(markdown).toContain('- MTTD (检测时间): 15 分钟');
    expect(markdown).toContain('- MTTI (调查时间): 1 分钟');
    expect(markdown).toContain('- MTTR (恢复时间): 23 分钟');
    expect(markdown).toContain('- 人工介入: 1 次');
    expect(markdown.match(/^\| \d\d:\d\d \|/gm)).toHaveLength(timeline.length);
  });

  it('says how often each alarm fired when one fired more than once (repeats are no timeline rows)', () => {
    const stormy: Incident = {
      ...incident,
      alarms: {
        'sre-agent/api-latency/trading-api/p99': { firstAt: at('14:15'), lastAt: at('14:31'), fired: 12 },
        'sre-agent/api-latency/trading-api/5xx': { firstAt: at('14:16'), lastAt: at('14:16'), fired: 1 },
      },
    };

    expect(renderIncidentReport(stormy, timeline).markdown).toContain(
      '- **告警触发**: sre-agent/api-latency/trading-api/p99 ×12 (最近 14:31); sre-agent/api-latency/trading-api/5xx ×1 (最近 14:16)',
    );
    expect(renderIncidentReport(incident, timeline).markdown).not.toContain('告警触发');
  });

  it('escapes a pipe in a summary so the table keeps its columns', () => {
    const { markdown } = renderIncidentReport(incident, [event('14:20', 9, 'action', 'ran a | b')]);

    expect(markdown).toContain('| 14:20 | ran a \\| b |');
  });

  it('fills the §5.2 knowledge entry: resolution steps, duration, auto-remediated only without people', () => {
    const { knowledge } = renderIncidentReport(incident, timeline);

    expect(knowledge).toMatchObject({
      incident_id: 'INC-20260209-001',
      service: 'trading-api',
      severity: 'HIGH',
      resolution_steps: ['rollback: rolled back trading-api v2.3.1 → v2.3.0'],
      resolution_duration: 23 * 60,
      playbook_used: 'api-latency',
      was_auto_remediated: false,
      success: true,
    });
    expect(renderIncidentReport(incident, timeline.filter((e) => e.type !== 'approval_decided')).knowledge.was_auto_remediated).toBe(true);
  });
});
