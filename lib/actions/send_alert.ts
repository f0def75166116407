/** send_alert: notify people on the given channels (scenario 2's emergency notification). */
import * as z from '../yaml/zod';
import { requireTarget } from './common';
import { defineAction } from './define';
import { ActionError } from './errors';
import { CHANNELS } from '../notify/types';
import type { NotifyOps } from './ports';

/** The notification channels (lib/notify: the one list). */
export { CHANNELS };

export const action = defineAction({
  name: 'send_alert',
  description: 'Send an alert on every listed channel; one failing channel never stops the others.',
  kind: 'notification',
  mutates: false,
  defaultRisk: 'LOW',
  params: z.strictObject({
    severity: z.enum(['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']),
    channels: z.array(z.enum(CHANNELS)).check(z.minLength(1)),
    message: z.string().check(z.minLength(1)),
    title: z.optional(z.string()),
  }),
  outputs: ['alert_channels_ok', 'alert_channels_failed'],
  uses: ['notify'],
  iamActions: ['sns:Publish', 'secretsmanager:GetSecretValue'],
  async run(p, ctx) {
    const notify = requireTarget<NotifyOps>(ctx, 'notify', 'send_alert');
    const results = await Promise.allSettled(
      p.channels.map((channel) => notify.send(channel, { severity: p.severity, title: p.title ?? `[${p.severity}] ${ctx.incidentId}`, text: p.message, incidentId: ctx.incidentId })),
    );
    const ok: string[] = [];
    const failed: string[] = [];
    results.forEach((r, i) => (r.status === 'fulfilled' && r.value.ok ? ok : failed).push(p.channels[i]));
    if (ok.length === 0) throw new ActionError(`send_alert: every channel failed (${failed.join(', ')})`);
    return { summary: `alert sent on ${ok.join(', ')}${failed.length ? `; failed on ${failed.join(', ')}` : ''}`, outputs: { alert_channels_ok: ok, alert_channels_failed: failed } };
  },
});
