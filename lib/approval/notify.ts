/**
 * Notification channels: PagerDuty (Events API v2), phone (a PagerDuty high-urgency page),
 * Slack (incoming webhook), e-mail and SNS (one SNS topic). Each channel is isolated: one
 * failing never stops the others, and every outcome comes back, including "not configured".
 */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Person } from './oncall';
import { describeSecret, readSecret, type Secret, type SecretReader } from './secrets';

/** Notification channels, as actions see them (`ctx.targets.notify`). */
export interface NotifyOps {
  send(channel: string, message: { severity: string; title: string; text: string; incidentId: string }): Promise<{ ok: boolean; detail?: string }>;
}

export const CHANNELS = ['pagerduty', 'phone', 'slack', 'email', 'sns'] as const;
export type Channel = (typeof CHANNELS)[number];

/** PagerDuty's severities (Events API v2 `payload.severity`). */
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
/** PagerDuty's `event_action`. */
export type EventAction = 'trigger' | 'acknowledge' | 'resolve';

/** One person's approve/reject links (signed per person and role by lib/approval/links). */
export interface ApprovalLinks {
  readonly approveUrl: string;
  readonly rejectUrl: string;
}

/** Someone a notification is for, in one role. */
export interface Recipient {
  readonly role: string;
  readonly person: Person;
  /** Only for the step's approver roles, when links are configured. */
  readonly links?: ApprovalLinks;
}

export interface Notification {
  /** What happened: approval_request, approval_escalated, incident_escalated, incident_resolved, breaker_changed, alert... */
  readonly kind: string;
  readonly incidentId: string;
  /** One line. */
  readonly title: string;
  /** The body: the rendered approval message, evidence, what to do. */
  readonly message: string;
  readonly severity: PagerDutySeverity;
  readonly channels: readonly Channel[];
  /** @default [] (the channel's own audience: PagerDuty's escalation policy, the Slack channel, the topic's subscribers) */
  readonly recipients?: readonly Recipient[];
  readonly service?: string;
  readonly playbook?: string;
  readonly step?: string;
  readonly level?: number;
  readonly risk?: string;
  /** PagerDuty `event_action` (pagerduty and phone channels). @default 'trigger' */
  readonly action?: EventAction;
  /** PagerDuty `dedup_key`. @default incidentId (phone: `<incidentId>/phone/L<level>`, see phoneDedupKey) */
  readonly dedupKey?: string;
  /** Structured evidence: PagerDuty `custom_details`, listed in Slack and e-mail text. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Links for everyone (dashboard, runbook); never the personal approval links. */
  readonly links?: readonly { readonly href: string; readonly text?: string }[];
  /** @default now */
  readonly at?: Date;
}

export interface ChannelOutcome {
  readonly channel: Channel;
  readonly ok: boolean;
  /** What the channel answered, or why nothing was sent (`not configured`). */
  readonly detail: string;
  /** Who it was addressed to (names), when known. */
  readonly person?: string;
  /** The PagerDuty dedup key used (pagerduty and phone). */
  readonly dedupKey?: string;
  readonly action?: EventAction;
}

export interface Notifier {
  /** Sends on every channel of `n` at once; never rejects. */
  send(n: Notification): Promise<ChannelOutcome[]>;
  /** Channels with configuration (their credentials may still be missing at send time). */
  readonly configured: readonly Channel[];
}

