/**
 * Where the Kubernetes pieces may be imported from (DESIGN.md's dependency rules): the sandbox only
 * by lib/local, lib/sandbox, bench/ and test/; the Kubernetes client only by lib/kube; and the
 * action registry never loads either (the Kubernetes actions' Lambda entries wire their target).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((f) => {
    const rel = path.join(dir, f);
    return statSync(path.join(ROOT, rel)).isDirectory() ? files(rel) : /\.(ts|js)$/.test(f) ? [rel] : [];
  });
}

/** Module specifiers a file imports (static, dynamic, require), resolved to repo paths when relative. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)'([^']+)'/g)].map((m) => m[1] as string);
  return specs.map((s) => (s.startsWith('.') ? path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), s)) : s));
}

const source = [...files('lib'), ...files('bin'), ...files('lambdas')];

describe('imports of the Kubernetes pieces', () => {
  it('nothing outside lib/local, lib/sandbox, bench/ and test/ imports lib/sandbox', () => {
    const offenders = source.filter((f) => !f.startsWith('lib/local/') && !f.startsWith('lib/sandbox/')).filter((f) => importsOf(f).some((i) => i === 'lib/sandbox' || i.startsWith('lib/sandbox/')));
    expect(offenders).toEqual([]);
  });

  it('only lib/kube imports @kubernetes/client-node', () => {
    const offenders = source.filter((f) => !f.startsWith('lib/kube/')).filter((f) => importsOf(f).some((i) => i.startsWith('@kubernetes/client-node')));
    expect(offenders).toEqual([]);
  });

  it('the Kubernetes adapter is wired only by the kube target, lib/local and itself: the action registry never loads it', () => {
    const offenders = source.filter((f) => !f.startsWith('lib/kube/') && !f.startsWith('lib/local/') && f !== 'lib/runtime/targets/kube.ts').filter((f) => importsOf(f).some((i) => i === 'lib/kube' || i.startsWith('lib/kube/')));
    expect(offenders).toEqual([]);
  });
});
