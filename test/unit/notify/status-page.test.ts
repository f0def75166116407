/** The public notice of seed §4.1 level 4, as drafted for approval: features, times and status in zh-CN and en, nothing internal. */
import { draftNotice, noticeImpact } from '../../../lib/notify/status-page';

const startedAt = new Date('2026-02-09T14:15:00Z');
const spot = { zh: '现货交易', en: 'Spot trading', id: 'cmp-spot' };
const api = { zh: '交易 API', en: 'Trading API' };

describe('Function: draftNotice', () => {
  it('names the affected features, the start time in UTC and the current status in both languages', () => {
    // act
    const notice = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt, phase: 'investigating', components: [spot, api] });
    // assess
    expect(notice).toMatchObject({ incidentId: 'INC-20260209-001', phase: 'investigating', impact: 'major', startedAt: '2026-02-09T14:15:00.000Z', components: [spot, api] });
    expect(notice.zh).toEqual({ title: '现货交易、交易 API出现异常', body: '自 2026-02-09 14:15 UTC 起，现货交易、交易 API出现异常，部分用户可能受到影响。当前状态：我们正在调查原因。我们会在此持续更新。' });
    expect(notice.en).toEqual({ title: 'Degraded service: Spot trading and Trading API', body: 'Since 2026-02-09 14:15 UTC, Spot trading and Trading API have been degraded and some users may be affected. Current status: We are investigating the cause. We will post updates here.' });
  });

  it('the resolution notice gives the start and end', () => {
    const notice = draftNotice({ incidentId: 'INC-20260209-001', severity: 'HIGH', startedAt, phase: 'resolved', components: [spot], resolvedAt: new Date('2026-02-09T14:38:00Z') });
    expect(notice.resolvedAt).toBe('2026-02-09T14:38:00.000Z');
    expect(notice.zh.title).toBe('现货交易已恢复');
    expect(notice.zh.body).toContain('自 2026-02-09 14:15 UTC 起出现的异常已于 2026-02-09 14:38 UTC 恢复');
    expect(notice.en).toMatchObject({ title: 'Resolved: Spot trading', body: expect.stringContaining('began at 2026-02-09 14:15 UTC was resolved at 2026-02-09 14:38 UTC') });
  });

  it('says "some services" when no feature is mapped, rather than naming an internal service', () => {
    const notice = draftNotice({ incidentId: 'INC-20260209-002', severity: 'MEDIUM', startedAt, phase: 'identified', components: [] });
    expect(notice.en.title).toBe('Degraded service: some services');
    expect(notice.zh.title).toBe('部分服务出现异常');
    expect(notice.en.body).toContain('Current status: The cause has been identified');
  });

  it.each([
    ['LOW', 'minor'],
    ['MEDIUM', 'minor'],
    ['HIGH', 'major'],
    ['CRITICAL', 'critical'],
  ] as const)('a %s incident has %s impact', (severity, impact) => {
    expect(noticeImpact(severity)).toBe(impact);
  });
});
