/**
 * trigger Lambda: EventBridge "CloudWatch Alarm State Change" → lib/runtime/intake.ts. Powertools
 * idempotency drops redeliveries of the same state change within its window; the incident's
 * conditional writes and the execution name keep a late redelivery harmless too.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Manifest } from '../lib/compiled/manifest';
import { coreFunctionEnvironmentSchema } from '../lib/runtime/environment';
import { awsBreakerConfig, awsCoreDeps, awsData } from '../lib/runtime/aws';
import { recordBreakerChangesOf } from '../lib/runtime/core/common';
import { StepFunctionsStarter } from '../lib/runtime/executions';
import { lazyClient } from '../lib/runtime/lazy-sdk';
import { handleAlarmEvent, type IntakeResult } from '../lib/runtime/intake';
import { emitAgentMetrics, intakeMetrics, powertoolsSink } from '../lib/runtime/agent-metrics';
import manifest from '../statemachines/index.json';

const logger = new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'trigger' } });
const env = coreFunctionEnvironmentSchema.parse(process.env);
// Step Functions loads at the first start: a redelivered alarm or a refused one starts nothing.
const starter = new StepFunctionsStarter(lazyClient<SFNClient>(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({})), (env.STATE_MACHINES ?? {}) as Record<string, string>);

async function intake(event: unknown): Promise<IntakeResult> {
  const { doc, tables } = awsData();
  const result = await handleAlarmEvent(event, {
    doc,
    tables,
    breakerConfig: awsBreakerConfig(),
    starter,
    machines: (manifest as Manifest).machines,
    now: () => new Date(),
    // A breaker opened by an alarm (more than 5 HIGH anomalies) notifies on-call SRE + team lead.
    recordBreakerChanges: (incidentId, changes) => recordBreakerChangesOf(awsCoreDeps(), incidentId, changes),
  });
  emitAgentMetrics(powertoolsSink, intakeMetrics(result));
  if (result.outcome === 'dead_letter') logger.error('alarm event refused', { reason: result.reason });
  else if (result.warning) logger.warn('alarm event handled, with a problem to fix', { ...result });
  else logger.info('alarm event handled', { ...result });
  return result;
}

export const handler = makeIdempotent(intake, {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: env.DEDUPE_TABLE }),
  config: new IdempotencyConfig({ eventKeyJmesPath: '[detail.alarmName, detail.state.value, detail.state.timestamp]', expiresAfterSeconds: 3600, throwOnNoIdempotencyKey: false }),
});
