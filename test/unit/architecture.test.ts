/**
 * The dependency rules of DESIGN.md (.dependency-cruiser.cjs), enforced: dependency-cruiser's API
 * runs over bin/, lib/ and lambdas/ and every violation fails the test, named with its rule and
 * the import at fault. A miniature repository (test/fixtures/architecture) breaks each rule once
 * to show that the rules bite.
 *
 * @lane pure (dependency-cruiser in a child process reads the source; it touches no shared service)
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../..');

interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
  readonly cycle?: readonly string[];
}

async function depcruise(args: readonly string[]): Promise<{ modules: number; violations: Violation[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'test/helpers/depcruise.mjs'), ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as { modules: number; violations: Violation[] };
}

/** `rule: from → to` (and the cycle), one line per violation, for a failure message that names them all. */
function describeViolation(v: Violation): string {
  return `${v.rule}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${[v.from, ...v.cycle].join(' → ')})` : ''}`;
}

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('bin/, lib/ and lambdas/ break none of them', async () => {
    // act
    const result = await depcruise(['bin', 'lib', 'lambdas']);
    // assess
    expect(result.modules).toBeGreaterThan(150);
    expect(result.violations.map(describeViolation)).toEqual([]);
  }, 180_000);

  it('each rule reports the import that breaks it (test/fixtures/architecture)', async () => {
    // act
    const result = await depcruise(['--base', 'test/fixtures/architecture', '--no-ts-config', 'lib', 'lambdas']);
    // assess
    const found = result.violations.map(describeViolation);
    expect(found).toEqual(
      expect.arrayContaining([
        'actions-do-not-import-runtime-wiring: lib/actions/reaches-runtime.js → lib/runtime/wiring.js',
        'policy-is-the-lowest-layer: lib/policy/reaches-actions.js → lib/actions/plain.js',
        'no-cdk-in-lambda-code: lib/runtime/reaches-infra.js → lib/infra/stack.js',
        'lambdas-do-not-know-where-they-run: lambdas/knows-local.js → lib/local/engine.js',
        'sandbox-only-for-drills-and-tests: lib/runtime/reaches-sandbox.js → lib/sandbox/world.js',
        'yaml-below-policy: lib/yaml/reaches-policy.js → lib/policy/reaches-actions.js',
        'lambdas-read-compiled-config: lambdas/reads-yaml.js → lib/yaml/source.js',
        expect.stringMatching(/^no-cdk-package-in-lambda-code: lib\/runtime\/reaches-cdk\.js → .*node_modules\/constructs\//),
        expect.stringMatching(/^zod-through-lib-yaml: lib\/runtime\/imports-zod\.js → .*node_modules\/zod\//),
        expect.stringMatching(/^no-cycles-between-folders: lib\/(actions|runtime) → lib\/(runtime|actions)/),
      ]),
    );
    // lib/yaml/zod.js, the one module allowed to import zod, is not reported
    expect(result.violations.filter((v) => v.from === 'lib/yaml/zod.js')).toEqual([]);
    expect(new Set(result.violations.map((v) => v.rule))).toEqual(
      new Set(['actions-do-not-import-runtime-wiring', 'policy-is-the-lowest-layer', 'no-cdk-in-lambda-code', 'lambdas-do-not-know-where-they-run', 'sandbox-only-for-drills-and-tests', 'no-cycles-between-folders', 'yaml-below-policy', 'no-cdk-package-in-lambda-code', 'lambdas-read-compiled-config', 'zod-through-lib-yaml']),
    );
  }, 60_000);
});
