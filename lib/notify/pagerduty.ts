/**
 * PagerDuty, Events API v2: POST {eventsUrl}/v2/enqueue, 202 on success; 429, 5xx and network
 * errors are retried (PagerDuty asks senders to). The phone channel (phone.ts) sends through it.
 */
import { names, truncate, errorText } from './text';
import type { ChannelContext, ChannelOutcome, Notification } from './types';

export const DEFAULT_EVENTS_URL = 'https://events.pagerduty.com';
/** Events API v2: `payload.summary` is at most 1024 characters. */
const PD_SUMMARY_MAX = 1024;

/** Sends `n` as a PagerDuty event with the integration `cfg` (the pagerduty channel's, or the phone channel's). */
export async function sendPagerDutyEvent(channel: 'pagerduty' | 'phone', cfg: NonNullable<ChannelContext['config']['pagerduty']> | undefined, dedupKey: string, n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  if (!cfg) return [{ channel, ok: false, detail: 'not configured' }];
  const routingKey = await ctx.secret(cfg.routingKey);
  const action = n.action ?? 'trigger';
  const body = action === 'trigger' ? pagerDutyTrigger(channel, n, routingKey, dedupKey, ctx.now()) : { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
  const url = `${(cfg.eventsUrl ?? DEFAULT_EVENTS_URL).replace(/\/+$/, '')}/v2/enqueue`;
  const attempts = 1 + (ctx.config.pagerdutyRetries ?? 1);
  let last = '';
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, (ctx.config.retryDelayMs ?? 500) * 2 ** (i - 1)));
    try {
      const res = await ctx.post(url, body);
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

/** The pagerduty channel: the incident's alert, dedup key the incident id unless given. */
export function pagerDutyChannel(n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  return sendPagerDutyEvent('pagerduty', ctx.config.pagerduty, n.dedupKey ?? n.incidentId, n, ctx);
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
