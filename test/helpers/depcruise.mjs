/**
 * Runs dependency-cruiser's API (ESM only, hence a child process of its own) with the repository's
 * .dependency-cruiser.cjs over the folders given, from `--base <dir>` (default: the repository),
 * and prints one JSON object: the violations (rule, from, to, cycle) and how many modules were
 * cruised. test/unit/architecture.test.ts reads it.
 *
 *   node test/helpers/depcruise.mjs [--base DIR] [--no-ts-config] bin lib lambdas
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
let base = root;
let useTsConfig = true;
const folders = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') base = path.resolve(args[++i]);
  else if (args[i] === '--no-ts-config') useTsConfig = false;
  else folders.push(args[i]);
}
process.chdir(base);
const options = await extractDepcruiseOptions(path.join(root, '.dependency-cruiser.cjs'));
if (!useTsConfig) delete options.tsConfig;
const tsConfig = useTsConfig ? extractTSConfig(path.join(root, 'tsconfig.json')) : undefined;
const { output } = await cruise(folders, { ...options, baseDir: base, outputType: 'json' }, undefined, tsConfig ? { tsConfig } : undefined);
const result = typeof output === 'string' ? JSON.parse(output) : output;
const violations = result.summary.violations.map((v) => ({
  rule: v.rule.name,
  from: v.from,
  to: v.to,
  ...(v.cycle ? { cycle: v.cycle.map((c) => (typeof c === 'string' ? c : c.name)) } : {}),
}));
process.stdout.write(JSON.stringify({ modules: result.summary.totalCruised, violations }));
