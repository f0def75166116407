/** The on-call rotation file: weekly rotation and handover time, static roles, service owners, overrides, and errors with positions. */
import * as path from 'node:path';
import { RotationFile, serviceOwnerRole } from '../../../lib/approval/oncall';
import { PlaybookError, type PlaybookProblem } from '../../../lib/playbook/errors';
import { DEFAULT_ONCALL_FILE, loadRotationFile, parseRotationFile } from '../../../lib/approval/oncall-file';

const SAMPLE = path.resolve(__dirname, '../../../playbooks/oncall.yaml');

/** A small valid file; tests change one line of it. */
const BASE = `people:
  ann: { name: Ann, email: ann@example.com }
  bob: { name: Bob, phone: "+12025550102" }
  cat: { name: Cat, slack: U04CAT0000 }
roles:
  oncall_sre:
    rotation:
      start: 2026-01-05
      handover: Monday 09:00
      people: [ann, bob, cat]
  team_lead:
    people: [cat]
services:
  redis-cache: { owners: [bob] }
overrides:
  - role: oncall_sre
    from: 2026-01-07T00:00:00Z
    to: 2026-01-08T00:00:00Z
    people: [cat]
    reason: swap
  - role: oncall_sre
    from: 2026-01-07T12:00:00Z
    to: 2026-01-07T18:00:00Z
    people: [bob]
`;

