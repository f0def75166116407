/** SNS: the sns channel (send_alert) and e-mail (the topic's e-mail subscriptions, filtered per person). */
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import { errorText, names, plainText, truncate } from './text';
import type { ChannelContext, ChannelOutcome, Notification, Recipient } from './types';

/** SNS: "Subject ... less than 100 characters long", no line breaks or control characters. */
const SNS_SUBJECT_MAX = 99;

/**
 * Publishes `n` on an SNS topic. E-mail addresses people: one message each, with only their own
 * approval links; without recipients, and on the sns channel, one message to all.
 */
async function publish(channel: 'email' | 'sns', topicArn: string | undefined, n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
    if (!topicArn) return [{ channel, ok: false, detail: 'not configured' }];
    if (!ctx.deps.sns) return [{ channel, ok: false, detail: 'not configured (no SNS client)' }];
    const sns = ctx.deps.sns;
    const recipients = n.recipients ?? [];
    // E-mail addresses people: one message each (with only their own links); without recipients, one to all.
    const personal = channel === 'email' && recipients.length > 0;
    const send = async (subject: string, message: string, attributes: Record<string, string>) => {
      // Loaded on the first message, not at cold start: most invocations send none.
      const { PublishCommand } = await import('@aws-sdk/client-sns');
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

/** The email channel: the e-mail topic, or the sns topic without one. */
export function emailChannel(n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  return publish('email', ctx.config.email?.topicArn ?? ctx.config.sns?.topicArn, n, ctx);
}

/** The sns channel. */
export function snsChannel(n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  return publish('sns', ctx.config.sns?.topicArn, n, ctx);
}

/** An SNS Subject: one line, no control characters, under 100 characters. */
export function snsSubject(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return truncate(clean || 'sre-agent notification', SNS_SUBJECT_MAX);
}
