/** A notifier that sends nothing and keeps what it was asked to send (every channel answers ok). */
import type { Notification, Notifier } from '../../lib/notify';

export function recordingNotifier(channels: Notifier['configured'] = ['slack']): { notifier: Notifier; sent: Notification[] } {
  const sent: Notification[] = [];
  const notifier: Notifier = {
    configured: channels,
    send: async (n) => {
      sent.push(n);
      return n.channels.map((channel) => ({ channel, ok: true, detail: 'recorded by the test' }));
    },
  };
  return { notifier, sent };
}
