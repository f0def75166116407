/**
 * Which AWS SDK packages each Lambda loads at cold start, i.e. at `require('./index.js')`: every
 * function is built as the stack builds it (bench/bundles.ts buildFunction, the options of
 * lib/infra/bundling.ts) into a temporary directory, the SDK resolvable beside it as the Lambda
 * runtime provides it, and loaded by a new `node` process with the function's environment and a
 * Module._load hook that records the `@aws-sdk/*` packages asked for. None may be among them:
 * DynamoDB's client, on every invocation, is in the bundle (lib/infra/bundling.ts), and each
 * other client package costs ~30-35 ms of CPU at cold init and is loaded from the runtime at its
 * first use (lib/runtime/lazy-sdk.ts). The baseline function is the exception: CloudWatch is its
 * whole job, on every invocation.
 *
 * @lane pure (child processes that load bundles and touch no shared service)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { buildFunction, functionEnvironment, lambdaEntries, provideRuntimeSdk } from '../../bench/bundles';

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

let out: string;
/** functionId → the `@aws-sdk/*` packages its cold start loaded. */
let loaded: Map<string, string[]>;

beforeAll(async () => {
  out = mkdtempSync(path.join(tmpdir(), 'sre-agent-sdk-loads-'));
  provideRuntimeSdk(out);
  const built = await Promise.all(
    lambdaEntries().map(async ({ functionId, entry }) => {
      const dir = path.join(out, functionId.replace(':', '-'));
      await buildFunction(entry, dir);
      return { functionId, dir };
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
