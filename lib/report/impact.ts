/**
 * The report's impact line (seed §5.1: "API P99 延迟从 50ms 上升到 350ms，影响约 3000 活跃用户"),
 * read from the metrics: the alarm's metric at its peak during the incident against its
 * baseline, and the affected users when the `active_users` metric has data for the service.
 */
import type { Incident } from '../incident';
import { resolveMetricName, type MetricSource } from '../metrics';
import type { MetricCatalogue } from '../playbook/catalogue';

/** The catalogue metric whose maximum during the incident is its affected users. */
export const AFFECTED_USERS_METRIC = 'active_users';
/** The baseline is the mean over this long before the anomaly began. */
const BASELINE_WINDOW_MS = 60 * 60 * 1000;

export interface ReportImpact {
  readonly metric: string;
  /** Catalogue unit (`Milliseconds`, `Percent`...); values are in base units (seconds, ratios). */
  readonly unit: string;
  readonly peak: number;
  readonly peakAt: string;
  readonly peakText: string;
  /** Mean over the hour before the anomaly began; else the catalogue baseline (the same hour a week earlier). */
  readonly baseline?: number;
  readonly baselineText?: string;
  readonly baselineFrom?: 'hour_before' | 'week_before';
  /** (peak − baseline) / baseline × 100. */
  readonly changePercent?: number;
  /** Maximum of `active_users` for the service during the incident. */
  readonly affectedUsers?: number;
}

/** A base-unit value in its catalogue unit: 0.35 s of a Milliseconds metric is `350ms`, 0.91 of a Percent one `91%`. */
export function formatValue(metric: string, value: number, units: Readonly<Record<string, string>>): string {
  const unit = units[metric];
  const round = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toString() : Number(n.toPrecision(3)).toString());
  switch (unit) {
    case 'Milliseconds':
      return `${round(value * 1000)}ms`;
    case 'Microseconds':
      return `${round(value * 1e6)}µs`;
    case 'Seconds':
      return value < 1 ? `${round(value * 1000)}ms` : `${round(value)}s`;
    case 'Percent':
      return `${round(value * 100)}%`;
    default:
      return round(value);
  }
}

/** Unit of every catalogue metric, by name. */
export function catalogueUnits(catalogue: MetricCatalogue): Record<string, string> {
  return Object.fromEntries(Object.entries(catalogue.metrics).map(([name, spec]) => [name, spec.unit]));
}

/** The catalogue metric an incident's alarm watches: `sre-agent/<playbook>/<service>/<metric>[_trend]`. */
export function alarmMetric(incident: Pick<Incident, 'alarm'>, catalogue: MetricCatalogue): string | undefined {
  const subject = incident.alarm?.name.split('/')[3];
  if (!subject) return undefined;
  return resolveMetricName(subject, catalogue) ?? resolveMetricName(subject.replace(/_trend$/, ''), catalogue);
}

/**
 * The incident's impact from the metrics; undefined when its alarm names no catalogue metric or
 * the metric has no data during the incident. Reading errors leave the impact out (the report
 * is still written) and are returned for the caller to record.
 */
export async function assessImpact(
  source: MetricSource,
  catalogue: MetricCatalogue,
  incident: Pick<Incident, 'alarm' | 'service' | 'timestamps'>,
  now: Date,
): Promise<{ impact?: ReportImpact; problems: string[] }> {
  const problems: string[] = [];
  const metric = alarmMetric(incident, catalogue);
  if (!metric) return { problems: [`no catalogue metric in the alarm name ${incident.alarm?.name ?? '(none)'}`] };
  const units = catalogueUnits(catalogue);
  const start = new Date(incident.timestamps.anomalyStartedAt);
  const end = new Date(incident.timestamps.resolvedAt ?? now.toISOString());
  const read = async (name: string, from: Date, to: Date) => {
    try {
      return await source.series({ name, service: incident.service, from, to });
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return [];
    }
  };
  const during = await read(metric, start, end);
  if (during.length === 0) return { problems: [...problems, `${metric}: no data from ${start.toISOString()} to ${end.toISOString()}`] };
  const peak = during.reduce((best, p) => (p.value > best.value ? p : best));
  let before = (await read(metric, new Date(start.getTime() - BASELINE_WINDOW_MS), new Date(start.getTime() - 1))).map((p) => p.value);
  let baselineFrom: ReportImpact['baselineFrom'] = 'hour_before';
  if (before.length === 0) {
    const week = 7 * 24 * 3600 * 1000;
    before = (await read(metric, new Date(start.getTime() - week - BASELINE_WINDOW_MS / 2), new Date(start.getTime() - week + BASELINE_WINDOW_MS / 2))).map((p) => p.value);
    baselineFrom = 'week_before';
  }
  const baseline = before.length ? before.reduce((s, v) => s + v, 0) / before.length : undefined;
  const users = AFFECTED_USERS_METRIC in catalogue.metrics ? await read(AFFECTED_USERS_METRIC, start, end) : [];
  return {
    problems,
    impact: {
      metric,
      unit: units[metric] ?? '',
      peak: peak.value,
      peakAt: peak.at.toISOString(),
      peakText: formatValue(metric, peak.value, units),
      ...(baseline !== undefined
        ? { baseline, baselineText: formatValue(metric, baseline, units), baselineFrom, ...(baseline !== 0 ? { changePercent: Math.round(((peak.value - baseline) / baseline) * 1000) / 10 } : {}) }
        : {}),
      ...(users.length ? { affectedUsers: Math.round(Math.max(...users.map((p) => p.value))) } : {}),
    },
  };
}
