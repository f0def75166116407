/**
 * Every Lambda bundle within its size ceiling (bench/bundles.ts: 600 kB, or a documented
 * exception's own ceiling), measured from esbuild's metafile with the stack's options
 * (lib/infra/bundling.ts), and no bundle carrying the YAML parsers: the functions read their
 * configuration compiled to JSON (statemachines/config.json). Each bundle carries only its own
 * dependencies: the Kubernetes client only where the entry wires the kube target (and in the
 * investigation, which reads every target), the SQL parser only in rds_query's. Sizes only:
 * cold-init timing is the benchmark's job (`node bin/run-ts.js bench/bundles.ts`).
 */
import { build, type Metafile } from 'esbuild';
import * as path from 'node:path';
import { EXCEPTIONS, SIZE_TARGET_BYTES, contributors, lambdaEntries, sizeCeiling } from '../../bench/bundles';
import { esbuildOptions } from '../../lib/infra/bundling';

interface Built {
  readonly functionId: string;
  readonly bytes: number;
  readonly inputs: readonly string[];
  readonly top: string;
  /** Bytes in the output from each package (`@kubernetes/client-node`, `node-sql-parser`). */
  readonly packageBytes: (pkg: string) => number;
}

let built: Built[];

beforeAll(async () => {
  // All at once: esbuild builds them in parallel, nothing is written to disk.
  built = await Promise.all(
    lambdaEntries().map(async ({ functionId, entry }) => {
      const result = await build({ ...esbuildOptions(entry, path.join('/nonexistent', functionId, 'index.js')), write: false, metafile: true, logLevel: 'silent' });
      const output = Object.values((result.metafile as Metafile).outputs).find((o) => o.entryPoint)!;
      const top = contributors(result.metafile as Metafile)
        .slice(0, 5)
        .map((c) => `${c.from} ${Math.round(c.bytes / 1000)} kB`)
        .join(', ');
      const packageBytes = (pkg: string) =>
        Object.entries(output.inputs)
          .filter(([file]) => file.includes(`node_modules/${pkg}/`))
          .reduce((sum, [, v]) => sum + v.bytesInOutput, 0);
      return { functionId, bytes: output.bytes, inputs: Object.keys(output.inputs), top, packageBytes };
    }),
  );
}, 300_000);

describe('Lambda bundle sizes', () => {
  it('builds every function of the stack', () => {
    expect(built.map((b) => b.functionId).sort()).toEqual(lambdaEntries().map((e) => e.functionId).sort());
  });

  it('keeps every bundle within its ceiling (600 kB, or its documented exception)', () => {
    const over = built.filter((b) => b.bytes > sizeCeiling(b.functionId)).map((b) => `${b.functionId}: ${b.bytes} bytes > ${sizeCeiling(b.functionId)} (${b.top})`);
    expect(over).toEqual([]);
  });

  it('lists as exceptions only functions that exist and need one', () => {
    const ids = new Set(built.map((b) => b.functionId));
    for (const [id, exception] of Object.entries(EXCEPTIONS)) {
      expect(ids.has(id)).toBe(true);
      expect(exception.maxBytes).toBeGreaterThan(SIZE_TARGET_BYTES);
      expect(built.find((b) => b.functionId === id)!.bytes).toBeGreaterThan(SIZE_TARGET_BYTES);
    }
  });

  it('carries the Kubernetes client only where the entry wires the kube target, and the investigation', () => {
    const wiresKube = (b: Built) => b.inputs.includes('lib/runtime/targets/kube.ts') || b.functionId === 'investigate';
    const kube = built.filter(wiresKube).map((b) => b.functionId);
    expect(kube).toEqual(expect.arrayContaining(['action:patch_hpa_max', 'action:check_certificates', 'action:rolling_restart', 'investigate']));
    for (const b of built) {
      if (wiresKube(b)) expect([b.functionId, b.packageBytes('@kubernetes/client-node') > 500_000]).toEqual([b.functionId, true]);
      else expect([b.functionId, b.packageBytes('@kubernetes/client-node')]).toEqual([b.functionId, 0]);
    }
  });

  it('carries the SQL parser only in rds_query, the action that declares SQL parameters', () => {
    expect(built.filter((b) => b.packageBytes('node-sql-parser') > 0).map((b) => b.functionId)).toEqual(['action:rds_query']);
    expect(built.find((b) => b.functionId === 'action:rds_query')!.packageBytes('node-sql-parser')).toBeGreaterThan(100_000);
  });

  it('carries the DynamoDB client, the version the lock file pins, where the code reads DynamoDB, and no other SDK client', () => {
    const clients = (b: Built) => [...new Set(b.inputs.map((i) => /node_modules\/@aws-sdk\/(client-[^/]+)\//.exec(i)?.[1]).filter((c): c is string => !!c))];
    for (const b of built) {
      const reads = b.inputs.includes('lib/incident/store.ts');
      expect([b.functionId, clients(b)]).toEqual([b.functionId, reads ? ['client-dynamodb'] : []]);
    }
    expect(built.filter((b) => b.inputs.includes('lib/incident/store.ts')).length).toBe(built.length - 1); // all but the baseline
  });

  it('carries no YAML parser of ours: the configuration is read as JSON', () => {
    const withYaml = built.filter((b) => b.inputs.some((i) => i === 'lib/yaml/source.ts' || i.includes('node_modules/yaml/'))).map((b) => b.functionId);
    expect(withYaml).toEqual([]);
  });
});