export interface NotifierConfig {
  /** Events API v2 integration of the PagerDuty service (seed: sre-trading). */
  readonly pagerduty?: {
    readonly routingKey: Secret;
    /** @default https://events.pagerduty.com */
    readonly eventsUrl?: string;
  };
  /**
   * Phone calls are PagerDuty pages with severity `critical`: on a service whose urgency rule is
   * "based on alert severity" (or always high), critical makes a high-urgency incident, which
   * calls the on-call's phone per their notification rules. Give a separate integration here
   * to page another escalation policy (e.g. director + CTO).
   * @default the pagerduty integration
   */
  readonly phone?: {
    readonly routingKey: Secret;
    /** @default https://events.pagerduty.com */
    readonly eventsUrl?: string;
  };
  /** Slack incoming webhook (posts into one channel: the SRE channel, or the war room). */
  readonly slack?: { readonly webhookUrl: Secret };
  /** SNS topic for the `sns` channel (send_alert). */
  readonly sns?: { readonly topicArn: string };
  /**
   * SNS topic for e-mail. Personal messages carry the message attributes `audience=personal` and
   * `recipient_email`; give each e-mail subscription the filter policy
   * `{"$or":[{"audience":["all"]},{"recipient_email":["<their address>"]}]}` so that nobody
   * receives another person's approval links.
   * @default the sns topic
   */
  readonly email?: { readonly topicArn: string };
  /**
   * Per HTTP request.
   * @default 5000
   */
  readonly timeoutMs?: number;
  /**
   * PagerDuty asks senders to retry on 429 and 5xx: extra attempts after the first.
   * @default 1
   */
  readonly pagerdutyRetries?: number;
  /** @default 500 (doubles per retry) */
  readonly retryDelayMs?: number;
}

export interface NotifierDeps {
  /** Reads `{ secretId }` credentials (Secrets Manager in AWS). */
  readonly secrets?: SecretReader;
  /** Required for the sns and email channels. */
  readonly sns?: Pick<SNSClient, 'send'>;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  now?(): Date;
}

const DEFAULT_EVENTS_URL = 'https://events.pagerduty.com';
/** Events API v2: `payload.summary` is at most 1024 characters. */
const PD_SUMMARY_MAX = 1024;
/** SNS: "Subject ... less than 100 characters long", no line breaks or control characters. */
const SNS_SUBJECT_MAX = 99;

/** sre-agent severities (incident severity, send_alert) → PagerDuty severities. */
export function pagerDutySeverity(severity: string): PagerDutySeverity {
  switch (severity.toUpperCase()) {
    case 'CRITICAL':
      return 'critical';
    case 'HIGH':
      return 'error';
    case 'MEDIUM':
      return 'warning';
    default:
      return 'info';
  }
}

/**
 * The dedup key of a phone page: `dedupKey` when given (acknowledge/resolve of a recorded page),
 * else its own alert per level (`INC-.../phone/L3`), so that the incident's open PagerDuty alert
 * does not swallow the call.
 */
export function phoneDedupKey(n: Pick<Notification, 'incidentId' | 'dedupKey' | 'level'>): string {
  return n.dedupKey ?? `${n.incidentId}/phone${n.level ? `/L${n.level}` : ''}`;
}

const truncate = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const names = (rs: readonly Recipient[]): string | undefined => [...new Set(rs.map((r) => r.person.name))].join(', ') || undefined;

/** A channel that cannot send because its configuration or credential is missing. */
class ChannelNotConfiguredError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ChannelNotConfiguredError';
  }
}

