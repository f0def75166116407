/** Escalation levels (seed §4.1) as data, and who each level reaches. */
import { ESCALATION_LEVELS, escalationLevel, recipientsFor, rolesFor } from '../../../lib/approval/escalation';
import type { OnCallLookup } from '../../../lib/approval/oncall';

const AT = new Date('2026-02-09T14:17:00.000Z');

describe('ESCALATION_LEVELS', () => {
  it('follows seed §4.1: windows, channels and the level-4 war room', () => {
    expect(ESCALATION_LEVELS.map((l) => [l.level, l.fromMinutes, l.toMinutes, l.channels, l.warRoom])).toEqual([
      [1, 0, 5, [], false],
      [2, 5, 15, ['slack', 'pagerduty', 'email'], false],
      [3, 15, 30, ['phone', 'slack', 'pagerduty'], false],
      [4, 30, undefined, ['slack', 'phone'], true],
    ]);
  });

  it('refuses a level that does not exist', () => {
    expect(() => escalationLevel(5)).toThrow('no escalation level 5 (levels are 1-4, seed §4.1)');
  });
});

describe('rolesFor', () => {
  it.each([
    [1, ['oncall_sre', 'dba'], []],
    [2, ['oncall_sre', 'dba'], ['oncall_sre', 'dba']],
    [3, ['oncall_sre', 'dba'], ['oncall_sre', 'dba', 'team_lead', 'senior_sre']],
    [4, ['oncall_sre', 'dba'], ['oncall_sre', 'dba', 'team_lead', 'senior_sre', 'engineering_director', 'cto']],
    [3, ['oncall_sre', 'team_lead'], ['oncall_sre', 'team_lead', 'senior_sre']],
    [2, [], ['oncall_sre']],
  ])('level %i with approvers %j reaches %j', (level, approvers, expected) => {
    expect(rolesFor(level, approvers)).toEqual(expected);
  });
});

describe('recipientsFor', () => {
  it('looks each role up, and reports the roles nobody holds or whose lookup failed without losing the others', async () => {
    // prepare
    const oncall: OnCallLookup = {
      whoIs: async (role) => {
        if (role === 'senior_sre') throw new Error('rotation file unreadable');
        return role === 'team_lead' ? [] : [{ name: `${role} person` }];
      },
    };
    // act
    const r = await recipientsFor(3, ['oncall_sre', 'dba'], oncall, AT);
    // assess
    expect(r.people.map((p) => [p.role, p.person.name])).toEqual([
      ['oncall_sre', 'oncall_sre person'],
      ['dba', 'dba person'],
    ]);
    expect(r.missing).toEqual([
      { role: 'team_lead', reason: 'nobody holds this role now' },
      { role: 'senior_sre', reason: 'on-call lookup failed: rotation file unreadable' },
    ]);
  });

  it('reports every role missing when no lookup is configured', async () => {
    const r = await recipientsFor(2, ['oncall_sre'], undefined, AT);
    expect(r).toEqual({ people: [], missing: [{ role: 'oncall_sre', reason: 'no on-call lookup configured' }] });
  });
});
