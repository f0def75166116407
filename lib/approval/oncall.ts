/**
 * Who is on call (seed §4.2): a rotation file (playbooks/oncall.yaml, the embedded default) and
 * PagerDuty's on-call API, which falls back to the file when it cannot answer and says so.
 */
import * as z from '../yaml/zod';
import { PlaybookError, problemAt, type ConfigSource, type PlaybookProblem } from '../yaml';
import { errorText } from '../notify/text';
import type { Person } from '../notify/types';
import { OnCallError } from './errors';
import { ApprovalError } from './store';

export type { Person };

/** Maps a role (`oncall_sre`, `team_lead`, `service_owner:<service>`...) to the people holding it at a time. */
export interface OnCallLookup {
  /** The people holding `role` at `at`; empty when nobody does (or the role is unknown). */
  whoIs(role: string, at: Date): Promise<Person[]>;
}

/** The role of the owners of one service, as the rotation file and the breaker notifications name it. */
export function serviceOwnerRole(service: string): string {
  return `service_owner:${service}`;
}

// ---- The rotation file ----------------------------------------------------------------------

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const WEEK_MS = 7 * 24 * 3600 * 1000;
const HANDLE = /^[a-z0-9][a-z0-9._-]*$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const handle = z.string().check(z.regex(HANDLE, 'a person handle (lower case letters, digits, . _ -)'));
const people = z.array(handle).check(z.minLength(1));
const instant = z.string().check(
  z.regex(ISO_INSTANT, 'an ISO 8601 time with a zone, e.g. 2026-02-09T09:00:00Z'),
  z.refine((s) => !Number.isNaN(Date.parse(s)), 'not a valid time'),
);

const personSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  email: z.optional(z.email()),
  phone: z.optional(z.string().check(z.regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number, e.g. "+12025550101"'))),
  slack: z.optional(z.string().check(z.regex(/^[UW][A-Z0-9]{6,}$/, 'a Slack member id, e.g. U04ABCDEF'))),
  pagerduty_user_id: z.optional(z.string().check(z.regex(/^P[A-Z0-9]{5,}$/, 'a PagerDuty user id, e.g. PABC123'))),
});

const rotationSchema = z.strictObject({
  /** The first day of the rotation (a `handover` weekday): the week that begins there is `people[0]`'s. */
  start: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, e.g. 2026-01-05')),
  /** `Monday 09:00` (UTC). */
  handover: z.string().check(z.regex(/^(sunday|monday|tuesday|wednesday|thursday|friday|saturday) ([01]\d|2[0-3]):[0-5]\d$/i, 'a weekday and a UTC time, e.g. "Monday 09:00"')),
  people,
});

const roleSchema = z
  .strictObject({ description: z.optional(z.string()), people: z.optional(people), rotation: z.optional(rotationSchema) })
  .check(z.refine((r) => (r.people === undefined) !== (r.rotation === undefined), 'give either people or rotation'));

const serviceOwnersSchema = z.strictObject({ owners: people, description: z.optional(z.string()) });
const overrideSchema = z.strictObject({ role: z.string().check(z.minLength(1)), from: instant, to: instant, people, reason: z.optional(z.string()) });

export const onCallFileSchema = z.strictObject({
  people: z.record(handle, personSchema),
  roles: z.record(z.string().check(z.regex(/^[a-z][a-z0-9_]*$/, 'a role name such as oncall_sre')), roleSchema),
  services: z._default(z.record(z.string().check(z.minLength(1)), serviceOwnersSchema), {}),
  overrides: z._default(z.array(overrideSchema), []),
});

export type OnCallFile = z.infer<typeof onCallFileSchema>;

interface Rotation {
  readonly epochMs: number;
  readonly people: readonly string[];
}

/** The on-call rotation file: static roles, weekly rotations, service owners and time-boxed overrides. */
export class RotationFile implements OnCallLookup {
  /**
   * Validates a rotation file's value: oncall.yaml read by lib/approval/oncall-file.ts, or its
   * copy compiled to JSON in a Lambda. @throws PlaybookError naming file, position and field of every problem
   */
  public static fromSource(src: ConfigSource): RotationFile {
    const result = onCallFileSchema.safeParse(src.value ?? {});
    if (!result.success) throw new PlaybookError(result.error.issues.map((issue) => problemAt(src, issue.path as (string | number)[], issue.message)));
    const doc = result.data;
    const problems = crossCheck(src, doc);
    if (problems.length > 0) throw new PlaybookError(problems);
    return new RotationFile(src.file, doc);
  }

