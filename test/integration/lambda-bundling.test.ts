/**
 * The stack and bench/bundles.ts bundle alike: one options module (lib/infra/bundling.ts), the
 * same function list, and, for one function bundled for real by the CDK (NodejsFunction's local
 * esbuild) and by the bench, the same bytes and the same bundled configuration.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../bin/sre-agent';
import { buildFunction, lambdaEntries } from '../../bench/bundles';
import { AgentFunction, FUNCTION_METADATA_KEY } from '../../lib/infra/agent-function';
import { CONFIG_FILES, LAMBDA_BUNDLING, REPO_ROOT, RUNTIME_SDK_MODULES } from '../../lib/infra/bundling';

const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sre-agent-bundling-'));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('Lambda bundling: the stack and bench/bundles.ts', () => {
  it('measure the same functions (every function of the synthesized stack, and no other)', () => {
    // arrange
    const { stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    // act
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((r) => (r as { Metadata?: Record<string, string> }).Metadata?.[FUNCTION_METADATA_KEY])
      .filter((id): id is string => id !== undefined);
    // assess
    expect(functions.sort()).toEqual(lambdaEntries().map((e) => e.functionId).sort());
  });

  it('leave every SDK v3 client the code depends on to the runtime but DynamoDB\'s, which is bundled', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: Record<string, string> };
    const clients = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((d) => d.startsWith('@aws-sdk/client-'));
    expect(clients.length).toBeGreaterThan(5);
    expect(clients.filter((c) => c !== '@aws-sdk/client-dynamodb' && !RUNTIME_SDK_MODULES.includes(c))).toEqual([]);
    expect(RUNTIME_SDK_MODULES).not.toContain('@aws-sdk/client-dynamodb');
    expect(RUNTIME_SDK_MODULES).not.toContain('@aws-sdk/lib-dynamodb');
    expect(RUNTIME_SDK_MODULES).not.toContain('@aws-sdk/credential-provider-node');
  });

  it('build the same bundle, byte for byte, with the same configuration beside it', async () => {
    // arrange: the baseline function (the smallest) bundled by NodejsFunction as `cdk synth` does
    const entry = path.join(REPO_ROOT, 'lambdas/baseline.ts');
    const app = new App({ outdir: path.join(work, 'cdk.out') });
    const stack = new Stack(app, 'Bundled');
    new AgentFunction(stack, 'Baseline', { functionId: 'baseline', entry, description: 'bundled as deployed' });
    // act
    const assembly = app.synth();
    const benchDir = path.join(work, 'bench');
    const bench = await buildFunction(entry, benchDir);
    // assess
    const assets = fs.readdirSync(assembly.directory).filter((d) => d.startsWith('asset.') && fs.existsSync(path.join(assembly.directory, d, 'index.js')));
    expect(assets).toHaveLength(1);
    const cdkDir = path.join(assembly.directory, assets[0]!);
    const cdkBundle = fs.readFileSync(path.join(cdkDir, 'index.js'));
    expect(cdkBundle.length).toBe(bench.bytes);
    expect(cdkBundle.equals(fs.readFileSync(path.join(benchDir, 'index.js')))).toBe(true);
    expect(fs.readdirSync(path.join(cdkDir, 'config')).sort()).toEqual(CONFIG_FILES.map((f) => path.basename(f)).sort());
    // the options the bench used are the module's: module-first resolution, the SDK but DynamoDB's client left to the runtime
    expect(LAMBDA_BUNDLING).toMatchObject({ minify: true, externalModules: RUNTIME_SDK_MODULES, mainFields: ['module', 'main'] });
  }, 120_000);
});
