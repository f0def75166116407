/**
 * Each action's Lambda bundle (esbuild as the CDK's NodejsFunction runs it: bundled, minified,
 * CommonJS for node22, the AWS SDK left to the runtime) carries only its own dependencies: the
 * Kubernetes client is in the Kubernetes actions' bundles and in no other.
 */
import { buildSync, type Metafile } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const out = mkdtempSync(path.join(tmpdir(), 'sre-agent-bundles-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Bytes of the minified bundle, and how many of them come from @kubernetes/client-node. */
function bundle(action: string): { bytes: number; kubeClientBytes: number } {
  const outfile = path.join(out, `${action}.js`);
  const result = buildSync({ entryPoints: [path.join(ROOT, 'lambdas/actions', `${action}.ts`)], bundle: true, minify: true, platform: 'node', target: 'node22', format: 'cjs', external: ['@aws-sdk/*'], outfile, metafile: true, logLevel: 'silent' });
  const output = Object.values((result.metafile as Metafile).outputs).find((o) => o.entryPoint)!;
  const kubeClientBytes = Object.entries(output.inputs)
    .filter(([file]) => file.includes('node_modules/@kubernetes/client-node/'))
    .reduce((sum, [, v]) => sum + v.bytesInOutput, 0);
  return { bytes: output.bytes, kubeClientBytes };
}

describe('action bundles', () => {
  // Two of each side: bundling costs about a second each on this machine.
  it.each(['patch_hpa_max', 'check_certificates'])('%s carries the Kubernetes client', (action) => {
    expect(bundle(action).kubeClientBytes).toBeGreaterThan(500_000);
  });

  it.each(['redis_command', 'api_call'])('%s does not', (action) => {
    expect(bundle(action).kubeClientBytes).toBe(0);
  });
});