  private readonly rotations = new Map<string, Rotation>();

  private constructor(
    public readonly file: string,
    public readonly document: OnCallFile,
  ) {
    for (const [role, def] of Object.entries(document.roles)) {
      if (!def.rotation) continue;
      const [y, m, d] = def.rotation.start.split('-').map(Number);
      const [hh, mm] = def.rotation.handover.split(' ')[1].split(':').map(Number);
      this.rotations.set(role, { epochMs: Date.UTC(y, m - 1, d, hh, mm), people: def.rotation.people });
    }
  }

  /** Role names defined in the file (service owners as `service_owner:<service>`). */
  public roles(): string[] {
    return [...Object.keys(this.document.roles), ...Object.keys(this.document.services).map(serviceOwnerRole)];
  }

  public async whoIs(role: string, at: Date): Promise<Person[]> {
    const t = at.getTime();
    // The last override listed wins when windows overlap: later entries are the later decisions.
    const override = [...this.document.overrides].reverse().find((o) => o.role === role && Date.parse(o.from) <= t && t < Date.parse(o.to));
    if (override) return override.people.map((h) => this.person(h, `rotation-file (override ${override.from} → ${override.to}${override.reason ? `: ${override.reason}` : ''})`));
    return this.scheduled(role, t).map((h) => this.person(h, 'rotation-file'));
  }

  /** A person of the file by e-mail or PagerDuty user id (PagerDuty answers lack phone and Slack ids). */
  public findPerson(match: { email?: string; pagerdutyUserId?: string }): Person | undefined {
    const entry = Object.entries(this.document.people).find(
      ([, p]) => (match.pagerdutyUserId && p.pagerduty_user_id === match.pagerdutyUserId) || (match.email && p.email?.toLowerCase() === match.email.toLowerCase()),
    );
    return entry ? this.person(entry[0], 'rotation-file') : undefined;
  }

  private scheduled(role: string, t: number): readonly string[] {
    if (role.startsWith('service_owner:')) return this.document.services[role.slice('service_owner:'.length)]?.owners ?? [];
    const rotation = this.rotations.get(role);
    if (rotation) {
      const weeks = Math.floor((t - rotation.epochMs) / WEEK_MS);
      const n = rotation.people.length;
      return [rotation.people[((weeks % n) + n) % n]];
    }
    return this.document.roles[role]?.people ?? [];
  }

  private person(handleName: string, source: string): Person {
    const p = this.document.people[handleName];
    return {
      name: p.name,
      handle: handleName,
      ...(p.email ? { email: p.email } : {}),
      ...(p.phone ? { phone: p.phone } : {}),
      ...(p.slack ? { slack: p.slack } : {}),
      ...(p.pagerduty_user_id ? { pagerdutyUserId: p.pagerduty_user_id } : {}),
      source,
    };
  }
}

/** References between sections: every handle is a person, every override names a role, rotations start on their handover day. */
function crossCheck(src: ConfigSource, doc: OnCallFile): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  const known = (list: readonly string[], at: (string | number)[]) =>
    list.forEach((h, i) => {
      if (!(h in doc.people)) problems.push(problemAt(src, [...at, i], `unknown person "${h}": add them under people`));
    });
  for (const [role, def] of Object.entries(doc.roles)) {
    if (def.people) known(def.people, ['roles', role, 'people']);
    if (def.rotation) {
      known(def.rotation.people, ['roles', role, 'rotation', 'people']);
      const [y, m, d] = def.rotation.start.split('-').map(Number);
      const date = new Date(Date.UTC(y, m - 1, d));
      const day = def.rotation.handover.split(' ')[0].toLowerCase();
      if (Number.isNaN(date.getTime()) || date.getUTCDate() !== d) problems.push(problemAt(src, ['roles', role, 'rotation', 'start'], `"${def.rotation.start}" is not a calendar date`));
      else if (WEEKDAYS[date.getUTCDay()] !== day) {
        problems.push(problemAt(src, ['roles', role, 'rotation', 'start'], `${def.rotation.start} is a ${cap(WEEKDAYS[date.getUTCDay()])}; the rotation hands over on ${cap(day)}, so start must be a ${cap(day)}`));
      }
    }
  }
  for (const [service, def] of Object.entries(doc.services)) known(def.owners, ['services', service, 'owners']);
  doc.overrides.forEach((o, i) => {
    const service = o.role.startsWith('service_owner:') ? o.role.slice('service_owner:'.length) : undefined;
    if (service !== undefined ? !(service in doc.services) : !(o.role in doc.roles)) {
      problems.push(problemAt(src, ['overrides', i, 'role'], `unknown role "${o.role}": define it under roles (or the service under services)`));
    }
    if (Date.parse(o.from) >= Date.parse(o.to)) problems.push(problemAt(src, ['overrides', i, 'to'], `the window ends (${o.to}) before it starts (${o.from})`));
    known(o.people, ['overrides', i, 'people']);
  });
  return problems;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * A lookup built on first use: a Lambda without the rotation file in its bundle still starts,
 * and each lookup reports the missing file instead. Forwards `findPerson` when the built lookup has it.
 */
