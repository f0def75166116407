/** Errors of the on-call lookup; each names its source (PagerDuty's API, or the variable holding the role mapping). */

/** PagerDuty's on-call API answered something unusable, or the role → schedule mapping is bad. */
export class OnCallError extends Error {
  /** Where: `GET /oncalls`, or the name of the variable holding the mapping (`PAGERDUTY_ONCALL_ROLES`). */
  public readonly source: string;
  public constructor(message: string, source: string) {
    super(message);
    this.name = 'OnCallError';
    this.source = source;
  }
}