function problemsOf(text: string): string[] {
  try {
    parseRotationFile('oncall.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(PlaybookError);
    return (err as PlaybookError).problems.map((p: PlaybookProblem) => `${p.file}:${p.line}:${p.col} ${p.field}: ${p.message}`);
  }
  throw new Error('expected the file to be refused');
}

const names = async (file: RotationFile, role: string, at: string) => (await file.whoIs(role, new Date(at))).map((p) => p.name);

describe('RotationFile', () => {
  describe('Method: load', () => {
    it('accepts the shipped playbooks/oncall.yaml, which is the default file', () => {
      // prepare / act
      const file = loadRotationFile();
      // assess
      expect(DEFAULT_ONCALL_FILE).toBe(SAMPLE);
      expect(file.roles()).toEqual(expect.arrayContaining(['oncall_sre', 'team_lead', 'senior_sre', 'dba', 'matching_engine_owner', 'engineering_director', 'cto']));
      for (const service of ['trading-api', 'matching-engine', 'order-service', 'market-data-ws', 'redis-cache', 'order-consumer', 'platform']) {
        expect(file.roles()).toContain(serviceOwnerRole(service));
      }
    });

    it('names the file when it cannot be read', () => {
      expect(() => loadRotationFile('/nonexistent/oncall.yaml')).toThrow(/^\/nonexistent\/oncall\.yaml:1:1: cannot read file/);
    });
  });

  describe('Method: whoIs', () => {
    const file = parseRotationFile('oncall.yaml', BASE);

    it.each([
      ['2026-01-05T09:00:00Z', 'Ann', 'the first handover of the epoch week'],
      ['2026-01-05T08:59:59Z', 'Cat', 'one second before it: the week before, wrapping backwards'],
      ['2026-01-12T08:59:59Z', 'Ann', 'the last second of the first week'],
      ['2026-01-12T09:00:00Z', 'Bob', 'the second handover'],
      ['2026-01-19T09:00:00Z', 'Cat', 'the third'],
      ['2026-01-26T09:00:00Z', 'Ann', 'the fourth wraps around'],
      ['2026-03-02T10:00:00Z', 'Cat', 'eight weeks on: 8 mod 3 = 2'],
      ['2025-12-01T09:00:00Z', 'Bob', 'five weeks before the epoch: -5 mod 3 = 1'],
    ])('rotates weekly at the Monday 09:00 UTC handover: %s → %s (%s)', async (at, expected) => {
      expect(await names(file, 'oncall_sre', at)).toEqual([expected]);
    });

    it('returns the contact fields of the file and says where the answer came from', async () => {
      // act
      const [ann] = await file.whoIs('oncall_sre', new Date('2026-01-05T10:00:00Z'));
      const [bob] = await file.whoIs(serviceOwnerRole('redis-cache'), new Date('2026-01-05T10:00:00Z'));
      // assess
      expect(ann).toEqual({ name: 'Ann', handle: 'ann', email: 'ann@example.com', source: 'rotation-file' });
      expect(bob).toEqual({ name: 'Bob', handle: 'bob', phone: '+12025550102', source: 'rotation-file' });
    });

    it('answers static roles at any time, and nobody for an unknown role or service', async () => {
      expect(await names(file, 'team_lead', '2030-06-01T00:00:00Z')).toEqual(['Cat']);
      expect(await names(file, 'cto', '2026-01-05T10:00:00Z')).toEqual([]);
      expect(await names(file, serviceOwnerRole('wallet-service'), '2026-01-05T10:00:00Z')).toEqual([]);
    });

    it('lets an override win inside its window, from inclusive to exclusive', async () => {
      // Ann's week; the swap gives Cat 2026-01-07 00:00 → 2026-01-08 00:00.
      expect(await names(file, 'oncall_sre', '2026-01-06T23:59:59Z')).toEqual(['Ann']);
      expect(await names(file, 'oncall_sre', '2026-01-07T00:00:00Z')).toEqual(['Cat']);
      expect(await names(file, 'oncall_sre', '2026-01-08T00:00:00Z')).toEqual(['Ann']);
      const [cat] = await file.whoIs('oncall_sre', new Date('2026-01-07T06:00:00Z'));
      expect(cat.source).toBe('rotation-file (override 2026-01-07T00:00:00Z → 2026-01-08T00:00:00Z: swap)');
    });

    it('lets the later of two overlapping overrides win', async () => {
      expect(await names(file, 'oncall_sre', '2026-01-07T13:00:00Z')).toEqual(['Bob']);
      expect(await names(file, 'oncall_sre', '2026-01-07T18:00:00Z')).toEqual(['Cat']);
    });

    it('follows the shipped sample: John Park on the seed incident day, Wang Lei covering inside Li Na\'s week', async () => {
      const sample = loadRotationFile(SAMPLE);
      // Seed §5.1: "审批请求发送至 On-Call SRE @john" on 2026-02-09 at 14:17.
      expect(await names(sample, 'oncall_sre', '2026-02-09T14:17:00Z')).toEqual(['John Park']);
      expect(await names(sample, 'oncall_sre', '2026-02-23T09:00:00Z')).toEqual(['Li Na']);
      expect(await names(sample, 'oncall_sre', '2026-02-25T03:00:00Z')).toEqual(['Wang Lei']);
      expect(await names(sample, 'oncall_sre', '2026-02-26T09:00:00Z')).toEqual(['Li Na']);
      expect(await names(sample, 'team_lead', '2026-02-18T00:00:00Z')).toEqual(['Maria Garcia']);
      expect(await names(sample, 'team_lead', '2026-02-23T00:00:00Z')).toEqual(['Chen Jie']);
    });
  });

  describe('Method: findPerson', () => {
    it('finds a person by PagerDuty user id or e-mail (case-insensitive)', () => {
      const sample = loadRotationFile(SAMPLE);
      expect(sample.findPerson({ pagerdutyUserId: 'PJOHN03' })?.name).toBe('John Park');
      expect(sample.findPerson({ email: 'LI.NA@exchange.example' })?.phone).toBe('+12025550102');
      expect(sample.findPerson({ email: 'nobody@example.com' })).toBeUndefined();
    });
  });

  describe('errors name file:line:column and field', () => {
    it.each([
      ['an unknown person in a rotation', BASE.replace('people: [ann, bob, cat]', 'people: [ann, dan, cat]'), ['oncall.yaml:10:21 roles.oncall_sre.rotation.people[1]: unknown person "dan": add them under people']],
      [
        'a start that is not the handover weekday',
        BASE.replace('start: 2026-01-05', 'start: 2026-01-06'),
        ['oncall.yaml:8:14 roles.oncall_sre.rotation.start: 2026-01-06 is a Tuesday; the rotation hands over on Monday, so start must be a Monday'],
      ],
      ['a malformed handover', BASE.replace('handover: Monday 09:00', 'handover: Mon 9am'), ['oncall.yaml:9:17 roles.oncall_sre.rotation.handover: a weekday and a UTC time, e.g. "Monday 09:00"']],
      ['a bad e-mail address', BASE.replace('ann@example.com', 'ann-at-example'), ['oncall.yaml:2:28 people.ann.email: Invalid email address']],
      ['a role with both people and rotation', BASE.replace('  team_lead:\n    people: [cat]', '  team_lead:\n    people: [cat]\n    rotation: { start: 2026-01-05, handover: Monday 09:00, people: [ann] }'), ['oncall.yaml:12:5 roles.team_lead: give either people or rotation']],
      ['an override of an unknown role', BASE.replace('  - role: oncall_sre\n    from: 2026-01-07T00', '  - role: oncall_ser\n    from: 2026-01-07T00'), ['oncall.yaml:16:11 overrides[0].role: unknown role "oncall_ser": define it under roles (or the service under services)']],
      ['an override that ends before it starts', BASE.replace('to: 2026-01-08T00:00:00Z', 'to: 2026-01-06T00:00:00Z'), ['oncall.yaml:18:9 overrides[0].to: the window ends (2026-01-06T00:00:00Z) before it starts (2026-01-07T00:00:00Z)']],
      ['an override time without a zone', BASE.replace('from: 2026-01-07T12:00:00Z', 'from: 2026-01-07 12:00'), ['oncall.yaml:22:11 overrides[1].from: an ISO 8601 time with a zone, e.g. 2026-02-09T09:00:00Z']],
      ['an unknown field', BASE.replace('  team_lead:\n    people: [cat]', '  team_lead:\n    people: [cat]\n    pager: yes'), ['oncall.yaml:12:5 roles.team_lead: Unrecognized key: "pager"']],
      ['a duplicate key', BASE.replace('  team_lead:', '  oncall_sre:\n    people: [ann]\n  team_lead:'), ['oncall.yaml:11:3 : YAML DUPLICATE_KEY: Map keys must be unique (key "oncall_sre")']],
    ])('refuses %s', (_what, text, expected) => {
      expect(problemsOf(text)).toEqual(expected);
    });

    it('reports every problem at once', () => {
      const text = BASE.replace('people: [ann, bob, cat]', 'people: [ann, dan, eve]').replace('to: 2026-01-08T00:00:00Z', 'to: 2026-01-06T00:00:00Z');
      expect(problemsOf(text)).toHaveLength(3);
    });
  });
});
