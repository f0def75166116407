/**
 * The notification layer's vocabulary: who (Person, Recipient), what (Notification), on which
 * channel (CHANNELS: the one channel list), what came back (ChannelOutcome), and what every
 * channel file (pagerduty, phone, slack, sns-email) gets to send with (ChannelContext).
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Secret, SecretReader } from './secrets';

/** One person who can be notified, with whatever contact fields are known. */
export interface Person {
  readonly name: string;
  /** The person's handle in the rotation file (`john.park`), when they are in it. */
  readonly handle?: string;
  readonly email?: string;
  /** E.164 phone number. */
  readonly phone?: string;
  /** Slack member id (`U...`), mentioned as `<@U...>`. */
  readonly slack?: string;
  readonly pagerdutyUserId?: string;
  /**
   * Where the answer came from: `rotation-file`, `rotation-file (override ...)`, `pagerduty`,
   * or `rotation-file (pagerduty failed: ...)` when PagerDuty did not answer.
   */
  readonly source?: string;
}

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

/** What a channel file sends with: the notifier's configuration and clients, and shared helpers. */
export interface ChannelContext {
  readonly config: NotifierConfig;
  readonly deps: NotifierDeps;
  now(): Date;
  /** The credential's value. @throws ChannelNotConfiguredError when it is missing or empty */
  secret(s: Secret): Promise<string>;
  /** POSTs JSON within the configured timeout. */
  post(url: string, body: unknown): Promise<{ status: number; text: string }>;
}

/** One channel: sends `n` and says what happened, one outcome per message sent. */
export type ChannelSender = (n: Notification, ctx: ChannelContext) => Promise<ChannelOutcome[]>;
