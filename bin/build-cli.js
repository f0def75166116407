#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`, so `npm ci` runs it): transpiles bin/ and lib/ to .build/ with
 * esbuild, file by file, so the `sre-agent` command starts without tsx's per-file transforms.
 * Modules keep their paths (.build/lib/x.js for lib/x.ts), and .build/playbooks and
 * .build/statemachines link back to the repository, so `__dirname`-relative paths still work.
 * bin/sre-agent-cli.js uses the build only while it is newer than every source (see isFresh).
 */
const { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, copyFileSync, writeFileSync, statSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, '.build');
const SOURCE_DIRS = ['bin', 'lib'];
const LINKS = ['playbooks', 'statemachines'];

/** Every .ts, .js and .css file under the source folders (repository-relative paths; .js and .css are copied). */
function sources() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.(ts|js|css)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(rel);
    }
  };
  for (const dir of SOURCE_DIRS) walk(dir);
  return files;
}

/** True when the build exists and no source is newer than it, nor added or removed since. */
function isFresh(out = OUT) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(path.join(out, 'stamp.json'), 'utf8'));
  } catch {
    return false;
  }
  const files = sources();
  if (files.length !== stamp.files) return false;
  return files.every((f) => statSync(path.join(ROOT, f)).mtimeMs <= stamp.builtAt);
}

/** Builds into a fresh folder and swaps it in, so a command started meanwhile sees no half build. */
function build(out = OUT) {
  const esbuild = require('esbuild');
  const builtAt = Date.now();
  const files = sources();
  const next = `${out}.${process.pid}.tmp`;
  rmSync(next, { recursive: true, force: true });
  const ts = files.filter((f) => f.endsWith('.ts'));
  esbuild.buildSync({
    entryPoints: ts.map((f) => path.join(ROOT, f)),
    outdir: next,
    outbase: ROOT,
    bundle: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  for (const f of files.filter((f) => !f.endsWith('.ts'))) {
    mkdirSync(path.dirname(path.join(next, f)), { recursive: true });
    copyFileSync(path.join(ROOT, f), path.join(next, f));
  }
  for (const dir of LINKS) symlinkSync(path.relative(path.dirname(path.join(out, dir)), path.join(ROOT, dir)), path.join(next, dir), 'dir');
  writeFileSync(path.join(next, 'stamp.json'), `${JSON.stringify({ builtAt, files: files.length })}\n`);
  const old = `${out}.${process.pid}.old`;
  try {
    renameSync(out, old);
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  renameSync(next, out);
  rmSync(old, { recursive: true, force: true });
  return files.length;
}

module.exports = { isFresh, build, OUT };

if (require.main === module) {
  const n = build();
  process.stdout.write(`built .build/ from ${n} files\n`);
}