/** An error as one line: fetch's "fetch failed" carries the reason (ECONNREFUSED...) in `cause`. */
export function errorText(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}${cause && !e.message.includes(cause) ? ` (${cause})` : ''}`;
}

/** Builds a notifier. Channels missing from `config` answer `not configured`; none is ever a silent success. */
export function createNotifier(config: NotifierConfig, deps: NotifierDeps = {}): Notifier {
  const fetchFn = deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const now = deps.now ?? (() => new Date());
  const timeoutMs = config.timeoutMs ?? 5000;
  const phone = config.phone ?? config.pagerduty;
  const emailTopic = config.email?.topicArn ?? config.sns?.topicArn;
  const configured = CHANNELS.filter((c) =>
    c === 'pagerduty' ? !!config.pagerduty : c === 'phone' ? !!phone : c === 'slack' ? !!config.slack : c === 'sns' ? !!config.sns : !!emailTopic,
  );

  async function secret(s: Secret): Promise<string> {
    const value = await readSecret(s, deps.secrets);
    if (!value) throw new ChannelNotConfiguredError(`not configured (${describeSecret(s)} is missing or empty)`);
    return value;
  }

  async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
    const res = await fetchFn(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  }

  /** PagerDuty Events API v2: POST {eventsUrl}/v2/enqueue, 202 on success; retries 429/5xx/network errors. */
  async function pagerDutyEvent(channel: 'pagerduty' | 'phone', n: Notification): Promise<ChannelOutcome[]> {
    const cfg = channel === 'phone' ? phone : config.pagerduty;
    if (!cfg) return [{ channel, ok: false, detail: 'not configured' }];
    const routingKey = await secret(cfg.routingKey);
    const action = n.action ?? 'trigger';
    const dedupKey = channel === 'phone' ? phoneDedupKey(n) : (n.dedupKey ?? n.incidentId);
    const body = action === 'trigger' ? pagerDutyTrigger(channel, n, routingKey, dedupKey, now()) : { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
    const url = `${(cfg.eventsUrl ?? DEFAULT_EVENTS_URL).replace(/\/+$/, '')}/v2/enqueue`;
    const attempts = 1 + (config.pagerdutyRetries ?? 1);
    let last = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, (config.retryDelayMs ?? 500) * 2 ** (i - 1)));
      try {
        const res = await post(url, body);
        if (res.status >= 200 && res.status < 300) {
          return [{ channel, ok: true, detail: `${action} accepted (HTTP ${res.status})`, person: names(n.recipients ?? []), dedupKey, action }];
        }
        last = `HTTP ${res.status}${res.text ? `: ${truncate(res.text, 200)}` : ''}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (err) {
        last = errorText(err);
      }
    }
    return [{ channel, ok: false, detail: `${action} failed: ${last}`, person: names(n.recipients ?? []), dedupKey, action }];
  }

  async function slack(n: Notification): Promise<ChannelOutcome[]> {
    if (!config.slack) return [{ channel: 'slack', ok: false, detail: 'not configured' }];
    const url = await secret(config.slack.webhookUrl);
    const res = await post(url, slackMessage(n));
    const person = names(n.recipients ?? []);
    // Incoming webhooks answer 200 "ok"; errors are 4xx/5xx with a short text (invalid_payload, no_service...).
    return res.status === 200 ? [{ channel: 'slack', ok: true, detail: 'posted (HTTP 200)', person }] : [{ channel: 'slack', ok: false, detail: `HTTP ${res.status}${res.text ? `: ${truncate(res.text, 200)}` : ''}`, person }];
  }

  async function publish(channel: 'email' | 'sns', topicArn: string | undefined, n: Notification): Promise<ChannelOutcome[]> {
    if (!topicArn) return [{ channel, ok: false, detail: 'not configured' }];
    if (!deps.sns) return [{ channel, ok: false, detail: 'not configured (no SNS client)' }];
    const sns = deps.sns;
    const recipients = n.recipients ?? [];
    // E-mail addresses people: one message each (with only their own links); without recipients, one to all.
    const personal = channel === 'email' && recipients.length > 0;
    const send = async (subject: string, message: string, attributes: Record<string, string>) => {
      const out = await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: snsSubject(subject),
          Message: message,
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v } satisfies MessageAttributeValue])),
        }),
      );
      return `published (MessageId ${out.MessageId ?? '?'})`;
    };
    const base = { incident_id: n.incidentId, kind: n.kind };
    if (!personal) {
      // A broadcast never carries personal approval links.
      return [{ channel, ok: true, detail: await send(n.title, plainText(n, [], recipients), { ...base, audience: 'all' }), person: names(recipients) }];
    }
    // One message per person, carrying only their own links.
    const byPerson = new Map<string, Recipient[]>();
    for (const r of recipients) {
      const key = r.person.email ?? `name:${r.person.name}`;
      byPerson.set(key, [...(byPerson.get(key) ?? []), r]);
    }
    const groups = [...byPerson.values()];
    const results = await Promise.allSettled(
      groups.map(async (rs): Promise<ChannelOutcome> => {
        const person = rs[0].person;
        if (!person.email) return { channel, ok: false, detail: 'no e-mail address', person: person.name };
        const roles = rs.map((r) => r.role).join(',');
        return { channel, ok: true, detail: await send(n.title, plainText(n, rs, recipients), { ...base, audience: 'personal', recipient_email: person.email, roles }), person: person.name };
      }),
    );
    return results.map((r, i) => (r.status === 'fulfilled' ? r.value : { channel, ok: false, detail: errorText(r.reason), person: groups[i][0].person.name }));
  }

  const senders: Record<Channel, (n: Notification) => Promise<ChannelOutcome[]>> = {
    pagerduty: (n) => pagerDutyEvent('pagerduty', n),
    phone: (n) => pagerDutyEvent('phone', n),
    slack,
    email: (n) => publish('email', emailTopic, n),
    sns: (n) => publish('sns', config.sns?.topicArn, n),
  };

  return {
    configured,
    async send(n) {
      const channels = [...new Set(n.channels)];
      const settled = await Promise.allSettled(channels.map((c) => senders[c](n)));
      return settled.flatMap((r, i): ChannelOutcome[] => {
        if (r.status === 'fulfilled') return r.value;
        return [{ channel: channels[i], ok: false, detail: r.reason instanceof ChannelNotConfiguredError ? r.reason.message : errorText(r.reason) }];
      });
    },
  };
}

