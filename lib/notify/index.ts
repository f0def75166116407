/**
 * The notification layer: the channels, one file each (PagerDuty, phone, Slack, SNS and e-mail),
 * the notifier that sends on them, credentials, the public status page. What the core operations
 * send and record is lib/runtime/notifications.ts.
 */
export { CHANNELS } from './types';
export type { ApprovalLinks, Channel, ChannelContext, ChannelOutcome, ChannelSender, EventAction, Notification, Notifier, NotifierConfig, NotifierDeps, NotifyOps, PagerDutySeverity, Person, Recipient } from './types';
export { createNotifier, notifierConfigFromEnv, notifyOpsFor } from './notifier';
export { ChannelNotConfiguredError } from './errors';
export { pagerDutySeverity } from './severity';
export { phoneDedupKey } from './phone';
export { slackMessage } from './slack';
export { snsSubject } from './sns-email';
export { errorText, plainText } from './text';
export { describeSecret, readSecret, secretsManagerReader } from './secrets';
export type { Secret, SecretReader } from './secrets';
