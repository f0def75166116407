/** The metric catalogue (playbooks/metrics.yaml): metric names → CloudWatch coordinates. */
import * as z from '../yaml/zod';
import { PlaybookError } from './errors';
import { problemAt, type ConfigSource } from '../yaml';

const metricSchema = z.strictObject({
  namespace: z.string().check(z.minLength(1)),
  metric: z.string().check(z.minLength(1)),
  stat: z.string().check(z.minLength(1)),
  period: z.int().check(z.positive()),
  unit: z.string().check(z.minLength(1)),
  dimensions: z.optional(z.array(z.string())),
  /**
   * Published with 1-second storage resolution (PutMetricData `StorageResolution: 1`): its
   * detection alarms evaluate every 10 s, the floor of CloudWatch alarm latency. @default false
   */
  high_resolution: z.optional(z.boolean()),
});
const name = z.string().check(z.regex(/^[a-z][a-z0-9_]*$/, 'snake_case metric name'));
/**
 * What `baseline` means in a rule (`api_request_rate > baseline * 3`): the rule's own metric, its
 * mean over `window` centred on the same time `offset` earlier (a week: the same hour of the same
 * weekday, so the exchange's daily and weekly rhythm is in the baseline).
 */
const baselineSchema = z.strictObject({
  description: z.optional(z.string()),
  offset: z.string().check(z.regex(/^\d+(\.\d+)?\s*(s|min|h|d)$/, 'a duration such as 7d')),
  window: z.string().check(z.regex(/^\d+(\.\d+)?\s*(s|min|h|d)$/, 'a duration such as 1h')),
});

/**
 * What `increasing` / `decreasing` mean in a detection rule (`api_error_rate increasing`,
 * `matching_engine_latency_p99_trend: increasing`): the metric rose (fell) from one period to the
 * next in at least `moving` of the last `periods` periods (CloudWatch metric math `DIFF`).
 */
const trendSchema = z
  .strictObject({
    description: z.optional(z.string()),
    periods: z.int().check(z.gte(1), z.lte(30)),
    moving: z.int().check(z.gte(1)),
  })
  .check(z.refine((t) => t.moving <= t.periods, { message: 'moving must be at most periods', path: ['moving'] }));

const catalogueSchema = z
  .strictObject({ metrics: z.record(name, metricSchema), aliases: z._default(z.record(name, name), {}), baseline: z.optional(baselineSchema), trend: z.optional(trendSchema) })
  .check(
    z.superRefine((c, ctx) => {
      for (const [alias, metric] of Object.entries(c.aliases)) {
        if (!(metric in c.metrics)) ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `alias of "${metric}", which is not a metric in this catalogue` });
        if (alias in c.metrics) ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `"${alias}" is already a metric name` });
      }
    }),
  );

export type MetricSpec = z.infer<typeof metricSchema>;
export interface MetricCatalogue {
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  /** Short names the seed uses in conditions and messages (`latency_p99`) → metric names. */
  readonly aliases: Readonly<Record<string, string>>;
  /** What `baseline` means in a rule; without it `baseline` is not a variable. */
  readonly baseline?: { readonly description?: string; readonly offset: string; readonly window: string };
  /** What `increasing` / `decreasing` mean in a detection rule; without it trend rules get no alarm. */
  readonly trend?: { readonly description?: string; readonly periods: number; readonly moving: number };
}

/** Validates a metric catalogue (metrics.yaml, or its copy compiled to JSON). @throws PlaybookError naming file, position and field of every problem */
export function catalogueFromSource(src: ConfigSource): MetricCatalogue {
  const result = catalogueSchema.safeParse(src.value);
  if (!result.success) throw new PlaybookError(result.error.issues.map((i) => problemAt(src, i.path as (string | number)[], i.message)));
  return result.data;
}
