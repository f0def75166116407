/** The metric catalogue (playbooks/metrics.yaml): metric names → CloudWatch coordinates. */
import * as path from 'node:path';
import { z } from 'zod';
import { PlaybookError } from './errors';
import { problemAt, readYamlSource } from './yaml-source';

export const DEFAULT_CATALOGUE_FILE = path.resolve(__dirname, '../../playbooks/metrics.yaml');

const metricSchema = z.strictObject({
  namespace: z.string().min(1),
  metric: z.string().min(1),
  stat: z.string().min(1),
  period: z.number().int().positive(),
  unit: z.string().min(1),
  dimensions: z.array(z.string()).optional(),
});
const catalogueSchema = z.strictObject({ metrics: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), metricSchema) });

export type MetricSpec = z.infer<typeof metricSchema>;
export type MetricCatalogue = Readonly<Record<string, MetricSpec>>;

export function loadCatalogue(file: string = DEFAULT_CATALOGUE_FILE): MetricCatalogue {
  const src = readYamlSource(file);
  const result = catalogueSchema.safeParse(src.value);
  if (!result.success) throw new PlaybookError(result.error.issues.map((i) => problemAt(src, i.path as (string | number)[], i.message)));
  return result.data.metrics;
}

let cached: MetricCatalogue | undefined;
export function defaultCatalogue(): MetricCatalogue {
  cached ??= loadCatalogue();
  return cached;
}
