/**
 * Every Lambda function built once, as the stack builds it (bench/bundles.ts buildFunction, the
 * options of lib/infra/bundling.ts), into a temporary directory; then two kinds of checks on the
 * same bundles.
 *
 * Contents and sizes, from esbuild's metafile: every bundle within its size ceiling (600 kB, or a
 * documented exception's own ceiling), no bundle carrying the YAML parsers (the functions read
 * their configuration compiled to JSON, statemachines/config.json), and each carrying only its own
 * dependencies: the Kubernetes client only where the entry wires the kube target (and in the
 * investigation, which reads every target), the SQL parser only in rds_query's, DynamoDB's client
 * wherever DynamoDB is read and no other SDK client.
 *
 * Cold start: each bundle loaded by a new `node` process with the function's environment, the SDK
 * resolvable beside it as the Lambda runtime provides it, and a Module._load hook that records the
 * `@aws-sdk/*` packages asked for. None may be among them: DynamoDB's client, on every
 * invocation, is in the bundle, and each other client package costs ~30-35 ms of CPU at cold init
 * and is loaded from the runtime at its first use (lib/runtime/lazy-sdk.ts). The baseline function
 * is the exception: CloudWatch is its whole job, on every invocation.
 *
 * Sizes and loads only: cold-init timing is the benchmark's job (`node bin/run-ts.js bench/bundles.ts`).
 *
 * @lane pure (child processes that load bundles and touch no shared service)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { EXCEPTIONS, SIZE_TARGET_BYTES, buildFunction, contributors, functionEnvironment, lambdaEntries, provideRuntimeSdk, sizeCeiling } from '../../bench/bundles';

const run = promisify(execFile);

/** Loaded at cold start on purpose, by function. */
const EAGER: Readonly<Record<string, readonly string[]>> = { baseline: ['@aws-sdk/client-cloudwatch'] };

/**
 * Loads `./index.js` and prints, at exit (so that a load started by a promise at module load
 * counts too), the SDK packages requested: every `@aws-sdk/client-*` wherever it is asked for,
 * and any other `@aws-sdk/*` the bundle itself requires.
 */
const PROBE = `
const Module = require('node:module');
const bundle = require('node:path').resolve('index.js');
const load = Module._load;
const seen = new Set();
Module._load = function (request, parent) {
  if (request.startsWith('@aws-sdk/client-') || (request.startsWith('@aws-sdk/') && parent && parent.filename === bundle)) seen.add(request);
  return load.apply(this, arguments);
};
process.on('exit', () => process.stdout.write(JSON.stringify([...seen].sort())));
if (typeof require('./index.js').handler !== 'function') throw new Error('no handler export');
`;

interface Built {
  readonly functionId: string;
  /** Where it was built: index.js and config/. */
  readonly dir: string;
  readonly bytes: number;
  readonly inputs: readonly string[];
  readonly top: string;
  /** Bytes in the output from each package (`@kubernetes/client-node`, `node-sql-parser`). */
  readonly packageBytes: (pkg: string) => number;
}

let built: Built[];
let out: string;
/** functionId → the `@aws-sdk/*` packages its cold start loaded. */
let loaded: Map<string, string[]>;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sre-agent-bundles-'));
  provideRuntimeSdk(out);
  // All at once: esbuild builds them in parallel.
  built = await Promise.all(
    lambdaEntries().map(async ({ functionId, entry }) => {
      const dir = path.join(out, functionId.replace(':', '-'));
      const { metafile } = await buildFunction(entry, dir);
      const output = Object.values(metafile.outputs).find((o) => o.entryPoint)!;
      const top = contributors(metafile)
        .slice(0, 5)
        .map((c) => `${c.from} ${Math.round(c.bytes / 1000)} kB`)
        .join(', ');
      const packageBytes = (pkg: string) =>
        Object.entries(output.inputs)
          .filter(([file]) => file.includes(`node_modules/${pkg}/`))
          .reduce((sum, [, v]) => sum + v.bytesInOutput, 0);
      return { functionId, dir, bytes: output.bytes, inputs: Object.keys(output.inputs), top, packageBytes };
    }),
  );
  loaded = new Map();
  const queue = [...built];
  const worker = async () => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      const { stdout } = await run(process.execPath, ['-e', PROBE], { cwd: b.dir, env: functionEnvironment(path.join(b.dir, 'config')), encoding: 'utf8' });
      loaded.set(b.functionId, JSON.parse(stdout) as string[]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, availableParallelism()) }, worker));
}, 300_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

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

describe('AWS SDK packages loaded at cold start', () => {
  it('loads every function of the stack, and sees the SDK packages it loads', () => {
    expect([...loaded.keys()].sort()).toEqual(lambdaEntries().map((e) => e.functionId).sort());
    // The hook sees what is loaded: the baseline's CloudWatch client comes from the runtime.
    expect(loaded.get('baseline')).toEqual(['@aws-sdk/client-cloudwatch']);
  });

  it('loads no SDK package from the runtime at module load (baseline: its CloudWatch)', () => {
    const expected = Object.fromEntries([...loaded.keys()].map((id) => [id, [...(EAGER[id] ?? [])]]));
    expect(Object.fromEntries(loaded)).toEqual(expected);
  });
});
