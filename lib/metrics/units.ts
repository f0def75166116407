/** Metric units → the base units conditions compare in: time in seconds, percentages as ratios (`85%` is 0.85). */
import type { StandardUnit } from '@aws-sdk/client-cloudwatch';

/** What a unit measures, as far as conditions care: time and ratios are converted, the rest is compared as is. */
export type UnitKind = 'time' | 'ratio' | 'other';

/**
 * CloudWatch's standard units (listed here rather than read from the SDK so that the local store
 * does not load the CloudWatch client); the check below fails `tsc` if the SDK adds one.
 */
const STANDARD_UNITS = [
  'Bits', 'Bits/Second', 'Bytes', 'Bytes/Second', 'Count', 'Count/Second', 'Gigabits', 'Gigabits/Second',
  'Gigabytes', 'Gigabytes/Second', 'Kilobits', 'Kilobits/Second', 'Kilobytes', 'Kilobytes/Second',
  'Megabits', 'Megabits/Second', 'Megabytes', 'Megabytes/Second', 'Microseconds', 'Milliseconds', 'None',
  'Percent', 'Seconds', 'Terabits', 'Terabits/Second', 'Terabytes', 'Terabytes/Second',
] as const satisfies readonly StandardUnit[];
type Unlisted = Exclude<StandardUnit, (typeof STANDARD_UNITS)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;
const STANDARD: ReadonlySet<string> = new Set(STANDARD_UNITS);

/** Divisor to seconds. Dividing (200 / 1000) gives exactly the 0.2 that `200ms` parses to; multiplying by 1e-3 would not. */
const TIME_DIVISOR: Readonly<Record<string, number>> = { Seconds: 1, Milliseconds: 1000, Microseconds: 1_000_000 };

/** True for a CloudWatch standard unit name (`Milliseconds`, `Percent`, `Count/Second`...). */
export function isStandardUnit(unit: string): unit is StandardUnit {
  return STANDARD.has(unit);
}

/** What `unit` measures: `time` (Seconds, Milliseconds, Microseconds), `ratio` (Percent) or `other`. */
export function unitKind(unit: string): UnitKind {
  if (Object.hasOwn(TIME_DIVISOR, unit)) return 'time';
  return unit === 'Percent' ? 'ratio' : 'other';
}

/**
 * Converts a metric value to base units: time to seconds, Percent to a ratio; every other unit
 * (Count, Count/Second, Bytes...) is returned unchanged.
 *
 * @example toBaseUnits(250, 'Milliseconds') // 0.25
 * @example toBaseUnits(85, 'Percent') // 0.85
 */
export function toBaseUnits(value: number, unit: string): number {
  if (Object.hasOwn(TIME_DIVISOR, unit)) return value / TIME_DIVISOR[unit];
  return unit === 'Percent' ? value / 100 : value;
}

/**
 * Converts a value in base units to `unit` (the inverse of {@link toBaseUnits}), rounded to 12
 * significant digits so that `85%` (0.85) becomes exactly 85 Percent and `10ms` exactly 10
 * Milliseconds, as a CloudWatch threshold must be written.
 *
 * @example fromBaseUnits(0.85, 'Percent') // 85
 * @example fromBaseUnits(0.01, 'Milliseconds') // 10
 */
export function fromBaseUnits(value: number, unit: string): number {
  const factor = Object.hasOwn(TIME_DIVISOR, unit) ? TIME_DIVISOR[unit] : unit === 'Percent' ? 100 : 1;
  return factor === 1 ? value : Number((value * factor).toPrecision(12));
}

/** What one `unit` is in base units (Milliseconds → 0.001, Percent → 0.01, Count → 1). */
export function baseUnitsPerUnit(unit: string): number {
  return toBaseUnits(1, unit);
}
