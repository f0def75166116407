/** Slack: an incoming webhook posting into one channel (the SRE channel, or the war room). Never personal approval links. */
import { detailLines, names, truncate } from './text';
import type { ChannelContext, ChannelOutcome, Notification, Person } from './types';

/** The slack channel: one post to the configured incoming webhook. */
export async function slackChannel(n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  if (!ctx.config.slack) return [{ channel: 'slack', ok: false, detail: 'not configured' }];
  const url = await ctx.secret(ctx.config.slack.webhookUrl);
  const res = await ctx.post(url, slackMessage(n));
  const person = names(n.recipients ?? []);
  // Incoming webhooks answer 200 "ok"; errors are 4xx/5xx with a short text (invalid_payload, no_service...).
  return res.status === 200 ? [{ channel: 'slack', ok: true, detail: 'posted (HTTP 200)', person }] : [{ channel: 'slack', ok: false, detail: `HTTP ${res.status}${res.text ? `: ${truncate(res.text, 200)}` : ''}`, person }];
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
