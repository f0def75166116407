/**
 * Phone calls: a PagerDuty page with severity `critical` (see NotifierConfig.phone), on the
 * phone integration or, without one, the pagerduty integration; its own alert per level.
 */
import { sendPagerDutyEvent } from './pagerduty';
import type { ChannelContext, ChannelOutcome, Notification } from './types';

/**
 * The dedup key of a phone page: `dedupKey` when given (acknowledge/resolve of a recorded page),
 * else its own alert per level (`INC-.../phone/L3`), so that the incident's open PagerDuty alert
 * does not swallow the call.
 */
export function phoneDedupKey(n: Pick<Notification, 'incidentId' | 'dedupKey' | 'level'>): string {
  return n.dedupKey ?? `${n.incidentId}/phone${n.level ? `/L${n.level}` : ''}`;
}


/** The phone channel. */
export function phoneChannel(n: Notification, ctx: ChannelContext): Promise<ChannelOutcome[]> {
  return sendPagerDutyEvent('phone', ctx.config.phone ?? ctx.config.pagerduty, phoneDedupKey(n), n, ctx);
}
