/**
 * How every Lambda is bundled: one set of options, read by the stack (AgentFunction's
 * NodejsFunction) and by `bench/bundles.ts`, which runs esbuild itself with the same options to
 * measure each bundle's size and cold start. `esbuildOptions` turns them into the esbuild call
 * NodejsFunction makes (aws-cdk-lib/aws-lambda-nodejs Bundling: `esbuild --bundle <entry>
 * --target --platform=node --format --outfile --minify --sourcemap --external:... --main-fields`);
 * test/integration/lambda-bundling.test.ts checks that both produce the same bytes.
 */
import * as path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** Repository root: entries, the lock file and `statemachines/` are found from here. */
export const REPO_ROOT = path.resolve(__dirname, '../..');

/**
 * Where the bundled configuration sits in the function (`/var/task/config`) and which files go
 * there, both written by `npm run compile`: the compiled playbooks (index.json: the steps the
 * runtime guard enforces, pinned by hash) and the configuration as JSON (config.json: policy,
 * service map, metric catalogue, on-call rotation, status-page components), so no function
 * carries a YAML parser. SRE_AGENT_CONFIG_DIR points the loaders at them.
 */
export const CONFIG_DIR_IN_FUNCTION = '/var/task/config';
export const CONFIG_FILES: readonly string[] = ['statemachines/index.json', 'statemachines/config.json'];

/**
 * NODE_OPTIONS of every function: stack traces through the source map. With `sourcesContent:
 * false` the map holds positions only (0.65 MB instead of 2.6 MB for redis_command), and Node
 * parses it at load in ~20 ms CPU instead of ~100 ms. Remove the variable on a function to drop
 * even that (stack traces then point into the minified index.js; index.js.map in the asset still
 * decodes them).
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/**
 * The esbuild options of every function.
 *
 * - DynamoDB's client is bundled; every other SDK v3 package stays external (RUNTIME_SDK_MODULES),
 *   loaded from the Lambda runtime (Node.js 18 and later ship SDK v3) at its first use. Every
 *   invocation of every function but the baseline reads the incident, so DynamoDB's client is on
 *   every cold start: bundled as ES modules and tree-shaken (the commands the code sends, the
 *   document client, the credential chain's first link, environment variables, which is where
 *   Lambda puts the role's credentials) it loads in about 60% of the CPU time the runtime's
 *   CommonJS packages take (bench/bundles; README, "Bundles"), and it is the version
 *   package-lock.json pins and the tests ran. It costs about 260 kB per bundle. The other clients
 *   (SSM, ElastiCache, RDS, S3, SFN, ...) are each used by few functions, at first use
 *   (lib/runtime/lazy-sdk.ts): they come from the runtime, not in the bundle. So do the credential
 *   chain's later links (SSO, INI files, web identity, container and instance metadata), which a
 *   Lambda never reaches: loaded only if the environment holds no credentials.
 *   test/integration/bundles proves no runtime SDK package is loaded at cold start.
 * - `sourcesContent: false`: the source map maps positions without embedding the sources, a
 *   quarter of the size to parse at load under `--enable-source-maps`.
 * - `mainFields: ['module', 'main']`: a package's ES module build first, so esbuild can drop
 *   what is not imported (esbuild's default for platform node is main first, the CommonJS build,
 *   which it cannot tree-shake).
 * - `QDRANT_CLIENT_ALIAS`: @qdrant/js-client-rest's browser build, which calls the runtime's own
 *   `fetch` (Node 20+), instead of its Node build, which brings undici (416 kB) only to hand
 *   `fetch` a keep-alive agent; Node's fetch keeps connections alive by itself. Tested against a
 *   Qdrant REST server in test/integration/knowledge-adapters.
 */
export const QDRANT_CLIENT_ALIAS = { '@qdrant/js-client-rest': './node_modules/@qdrant/js-client-rest/dist/browser/index.cjs' } as const;


/**
 * The SDK v3 packages the bundles leave to the Lambda runtime: every client but DynamoDB's, and the
 * credential chain's links after the environment's (see esbuildOptions). A client added to
 * package.json goes here too, or test/integration/lambda-bundling fails.
 */
export const RUNTIME_SDK_MODULES = [
  ...['acm', 'bedrock-runtime', 'cloudwatch', 'eks', 'elasticache', 'iam', 'lambda', 'rds', 's3', 'secrets-manager', 'sfn', 'sns', 'ssm', 'sts'].map((c) => `@aws-sdk/client-${c}`),
  ...['ini', 'sso', 'process', 'web-identity', 'http', 'login', 'cognito-identity'].map((p) => `@aws-sdk/credential-provider-${p}`),
  '@aws-sdk/token-providers',
  '@aws-sdk/nested-clients',
];

export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  format: OutputFormat.CJS,
  externalModules: RUNTIME_SDK_MODULES,
  mainFields: ['module', 'main'],
  esbuildArgs: Object.fromEntries(Object.entries(QDRANT_CLIENT_ALIAS).map(([from, to]) => [`--alias:${from}`, to])),
} as const satisfies BundlingOptions;

/**
 * The esbuild build NodejsFunction runs for `entry` with LAMBDA_BUNDLING, writing `outfile`
 * (NodejsFunction writes `<asset>/index.js`). `absWorkingDir` is the repository root, as for the
 * stack's local bundling.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    target: LAMBDA_BUNDLING.target,
    platform: 'node',
    format: LAMBDA_BUNDLING.format,
    outfile,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    external: [...LAMBDA_BUNDLING.externalModules],
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    alias: { ...QDRANT_CLIENT_ALIAS },
    absWorkingDir: REPO_ROOT,
    logLevel: 'warning',
  };
}

/** The shell commands that copy CONFIG_FILES into `<outputDir>/config` after bundling. */
export function copyConfigCommands(inputDir: string, outputDir: string): string[] {
  return [`mkdir -p "${outputDir}/config"`, `cp ${CONFIG_FILES.map((f) => `"${inputDir}/${f}"`).join(' ')} "${outputDir}/config/"`];
}
