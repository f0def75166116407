/**
 * What the core operations send and to whom (seed §3.2, §4.1): approval requests, escalations,
 * hand-overs, resolutions and breaker changes, each outcome recorded on the incident timeline.
 * Notification trouble never fails the operation that sends it: it is recorded and left there.
 *
 * Who sends what while an approval climbs: `escalate('approval', N)` pages level N (PagerDuty and
 * phone where the level has them; at level 4 the war-room announcement on Slack and the
 * status-page notice is drafted at level 4) with why it climbed; `requestStepApproval(N)` then sends the request with the
 * personal approve/reject links on the level's message channels (Slack, e-mail). At level 2 no
 * escalation precedes the request, so the request pages too.
 */
import type { ApprovalRecord } from '../approval/store';
import { escalationLevel, PAGING_CHANNELS, recipientsFor, recipientsOfRoles, rolesFor, type Recipients } from '../approval/escalation';
import { pagerDutySeverity, type Channel, type ChannelOutcome, type Notification, type Recipient } from '../notify';
import { serviceOwnerRole } from '../approval/oncall';
import type { BreakerChange } from '../breaker';
import { appendEvents, getTimeline, SEVERITIES, type TimelineEvent } from '../incident';
import type { CoreDeps } from './core/deps';
import { STATUS_NOTICE_ACTION } from '../notify/status-page';
import { readIncidentWithSteps } from '../incident';
import type { IncidentRef } from './payload';

/**
 * Sends `n` and records one timeline event per outcome (and one per role nobody could be found
 * for) on its incident. `record: false` for a notification that belongs to no incident (a
 * breaker tripped by data collection): sent, with no timeline to write to.
 */
export async function notifyAndRecord(deps: CoreDeps, n: Notification, options: { step?: string; missing?: Recipients['missing']; record?: boolean } = {}): Promise<ChannelOutcome[]> {
  if (!deps.notifier) return [];
  let outcomes: ChannelOutcome[];
  try {
    outcomes = await deps.notifier.send(n);
  } catch (err) {
    // A notifier never rejects; this guards a custom one that does.
    outcomes = n.channels.map((channel) => ({ channel, ok: false, detail: `notifier failed: ${(err as Error).message}` }));
  }
  if (options.record !== false) await recordOutcomes(deps, n, outcomes, options);
  return outcomes;
}

/** The timeline events of a notification's outcomes. Never throws: a lost record must not fail the step. */
export async function recordOutcomes(deps: CoreDeps, n: Notification, outcomes: readonly ChannelOutcome[], options: { step?: string; missing?: Recipients['missing'] } = {}): Promise<void> {
  const at = deps.now();
  const label = n.kind.replace(/_/g, ' ');
  const step = options.step ? { step: options.step } : {};
  try {
    // One event per person missing and per channel, written in one batch.
    await appendEvents(deps.doc, deps.tables, n.incidentId, [
      ...(options.missing ?? []).map((m) => ({
        at,
        type: 'notification_failed',
        ...step,
        summary: `${label}: nobody to notify as ${m.role} (${m.reason})`,
        data: { channel: 'oncall', role: m.role, detail: m.reason, kind: n.kind, level: n.level ?? null },
      })),
      ...outcomes.map((o) => ({
        at,
        type: o.ok ? 'notification_sent' : 'notification_failed',
        ...step,
        summary: `${label} via ${o.channel}${o.person ? ` to ${o.person}` : ''}: ${o.detail}`,
        data: {
          channel: o.channel,
          person: o.person ?? null,
          ok: o.ok,
          detail: o.detail,
          kind: n.kind,
          level: n.level ?? null,
          dedupKey: o.dedupKey ?? null,
          action: o.action ?? null,
        },
      })),
    ]);
  } catch {
    /* the incident may be gone (tests) or DynamoDB throttled: the notification itself went out */
  }
}

async function withLinks(deps: CoreDeps, rec: ApprovalRecord, people: readonly Recipient[]): Promise<Recipient[]> {
  return Promise.all(
    people.map(async (r) => {
      if (!deps.approvalLinks || !rec.approvers.includes(r.role)) return r;
      try {
        const links = await deps.approvalLinks(rec, r.person, r.role);
        return links ? { ...r, links } : r;
      } catch {
        return r;
      }
    }),
  );
}

/**
 * What the step is based on: the alarm, earlier steps' summaries and the step's condition with its
 * values, all as stored (the incident, its step records, its timeline), never as a payload claims
 * them: a forged approval request or escalation must not show approvers made-up evidence.
 */
