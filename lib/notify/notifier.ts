/**
 * The notifier: every channel of a notification at once, each isolated (one failing never stops
 * the others), every outcome back, including "not configured" — never a silent success. The
 * channels are one file each: pagerduty.ts, phone.ts, slack.ts, sns-email.ts.
 */
import { ChannelNotConfiguredError } from './errors';
import { pagerDutyChannel } from './pagerduty';
import { phoneChannel } from './phone';
import { describeSecret, readSecret, type Secret } from './secrets';
import { pagerDutySeverity } from './severity';
import { slackChannel } from './slack';
import { emailChannel, snsChannel } from './sns-email';
import { errorText } from './text';
import { CHANNELS, type Channel, type ChannelContext, type ChannelOutcome, type ChannelSender, type Notification, type Notifier, type NotifierConfig, type NotifierDeps, type NotifyOps } from './types';

/** The sender of each channel. */
const SENDERS: Readonly<Record<Channel, ChannelSender>> = {
  pagerduty: pagerDutyChannel,
  phone: phoneChannel,
  slack: slackChannel,
  email: emailChannel,
  sns: snsChannel,
};

/** Builds a notifier. Channels missing from `config` answer `not configured`; none is ever a silent success. */
export function createNotifier(config: NotifierConfig, deps: NotifierDeps = {}): Notifier {
  const fetchFn = deps.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const timeoutMs = config.timeoutMs ?? 5000;
  const phone = config.phone ?? config.pagerduty;
  const emailTopic = config.email?.topicArn ?? config.sns?.topicArn;
  const configured = CHANNELS.filter((c) =>
    c === 'pagerduty' ? !!config.pagerduty : c === 'phone' ? !!phone : c === 'slack' ? !!config.slack : c === 'sns' ? !!config.sns : !!emailTopic,
  );
  const ctx: ChannelContext = {
    config,
    deps,
    now: deps.now ?? (() => new Date()),
    async secret(s: Secret): Promise<string> {
      const value = await readSecret(s, deps.secrets);
      if (!value) throw new ChannelNotConfiguredError(`not configured (${describeSecret(s)} is missing or empty)`);
      return value;
    },
    async post(url, body) {
      const res = await fetchFn(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, text: await res.text() };
    },
  };

  return {
    configured,
    async send(n) {
      const channels = [...new Set(n.channels)];
      const settled = await Promise.allSettled(channels.map((c) => SENDERS[c](n, ctx)));
      return settled.flatMap((r, i): ChannelOutcome[] => {
        if (r.status === 'fulfilled') return r.value;
        return [{ channel: channels[i], ok: false, detail: r.reason instanceof ChannelNotConfiguredError ? r.reason.message : errorText(r.reason) }];
      });
    },
  };
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
