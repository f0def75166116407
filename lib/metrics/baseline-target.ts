/** What the baseline function publishes, as data (no SDK import: the environment schema reads it). */
import * as z from 'zod';

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

export const baselineTargetSchema = z.strictObject({
  metric: z.string().min(1),
  namespace: z.string().min(1),
  metricName: z.string().min(1),
  dimensions: z.record(z.string(), z.string()),
  stat: z.string().min(1),
  period: z.number().int().positive(),
  unit: z.string().min(1),
  offsetSeconds: z.number().int().nonnegative(),
  windowSeconds: z.number().int().positive(),
});

