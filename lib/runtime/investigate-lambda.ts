/**
 * The investigate Lambda (`${Fn_investigate}`): Powertools logging around its operations (lib/runtime/core/investigate.ts) with the
 * read-only targets its entry wires (lambdas/investigate.ts), built once per warm function.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { wire } from './action-lambda';
import { coreMetrics, emitAgentMetrics, powertoolsSink } from './agent-metrics';
import { awsCoreDeps, type AwsWiring } from './aws';
import { bundledConfig } from './bundled-config';
import { INVESTIGATE_OPS } from './core/investigate';
import { runCoreOp } from './core/ops';
import type { InvestigationDeps } from './investigate';
import { investigationSummaryEnvironmentSchema } from './environment';
import { EnvironmentError } from './errors';
import type { Summarizer } from '../analysis/summary';
import type { TargetFactories } from './targets/types';

/**
 * The Bedrock summarizer of INVESTIGATION_SUMMARY_MODEL_ID, or undefined when the variable is not
 * set (the default). The Bedrock client and the adapter load at the first summary, not at cold start.
 * @throws EnvironmentError naming the variable when it is not a model id
 */
export function summarizerFromEnvironment(env: NodeJS.ProcessEnv): Summarizer | undefined {
  const parsed = investigationSummaryEnvironmentSchema.safeParse(env);
  if (!parsed.success) throw new EnvironmentError(`investigation summary environment is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, ['INVESTIGATION_SUMMARY_MODEL_ID']);
  const modelId = parsed.data.INVESTIGATION_SUMMARY_MODEL_ID;
  if (!modelId) return undefined;
  let loaded: Promise<Summarizer> | undefined;
  const load = () =>
    (loaded ??= Promise.all([import('@aws-sdk/client-bedrock-runtime'), import('../analysis/bedrock-summary')]).then(([{ BedrockRuntimeClient }, { BedrockSummarizer }]) => new BedrockSummarizer({ client: new BedrockRuntimeClient({}), modelId })));
  return { model: modelId, source: `Bedrock ${modelId}`, summarize: async (input, signal) => (await load()).summarize(input, signal) };
}

/** @example export const handler = investigateLambda({ kube: kubeTarget, mysql: mysqlTarget }); */
export function investigateLambda(factories: TargetFactories, wiring: AwsWiring = {}): (event: unknown) => Promise<unknown> {
  let logger: Logger | undefined;
  let summarizer: Summarizer | null | undefined;
  return async (event) => {
    logger ??= new Logger({ serviceName: 'sre-agent', persistentKeys: { function: 'Fn_investigate' } });
    const op = (event as { op?: string } | null)?.op;
    try {
      const targets = (await wire('investigate', factories, process.env, bundledConfig().policy())) as NonNullable<InvestigationDeps['targets']>;
      const deps = awsCoreDeps(process.env, wiring);
      const knowledge = deps.knowledge;
      if (summarizer === undefined) summarizer = summarizerFromEnvironment(process.env) ?? null;
      // Similar past incidents from the store the report function writes (as the local engine reads its own).
      const result = await runCoreOp('Fn_investigate', INVESTIGATE_OPS, event, { ...deps, investigation: { targets, ...(knowledge ? { similarIncidents: (query: string) => knowledge.search(query, 3) } : {}), ...(summarizer ? { summarizer } : {}) } });
      emitAgentMetrics(powertoolsSink, coreMetrics('Fn_investigate', op, result));
      return result;
    } catch (err) {
      logger.error(`Fn_investigate ${op ?? '(no op)'} failed`, err as Error);
      throw err;
    }
  };
}
