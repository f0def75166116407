/** The metric catalogue (playbooks/metrics.yaml): metric names → CloudWatch coordinates. */
import * as path from 'node:path';
import { z } from 'zod';
import { PlaybookError } from './errors';
import { problemAt, readYamlSource } from '../yaml';

/** `$SRE_AGENT_CONFIG_DIR/metrics.yaml` in a Lambda bundle, else beside the playbooks. */
export const DEFAULT_CATALOGUE_FILE = path.join(process.env.SRE_AGENT_CONFIG_DIR ?? path.resolve(__dirname, '../../playbooks'), 'metrics.yaml');

const metricSchema = z.strictObject({
  namespace: z.string().min(1),
  metric: z.string().min(1),
  stat: z.string().min(1),
  period: z.number().int().positive(),
  unit: z.string().min(1),
  dimensions: z.array(z.string()).optional(),
});
const name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'snake_case metric name');
const catalogueSchema = z
  .strictObject({ metrics: z.record(name, metricSchema), aliases: z.record(name, name).default({}) })
  .superRefine((c, ctx) => {
    for (const [alias, metric] of Object.entries(c.aliases)) {
      if (!(metric in c.metrics)) ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `alias of "${metric}", which is not a metric in this catalogue` });
      if (alias in c.metrics) ctx.addIssue({ code: 'custom', path: ['aliases', alias], message: `"${alias}" is already a metric name` });
    }
  });

export type MetricSpec = z.infer<typeof metricSchema>;
export interface MetricCatalogue {
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  /** Short names the seed uses in conditions and messages (`latency_p99`) → metric names. */
  readonly aliases: Readonly<Record<string, string>>;
}

export function loadCatalogue(file: string = DEFAULT_CATALOGUE_FILE): MetricCatalogue {
  const src = readYamlSource(file);
  const result = catalogueSchema.safeParse(src.value);
  if (!result.success) throw new PlaybookError(result.error.issues.map((i) => problemAt(src, i.path as (string | number)[], i.message)));
  return result.data;
}

let cached: MetricCatalogue | undefined;
export function defaultCatalogue(): MetricCatalogue {
  cached ??= loadCatalogue();
  return cached;
}
