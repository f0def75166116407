/** sre-agent severities as the channels say them. The ladder itself is lib/incident's SEVERITIES. */
import type { PagerDutySeverity } from './types';

/** sre-agent severities (incident severity, send_alert) → PagerDuty severities. */
export function pagerDutySeverity(severity: string): PagerDutySeverity {
  switch (severity.toUpperCase()) {
    case 'CRITICAL':
      return 'critical';
    case 'HIGH':
      return 'error';
    case 'MEDIUM':
      return 'warning';
    default:
      return 'info';
  }
}
