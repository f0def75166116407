/** The CDK app: one SreAgentStack, checked by cdk-nag's AwsSolutions pack. Synthesizes only when run as the entry point. */
import * as path from 'node:path';
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SreAgentStack } from '../lib/infra/sre-agent-stack';

export interface BuildAppOptions {
  /**
   * Context values (tests pass `aws:cdk:bundling-stacks: []` to skip esbuild).
   * @default - none beyond what the CDK CLI passes in
   */
  readonly context?: Record<string, unknown>;
  /**
   * Playbook manifest.
   * @default <repo>/statemachines/index.json
   */
  readonly manifestFile?: string;
  /**
   * Cloud assembly folder.
   * @default - the CLI's, or a temporary folder
   */
  readonly outdir?: string;
  /**
   * Account and region.
   * @default - CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION when both are set, else environment-agnostic
   */
  readonly env?: Environment;
}

/**
 * Builds the app without synthesizing it.
 *
 * @example
 * const { app, stack } = buildApp({ context: { 'aws:cdk:bundling-stacks': [] } });
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: SreAgentStack } {
  const app = new App({ context: options.context, outdir: options.outdir });
  const stack = new SreAgentStack(app, 'SreAgent', {
    description: 'sre-agent: self-healing SRE agent (playbooks compiled to Step Functions)',
    env: options.env ?? defaultEnv(),
    manifestFile: options.manifestFile,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

function defaultEnv(): Environment | undefined {
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
  return account && region ? { account, region } : undefined;
}

// bin/run-ts.js requires this file, so require.main is run-ts.js: compare with argv[1] as well.
if (require.main === module || path.resolve(process.argv[1] ?? '') === __filename) {
  buildApp().app.synth();
}