/** The Events API v2 trigger body (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). */
function pagerDutyTrigger(channel: 'pagerduty' | 'phone', n: Notification, routingKey: string, dedupKey: string, now: Date): Record<string, unknown> {
  const recipients = n.recipients ?? [];
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: 'sre-agent',
    payload: {
      summary: truncate(`${n.incidentId}: ${n.title}`, PD_SUMMARY_MAX),
      source: 'sre-agent',
      severity: channel === 'phone' ? 'critical' : n.severity,
      timestamp: (n.at ?? now).toISOString(),
      ...(n.service ? { component: n.service } : {}),
      ...(n.playbook ? { group: n.playbook } : {}),
      class: n.kind,
      custom_details: {
        incident: n.incidentId,
        ...(n.step ? { step: n.step } : {}),
        ...(n.level ? { level: n.level } : {}),
        ...(n.risk ? { risk: n.risk } : {}),
        message: n.message,
        ...(recipients.length ? { recipients: recipients.map((r) => `${r.person.name} (${r.role})`) } : {}),
        ...(n.details ?? {}),
      },
    },
    ...(n.links?.length ? { links: n.links.map((l) => ({ href: l.href, ...(l.text ? { text: l.text } : {}) })) } : {}),
  };
}

/** Slack mrkdwn needs &, < and > escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const who = (p: Person) => (p.slack ? `<@${p.slack}>` : esc(p.name));

/** Block Kit: header, the facts as fields, the message, and where to decide (never the personal links). */
export function slackMessage(n: Notification): { text: string; blocks: Record<string, unknown>[] } {
  const recipients = n.recipients ?? [];
  const to = recipients.length ? `\n\n*To:* ${[...new Map(recipients.map((r) => [`${r.person.name}/${r.role}`, `${who(r.person)} (${esc(r.role)})`])).values()].join(', ')}` : '';
  const details = n.details && Object.keys(n.details).length ? `\n\n${esc(detailLines(n.details).join('\n'))}` : '';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(n.title, 150), emoji: true } },
    {
      type: 'section',
      fields: [
        ['Incident', n.incidentId],
        ['Severity', n.severity],
        ['Service', n.service ?? '-'],
        ['Step', n.step ?? '-'],
        ['Level', n.level ? `L${n.level}` : '-'],
      ].map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${esc(v)}` })),
    },
    // Section text is at most 3000 characters.
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`${esc(n.message)}${details}${to}`, 3000) } },
  ];
  // No approve/reject buttons: a Slack channel is shared, and a personal signed link there would
  // let anyone in it decide as someone else. Links go to each person by e-mail only.
  if (recipients.some((r) => r.links)) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Approve or reject with the personal link sent to you by e-mail, or `npx sre-agent approve|reject <approval-id>`.' }] });
  }
  return { text: truncate(`${n.incidentId}: ${n.title}`, 3000), blocks };
}

function detailLines(details: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(details).flatMap(([k, v]) => {
    if (v === undefined || v === null) return [];
    if (typeof v === 'object' && !Array.isArray(v)) return [`${k}:`, ...Object.entries(v as Record<string, unknown>).map(([kk, vv]) => `  - ${kk}: ${typeof vv === 'string' ? vv : JSON.stringify(vv)}`)];
    return [`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`];
  });
}

/** The plain-text e-mail/SNS body: the message, the facts, and the links of `linksOf` (one person's, or everyone's). */
export function plainText(n: Notification, linksOf: readonly Recipient[], all: readonly Recipient[] = linksOf): string {
  const facts = [
    `Incident: ${n.incidentId}`,
    `Severity: ${n.severity}`,
    n.service && `Service: ${n.service}`,
    n.playbook && `Playbook: ${n.playbook}`,
    n.step && `Step: ${n.step}`,
    n.level && `Level: L${n.level}`,
    n.risk && `Risk: ${n.risk}`,
  ].filter(Boolean);
  const lines = [n.title, '', n.message.trim(), '', ...facts];
  if (all.length) lines.push(`To: ${[...new Set(all.map((r) => `${r.person.name} (${r.role})`))].join(', ')}`);
  if (n.details && Object.keys(n.details).length) lines.push('', ...detailLines(n.details));
  const personal = linksOf.filter((r) => r.links);
  if (personal.length) {
    lines.push('', 'Decide (each link opens a confirmation page; nothing happens until you confirm there):');
    for (const r of personal) lines.push(`  Approve as ${r.person.name} (${r.role}): ${r.links!.approveUrl}`, `  Reject as ${r.person.name} (${r.role}): ${r.links!.rejectUrl}`);
  }
  if (n.links?.length) lines.push('', ...n.links.map((l) => `${l.text ?? 'Link'}: ${l.href}`));
  return lines.join('\n');
}

/** An SNS Subject: one line, no control characters, under 100 characters. */
export function snsSubject(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return truncate(clean || 'sre-agent notification', SNS_SUBJECT_MAX);
}

/** Adapts a notifier to the `notify` target of send_alert (lib/actions/ports.ts). */
export function notifyOpsFor(
  notifier: Notifier,
  options: {
    /** Called with every outcome (the wiring records them on the incident timeline). */
    onOutcomes?(n: Notification, outcomes: readonly ChannelOutcome[]): Promise<void>;
    now?(): Date;
  } = {},
): NotifyOps {
  return {
    async send(channel, m) {
      if (!(CHANNELS as readonly string[]).includes(channel)) return { ok: false, detail: `unknown channel "${channel}" (known: ${CHANNELS.join(', ')})` };
      const n: Notification = {
        kind: 'alert',
        incidentId: m.incidentId,
        title: m.title,
        message: m.text,
        severity: pagerDutySeverity(m.severity),
        channels: [channel as Channel],
        at: options.now?.() ?? new Date(),
      };
      const outcomes = await notifier.send(n);
      await options.onOutcomes?.(n, outcomes).catch(() => undefined);
      return { ok: outcomes.length > 0 && outcomes.every((o) => o.ok), detail: outcomes.map((o) => o.detail).join('; ') };
    },
  };
}

/**
 * Local configuration from the environment (`npm start`): only what is set is configured.
 * SRE_AGENT_PAGERDUTY_ROUTING_KEY, SRE_AGENT_PAGERDUTY_EVENTS_URL, SRE_AGENT_PHONE_ROUTING_KEY,
 * SRE_AGENT_SLACK_WEBHOOK_URL, SRE_AGENT_SNS_TOPIC_ARN, SRE_AGENT_EMAIL_TOPIC_ARN.
 */
export function notifierConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const eventsUrl = env.SRE_AGENT_PAGERDUTY_EVENTS_URL || undefined;
  return {
    ...(env.SRE_AGENT_PAGERDUTY_ROUTING_KEY ? { pagerduty: { routingKey: { value: env.SRE_AGENT_PAGERDUTY_ROUTING_KEY }, eventsUrl } } : {}),
    ...(env.SRE_AGENT_PHONE_ROUTING_KEY ? { phone: { routingKey: { value: env.SRE_AGENT_PHONE_ROUTING_KEY }, eventsUrl } } : {}),
    ...(env.SRE_AGENT_SLACK_WEBHOOK_URL ? { slack: { webhookUrl: { value: env.SRE_AGENT_SLACK_WEBHOOK_URL } } } : {}),
    ...(env.SRE_AGENT_SNS_TOPIC_ARN ? { sns: { topicArn: env.SRE_AGENT_SNS_TOPIC_ARN } } : {}),
    ...(env.SRE_AGENT_EMAIL_TOPIC_ARN ? { email: { topicArn: env.SRE_AGENT_EMAIL_TOPIC_ARN } } : {}),
  };
}