async function evidence(deps: CoreDeps, incident: IncidentRef, step: string | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (incident.alarmName) out.alarm = `${incident.alarmName}${incident.alarmReason ? ` — ${incident.alarmReason}` : ''}`;
  try {
    const stored = await readIncidentWithSteps(deps.doc, deps.tables, incident.id);
    for (const [name, record] of Object.entries(stored?.steps ?? {})) if (record.summary) out[name] = record.summary;
  } catch {
    /* evidence is best effort */
  }
  if (step) {
    let timeline: TimelineEvent[] = [];
    try {
      timeline = await getTimeline(deps.doc, deps.tables, incident.id);
    } catch {
      /* evidence is best effort */
    }
    const cond = timeline.filter((e) => e.type === 'condition_evaluated' && e.step === step).at(-1);
    if (cond) {
      const values = (cond.data?.values ?? {}) as Record<string, unknown>;
      const shown = Object.entries(values).map(([k, v]) => `${k} = ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      out.condition = `${cond.summary}${shown.length ? ` [${shown.join(', ')}]` : ''}`;
    }
  }
  return out;
}

/** The worse of two severities or risks (lib/incident's SEVERITIES ladder; `LOW-MEDIUM` counts as its upper end). */
function worse(a: string, b: string): string {
  const rank = (s: string) => (SEVERITIES as readonly string[]).indexOf(s.split('-').at(-1)!.toUpperCase());
  return rank(b) > rank(a) ? b.split('-').at(-1)! : a;
}

const levelName = (level: number) => `L${level} (${escalationLevel(level).name})`;

export interface ApprovalRequestInput {
  /** The incident as stored (lib/runtime/core/common refOf). */
  readonly incident: IncidentRef;
  readonly step: string;
  readonly action: string;
  readonly level: number;
  readonly risk: string;
  readonly note?: string | null;
  readonly message: string;
  readonly record: ApprovalRecord;
  /** The step's parameters as resolved (what the approval binds). */
  readonly params?: Readonly<Record<string, unknown>>;
  /** The investigation's lines for approvers (hypotheses, trend, this step's risk, similar incidents). */
  readonly analysis?: readonly string[];
}

/** `requestStepApproval`: the request, with each approver's links, to the level's recipients. */
export async function notifyApprovalRequest(deps: CoreDeps, input: ApprovalRequestInput): Promise<void> {
  if (!deps.notifier) return;
  try {
    const { incident, record: rec } = input;
    const now = deps.now();
    const lvl = escalationLevel(input.level);
    const channels = lvl.channels.filter((c) => input.level === 2 || !PAGING_CHANNELS.includes(c));
    const found = await recipientsFor(input.level, rec.approvers, deps.oncall, now);
    const recipients = await withLinks(deps, rec, found.people);
    const message = [
      input.message.trim(),
      '',
      `Step ${input.step} runs ${input.action} on ${incident.service} (risk ${input.risk}).${input.note ? ` Note: ${input.note}` : ''}`,
      ...(input.params && Object.keys(input.params).length > 0 ? [`Parameters: ${Object.entries(input.params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`] : []),
      ...(input.analysis && input.analysis.length > 0 ? ['', '— 调查 / investigation —', ...input.analysis] : []),
      `Needs ${rec.minApprovals} approval(s) from: ${rec.approvers.join(' + ')}. Unanswered by ${rec.expiresAt}, it ${input.level < 4 ? `escalates to ${levelName(input.level + 1)}` : 'expires and the step does not run'}.`,
    ].join('\n');
    await notifyAndRecord(
      deps,
      {
        kind: 'approval_request',
        incidentId: incident.id,
        title: input.action === STATUS_NOTICE_ACTION ? `Public status-page notice to approve: ${incident.id} (${incident.service}) — ${levelName(input.level)}` : `Approval needed: ${input.step} (${input.action}) on ${incident.service}, risk ${input.risk} — ${levelName(input.level)}`,
        message,
        // A pending approval is as urgent as the worse of the incident and the step it holds up.
        severity: pagerDutySeverity(worse(incident.severity, input.risk)),
        channels,
        recipients,
        service: incident.service,
        playbook: incident.playbook,
        step: input.step,
        level: input.level,
        risk: input.risk,
        details: { approval_id: rec.approvalId, evidence: await evidence(deps, incident, input.step) },
        at: now,
      },
      { step: input.step, missing: found.missing },
    );
  } catch {
    /* never fail the approval request over a notification */
  }
}

/** `escalate('approval')`: pages the next level (the war room at level 4; the status-page notice is lib/runtime/status-notice). */
export async function notifyApprovalEscalated(deps: CoreDeps, incident: IncidentRef, step: string, level: number, pending: ApprovalRecord | undefined): Promise<void> {
  if (!deps.notifier) return;
  try {
    const now = deps.now();
    const lvl = escalationLevel(level);
    const approvers = pending?.approvers ?? [];
    const found = await recipientsFor(level, approvers, deps.oncall, now);
    const channels = lvl.channels.filter((c) => PAGING_CHANNELS.includes(c) || (lvl.warRoom && c === 'slack'));
    const asked = pending ? `asked ${levelName(pending.level)} at ${pending.createdAt}, no decision by ${pending.expiresAt}` : 'no pending approval record found';
    const message = [
      `The approval of ${step} on ${incident.service} is unanswered (${asked}).`,
      pending?.message ? `Request: ${pending.message.trim()}` : '',
      `Approvers: ${approvers.join(' + ') || 'unknown'}. Now escalated to ${levelName(level)}.`,
      lvl.warRoom ? 'War room opened: coordinate here; decide on emergency measures (seed §4.1 level 4). A public status-page notice has been drafted for the engineering director or the CTO to approve.' : '',
    ]
      .filter(Boolean)
      .join('\n');
    await notifyAndRecord(
      deps,
      {
        kind: lvl.warRoom ? 'war_room' : 'approval_escalated',
        incidentId: incident.id,
        title: `${lvl.warRoom ? 'War room: ' : ''}${incident.id} escalated to ${levelName(level)}: approval of ${step} unanswered`,
        message,
        // A climb means nobody answered: page as an error at least.
        severity: pagerDutySeverity(incident.severity) === 'critical' ? 'critical' : 'error',
        channels,
        recipients: found.people,
        service: incident.service,
        playbook: incident.playbook,
        step,
        level,
        details: { evidence: await evidence(deps, incident, step) },
        at: now,
      },
      { step, missing: found.missing },
    );
  } catch {
    /* never fail the escalation over a notification */
  }
}

/** `escalate('incident')`: the playbook did not recover the service; page the on-call SRE. */
export async function notifyIncidentEscalated(deps: CoreDeps, incident: IncidentRef, playbook: string | undefined, level = 2): Promise<void> {
  if (!deps.notifier) return;
  try {
    const now = deps.now();
    // Level 2 hands over to the on-call SRE; levels 3 and 4 add people (seed §4.1), never drop them.
    const found = await recipientsOfRoles(rolesFor(level, []), deps.oncall, now);
    if (level > 2) {
      const lvl = escalationLevel(level);
      await notifyAndRecord(
        deps,
        {
          kind: 'incident_escalated',
          incidentId: incident.id,
          title: `${incident.service}: still not recovered — escalated to level ${level} (${lvl.name})`,
          message: `${incident.id} (${incident.severity}) is still not recovered. Level ${level}: ${lvl.name}.${lvl.warRoom ? ' Open the war room; decide on emergency measures. A public status-page notice has been drafted for approval.' : ''}`,
          severity: pagerDutySeverity(incident.severity),
          channels: [...lvl.channels],
          // Its own alert per level: the incident's open alert would swallow a page with its key.
          dedupKey: `${incident.id}/incident/L${level}`,
          recipients: found.people,
          service: incident.service,
          playbook: playbook ?? incident.playbook,
          level,
          at: now,
        },
        { missing: found.missing },
      );
      return;
    }
    await notifyAndRecord(
      deps,
      {
        kind: 'incident_escalated',
        incidentId: incident.id,
        title: `${incident.service}: not recovered by playbook ${playbook ?? incident.playbook}; handed to the on-call SRE`,
        message: `The agent could not recover ${incident.service} (${incident.severity}). The incident is ESCALATED: take over from the timeline and the evidence below.`,
        severity: pagerDutySeverity(incident.severity),
        channels: ['pagerduty', 'slack'],
        recipients: found.people,
        service: incident.service,
        playbook: playbook ?? incident.playbook,
        details: { evidence: await evidence(deps, incident, undefined) },
        at: now,
      },
      { missing: found.missing },
    );
  } catch {
    /* recorded where possible; never fail the hand-over */
  }
}

/**
 * `recordExecutionEnded`: the playbook's execution ended before its playbook did (failed, timed
 * out, stopped by someone); page the on-call SRE, who owns the incident now.
 */
export async function notifyExecutionEnded(deps: CoreDeps, incident: IncidentRef, status: string, why: string): Promise<void> {
  if (!deps.notifier) return;
  try {
    const now = deps.now();
    const found = await recipientsOfRoles(rolesFor(2, []), deps.oncall, now);
    await notifyAndRecord(
      deps,
      {
        kind: 'incident_escalated',
        incidentId: incident.id,
        title: `${incident.service}: the agent stopped working on ${incident.id} (${why})`,
        message: `The execution of playbook ${incident.playbook} ended before the playbook did. The incident is ${status}: take over from the timeline and the evidence below.`,
        severity: pagerDutySeverity(incident.severity) === 'critical' ? 'critical' : 'error',
        channels: ['pagerduty', 'slack'],
        dedupKey: `${incident.id}/execution-ended`,
        recipients: found.people,
        service: incident.service,
        playbook: incident.playbook,
        details: { evidence: await evidence(deps, incident, undefined) },
        at: now,
      },
      { missing: found.missing },
    );
  } catch {
    /* the incident's status is written either way */
  }
}

/** `resolveIncident`: resolves every PagerDuty alert this incident triggered (same dedup keys). */
export async function notifyIncidentResolved(deps: CoreDeps, incident: IncidentRef, reason: string): Promise<void> {
  if (!deps.notifier) return;
  try {
    const timeline = await getTimeline(deps.doc, deps.tables, incident.id);
    const triggered = new Map<string, Channel>();
    for (const e of timeline) {
      const d = e.data as { channel?: string; dedupKey?: string | null; action?: string | null } | undefined;
      if (e.type === 'notification_sent' && d?.dedupKey && d.action === 'trigger' && (d.channel === 'pagerduty' || d.channel === 'phone')) triggered.set(d.dedupKey, d.channel);
    }
    await Promise.all(
      [...triggered].map(([dedupKey, channel]) =>
        notifyAndRecord(deps, {
          kind: 'incident_resolved',
          incidentId: incident.id,
          title: `${incident.service}: resolved (${reason})`,
          message: `Resolved: ${reason}.`,
          severity: 'info',
          channels: [channel],
          action: 'resolve',
          dedupKey,
          service: incident.service,
          playbook: incident.playbook,
          at: deps.now(),
        }),
      ),
    );
  } catch {
    /* the incident is resolved either way */
  }
}

const breakerKey = (c: BreakerChange) => (c.scope === 'global' ? 'sre-agent/breaker/global' : `sre-agent/breaker/${c.service}`);

/**
 * A breaker change (seed §3.2): the global breaker tells the on-call SRE and the team lead, a
 * service breaker the service owner. Opening pages (global) or messages (service); closing
 * messages and resolves the breaker's PagerDuty alert.
 */
export async function notifyBreakerChange(deps: CoreDeps, incident: IncidentRef | undefined, c: BreakerChange): Promise<void> {
  if (!deps.notifier) return;
  try {
    const now = deps.now();
    const service = c.service ?? incident?.service ?? 'platform';
    const roles = c.notify.map((r) => (r === 'service_owner' ? serviceOwnerRole(service) : r));
    const found = await recipientsOfRoles(roles, deps.oncall, now);
    const opening = c.to === 'OPEN';
    const what = c.scope === 'global' ? 'global breaker' : `breaker of ${service}`;
    const consequence =
      c.scope === 'global'
        ? opening
          ? 'All self-healing is paused: diagnose-only mode (read-only steps, tickets and notifications still run).'
          : 'Self-healing resumes.'
        : opening
          ? `Self-healing of ${service} is stopped; ${incident ? `its incident's severity (the ticket's priority) is now ${incident.severity}` : 'raise the priority of its ticket'}.`
          : `Self-healing of ${service} resumes.`;
    const channels: Channel[] = opening ? (c.scope === 'global' ? ['slack', 'pagerduty', 'email'] : ['slack', 'email']) : ['slack', 'email'];
    // A change no incident caused is named by its breaker, and recorded on no timeline.
    const base = { incidentId: incident?.id ?? breakerKey(c), service, playbook: incident?.playbook, at: now };
    const record = incident !== undefined;
    await notifyAndRecord(
      deps,
      {
        ...base,
        kind: 'breaker_changed',
        title: `${what} ${c.from} → ${c.to} (${c.cause.replace(/_/g, ' ')})`,
        message: `${c.reason}\n${consequence}`,
        severity: opening ? (c.scope === 'global' ? 'error' : 'warning') : 'info',
        channels,
        recipients: found.people,
        dedupKey: breakerKey(c),
        details: { scope: c.scope, cause: c.cause, at: c.at },
      },
      { missing: found.missing, record },
    );
    if (!opening && c.scope === 'global' && deps.notifier.configured.includes('pagerduty')) {
      await notifyAndRecord(deps, { ...base, kind: 'breaker_changed', title: `${what} closed`, message: c.reason, severity: 'info', channels: ['pagerduty'], action: 'resolve', dedupKey: breakerKey(c) }, { record });
    }
  } catch {
    /* the breaker changed either way */
  }
}