export function lazyOnCall(build: () => OnCallLookup): OnCallLookup & Pick<RotationFile, 'findPerson'> {
  let built: OnCallLookup | undefined;
  return {
    whoIs: async (role, at) => {
      built ??= build();
      return built.whoIs(role, at);
    },
    findPerson: (match) => {
      try {
        built ??= build();
      } catch {
        return undefined;
      }
      return (built as Partial<Pick<RotationFile, 'findPerson'>>).findPerson?.(match);
    },
  };
}

// ---- PagerDuty ------------------------------------------------------------------------------

/** Which PagerDuty schedules / escalation policies answer for one role. */
export interface PagerDutyRoleMapping {
  /** Schedule ids (`P...`), e.g. the seed's sre-primary. */
  readonly scheduleIds?: readonly string[];
  /** Escalation policy ids, e.g. the seed's sre-trading. */
  readonly escalationPolicyIds?: readonly string[];
  /**
   * Only on-calls at this escalation level of the policies.
   * @default every level returned
   */
  readonly escalationLevel?: number;
}

export interface PagerDutyOnCallOptions {
  /** Roles answered by PagerDuty; any other role goes to the fallback directly. */
  readonly roles: Readonly<Record<string, PagerDutyRoleMapping>>;
  /** The REST API key (a Secrets Manager read in AWS); undefined = not configured. */
  apiKey(): Promise<string | undefined>;
  /** Answers when PagerDuty is not configured or fails (the rotation file). */
  readonly fallback: OnCallLookup;
  /**
   * REST API base URL.
   * @default https://api.pagerduty.com
   */
  readonly baseUrl?: string;
  /**
   * Per request.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

const onCallsResponse = z.looseObject({
  oncalls: z.array(
    z.looseObject({
      user: z.nullish(z.looseObject({ id: z.string(), name: z.optional(z.string()), summary: z.optional(z.string()), email: z.optional(z.string()) })),
      escalation_level: z.optional(z.number()),
      start: z.nullish(z.string()),
      end: z.nullish(z.string()),
    }),
  ),
  more: z.optional(z.boolean()),
  offset: z.optional(z.number()),
  limit: z.optional(z.number()),
});

const MAX_PAGES = 5;

/**
 * PagerDuty's "List all of the on-calls" (GET /oncalls, REST API v2) for the mapped roles.
 * When PagerDuty fails, has no key, or names nobody, the fallback answers and every person's
 * `source` says why (`rotation-file (pagerduty failed: HTTP 503)`).
 */
export class PagerDutyOnCall implements OnCallLookup {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  public constructor(private readonly options: PagerDutyOnCallOptions) {
    this.baseUrl = (options.baseUrl ?? 'https://api.pagerduty.com').replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((...args) => fetch(...args));
  }

  public async whoIs(role: string, at: Date): Promise<Person[]> {
    const mapping = this.options.roles[role];
    if (!mapping) return this.options.fallback.whoIs(role, at);
    let why: string;
    try {
      const key = await this.options.apiKey();
      if (!key) {
        why = 'pagerduty not configured: no API key';
      } else {
        const found = await this.query(mapping, key, at);
        if (found.length > 0) return found;
        why = `pagerduty: nobody on call for ${role}`;
      }
    } catch (err) {
      why = `pagerduty failed: ${err instanceof OnCallError ? err.message : errorText(err)}`;
    }
    const people = await this.options.fallback.whoIs(role, at);
    return people.map((p) => ({ ...p, source: `${p.source ?? 'fallback'} (${why})` }));
  }

