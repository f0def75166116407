/**
 * baseline Lambda (every minute, only when a detection rule uses `baseline`): publishes the
 * catalogue's baseline of each metric the alarms compare with (lib/metrics/baseline.ts).
 */
// Imported eagerly, unlike every other function's SDK clients (lib/runtime/lazy-sdk.ts): publishing
// to CloudWatch is this function's whole job, on every invocation, so loading it at cold start
// costs nothing a first call would not (test/integration/bundles.test.ts allows it).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Logger } from '@aws-lambda-powertools/logger';
import { publishBaselines } from '../lib/metrics/baseline';
import { baselineEnvironmentSchema } from '../lib/runtime/environment';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'baseline' } });
const env = baselineEnvironmentSchema.parse(process.env);
const client = new CloudWatchClient({});

export async function handler(): Promise<{ published: number; missing: readonly string[] }> {
  const run = await publishBaselines(env.BASELINES, client, new Date());
  if (run.missing.length > 0) logger.warn('no data a week ago for some baselines: their alarms see no data (never zero)', { missing: run.missing });
  return { published: run.published.length, missing: run.missing };
}
