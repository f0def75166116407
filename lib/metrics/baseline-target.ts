/** What the baseline function publishes, as data (no SDK import: the environment schema reads it). */
import * as z from '../yaml/zod';

/** One baseline to publish. */
export interface BaselineTarget {
  /** Catalogue metric name: the published metric's name. */
  readonly metric: string;
  /** Where the metric itself lives. */
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
  readonly period: number;
  readonly unit: string;
  readonly offsetSeconds: number;
  readonly windowSeconds: number;
}

const nonEmpty = z.string().check(z.minLength(1));
const positiveInt = z.int().check(z.positive());

export const baselineTargetSchema = z.strictObject({
  metric: nonEmpty,
  namespace: nonEmpty,
  metricName: nonEmpty,
  dimensions: z.record(z.string(), z.string()),
  stat: nonEmpty,
  period: positiveInt,
  unit: nonEmpty,
  offsetSeconds: z.int().check(z.nonnegative()),
  windowSeconds: positiveInt,
});

