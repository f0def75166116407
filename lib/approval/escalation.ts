/**
 * The escalation levels of seed §4.1 as data, and who a level reaches. The windows here are the
 * seed's defaults for reading; the real ones come from each playbook's `escalation` block,
 * compiled into the approval Tasks' TimeoutSeconds.
 */
import type { Channel, Recipient } from '../notify';
import type { OnCallLookup } from './oncall';

export interface EscalationLevel {
  readonly level: 1 | 2 | 3 | 4;
  readonly name: string;
  /** Minutes after detection the level starts (seed §4.1). */
  readonly fromMinutes: number;
  /** Minutes after detection it hands over to the next level; undefined for the last. */
  readonly toMinutes?: number;
  /** Roles the level adds to those of the levels below it. */
  readonly adds: readonly string[];
  /** How the level is reached. */
  readonly channels: readonly Channel[];
  /** Level 4 opens a war room (announced on Slack) and owes an external status-page notice. */
  readonly warRoom: boolean;
}

export const ESCALATION_LEVELS: readonly EscalationLevel[] = [
  { level: 1, name: 'SRE agent', fromMinutes: 0, toMinutes: 5, adds: [], channels: [], warRoom: false },
  { level: 2, name: 'on-call SRE', fromMinutes: 5, toMinutes: 15, adds: ['oncall_sre'], channels: ['slack', 'pagerduty', 'email'], warRoom: false },
  { level: 3, name: 'team lead / senior SRE', fromMinutes: 15, toMinutes: 30, adds: ['team_lead', 'senior_sre'], channels: ['phone', 'slack', 'pagerduty'], warRoom: false },
  { level: 4, name: 'engineering director + CTO', fromMinutes: 30, adds: ['engineering_director', 'cto'], channels: ['slack', 'phone'], warRoom: true },
];

/** Channels that page (a PagerDuty alert, a phone call), as opposed to messages that carry links. */
export const PAGING_CHANNELS: readonly Channel[] = ['pagerduty', 'phone'];

/** The level's definition. @throws RangeError for a level outside 1-4 */
export function escalationLevel(level: number): EscalationLevel {
  const found = ESCALATION_LEVELS.find((l) => l.level === level);
  if (!found) throw new RangeError(`no escalation level ${level} (levels are 1-4, seed §4.1)`);
  return found;
}

/**
 * Roles a level reaches: the step's approvers from level 2 on (the on-call SRE when the step
 * names none), plus team lead / senior SRE from level 3, plus director and CTO at level 4. The
 * climb only adds people; the named approvers stay, because only they can approve.
 */
export function rolesFor(level: number, approvers: readonly string[]): string[] {
  const lvl = escalationLevel(level);
  if (lvl.level === 1) return [];
  const roles = approvers.length > 0 ? [...approvers] : ['oncall_sre'];
  for (const l of ESCALATION_LEVELS) if (l.level >= 3 && l.level <= lvl.level) roles.push(...l.adds);
  return [...new Set(roles)];
}

/** Who a level reaches, and the roles nobody could be found for (with why). */
export interface Recipients {
  readonly people: readonly Recipient[];
  readonly missing: readonly { readonly role: string; readonly reason: string }[];
}

/**
 * The people of `rolesFor(level, approvers)` at `at`. A failing lookup loses only its role, which
 * is reported in `missing`; without a lookup every role is missing.
 */
export async function recipientsFor(level: number, approvers: readonly string[], oncall: OnCallLookup | undefined, at: Date): Promise<Recipients> {
  return recipientsOfRoles(rolesFor(level, approvers), oncall, at);
}

/** The people holding each role at `at` (breaker notifications name roles directly). */
export async function recipientsOfRoles(roles: readonly string[], oncall: OnCallLookup | undefined, at: Date): Promise<Recipients> {
  if (!oncall) return { people: [], missing: roles.map((role) => ({ role, reason: 'no on-call lookup configured' })) };
  const people: Recipient[] = [];
  const missing: { role: string; reason: string }[] = [];
  const found = await Promise.allSettled(roles.map((role) => oncall.whoIs(role, at)));
  found.forEach((r, i) => {
    const role = roles[i];
    if (r.status === 'rejected') missing.push({ role, reason: `on-call lookup failed: ${(r.reason as Error).message}` });
    else if (r.value.length === 0) missing.push({ role, reason: 'nobody holds this role now' });
    else for (const person of r.value) people.push({ role, person });
  });
  return { people, missing };
}