  private async query(mapping: PagerDutyRoleMapping, key: string, at: Date): Promise<Person[]> {
    const byId = new Map<string, Person>();
    for (let page = 0, offset = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams();
      for (const id of mapping.scheduleIds ?? []) q.append('schedule_ids[]', id);
      for (const id of mapping.escalationPolicyIds ?? []) q.append('escalation_policy_ids[]', id);
      q.append('include[]', 'users');
      q.set('since', at.toISOString());
      // A one-minute range: on-calls overlapping it are returned, the filter below keeps those covering `at`.
      q.set('until', new Date(at.getTime() + 60_000).toISOString());
      q.set('time_zone', 'UTC');
      q.set('limit', '100');
      if (offset) q.set('offset', String(offset));
      const res = await this.fetchFn(`${this.baseUrl}/oncalls?${q.toString()}`, {
        method: 'GET',
        headers: { Authorization: `Token token=${key}`, Accept: 'application/vnd.pagerduty+json;version=2' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      const text = await res.text();
      if (!res.ok) throw new OnCallError(`GET /oncalls answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, 'GET /oncalls');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new OnCallError('GET /oncalls answered something that is not JSON', 'GET /oncalls');
      }
      const parsed = onCallsResponse.safeParse(body);
      if (!parsed.success) throw new OnCallError(`GET /oncalls answered an unexpected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`, 'GET /oncalls');
      const t = at.getTime();
      for (const oc of parsed.data.oncalls) {
        if (!oc.user) continue;
        if (mapping.escalationLevel !== undefined && oc.escalation_level !== mapping.escalationLevel) continue;
        if (oc.start && Date.parse(oc.start) > t) continue;
        if (oc.end && Date.parse(oc.end) <= t) continue;
        if (!byId.has(oc.user.id)) byId.set(oc.user.id, this.person(oc.user));
      }
      if (!parsed.data.more) break;
      offset = (parsed.data.offset ?? offset) + (parsed.data.limit ?? parsed.data.oncalls.length);
    }
    return [...byId.values()];
  }

  /**
   * A PagerDuty user as a Person. One the rotation file knows (by PagerDuty id or e-mail) keeps the
   * file's name: approvals are told apart by name (the two-person rule), and a role the file
   * answers names them so, so PagerDuty's spelling ("Sato Kenji") would make one person two.
   */
  private person(user: { id: string; name?: string; summary?: string; email?: string }): Person {
    const directory = this.options.fallback as Partial<Pick<RotationFile, 'findPerson'>>;
    const known = directory.findPerson?.({ pagerdutyUserId: user.id, email: user.email });
    return {
      ...(known ?? {}),
      name: known?.name ?? user.name ?? user.summary ?? user.id,
      ...(user.email ? { email: user.email } : {}),
      pagerdutyUserId: user.id,
      source: 'pagerduty',
    };
  }
}

/** `{"oncall_sre": {"scheduleIds": ["P1"], "escalationPolicyIds": ["P2"]}, ...}` (JSON, from configuration). */
export const pagerDutyRolesSchema = z.record(
  z.string().check(z.minLength(1)),
  z.strictObject({
    scheduleIds: z.optional(z.array(z.string().check(z.minLength(1)))),
    escalationPolicyIds: z.optional(z.array(z.string().check(z.minLength(1)))),
    escalationLevel: z.optional(z.int().check(z.positive())),
  }),
);

/** Parses a role mapping given as JSON text. @throws Error naming the variable and the problem */
export function parsePagerDutyRoles(json: string, name: string): Record<string, PagerDutyRoleMapping> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new OnCallError(`${name} is not JSON: expected {"oncall_sre": {"scheduleIds": ["P..."]}, ...}`, name);
  }
  const parsed = pagerDutyRolesSchema.safeParse(raw);
  if (!parsed.success) throw new OnCallError(`${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, name);
  return parsed.data;
}

/** True when `who` names this person: their rotation-file handle (`john.park`), name or e-mail, case-insensitively. */
export function personMatches(person: Person, who: string): boolean {
  const w = who.trim().toLowerCase();
  return w.length > 0 && [person.handle, person.name, person.email].some((x) => x !== undefined && x.toLowerCase() === w);
}

/**
 * The person holding `role` now who `who` names, for decisions made without a signed link (the
 * CLI, the local API, the dashboard): the same check a link makes, that the person was one of
 * those the role reaches.
 * @throws ApprovalError when nobody of that name holds the role, or there is no roster to ask
 */
export async function rosterPerson(oncall: OnCallLookup | undefined, who: string, role: string, at: Date): Promise<Person> {
  if (!oncall) throw new ApprovalError(`no on-call roster is configured, so "${who}" cannot be checked as ${role}; decide with the signed link instead`);
  const holders = await oncall.whoIs(role, at);
  const found = holders.find((p) => personMatches(p, who));
  if (!found) throw new ApprovalError(`"${who}" does not hold the role ${role} now (held by ${holders.map((p) => p.name).join(', ') || 'nobody'})`);
  return found;
}
