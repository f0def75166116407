/**
 * The jest globals the safety layer's unit tests use, for running them under mocha (`npm run
 * mutate`): `expect` (jest's own package) and `it.each` / `describe.each` with jest's title
 * formatting (`%s %p %j %i %d %#`, `$field`). Mocha keeps the loaded modules between mutants, so
 * Stryker switches mutants without reloading anything; under jest every mutant reloaded every
 * import (≈ 1.5 s a mutant on this machine).
 */
import { format } from 'node:util';
import { expect } from 'expect';

type Fn = (...args: never[]) => unknown;
type Runner = ((title: string, fn: Fn) => unknown) & { each?: unknown };

function title(template: string, row: unknown, index: number): string {
  if (Array.isArray(row)) {
    let i = 0;
    const out = template.replace(/%[spjidfoO#%]/g, (m) => {
      if (m === '%%') return '%';
      if (m === '%#') return String(index);
      const value = row[i++];
      if (m === '%s') return String(value);
      if (m === '%i') return String(Math.trunc(Number(value)));
      if (m === '%d' || m === '%f') return String(Number(value));
      return format('%j', value);
    });
    return out;
  }
  if (row !== null && typeof row === 'object') {
    return template.replace(/\$([A-Za-z_][\w.]*)/g, (m, key: string) => {
      let v: unknown = row;
      for (const k of key.split('.')) v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[k];
      return typeof v === 'string' ? v : format('%j', v);
    }).replace(/%#/g, String(index));
  }
  return title(template, [row], index);
}

function eachOf(run: Runner): (table: readonly unknown[]) => (template: string, fn: Fn) => void {
  return (table) => (template, fn) => {
    table.forEach((row, index) => {
      const args = Array.isArray(row) ? row : [row];
      run(title(template, row, index), function (this: unknown) {
        return (fn as (...a: unknown[]) => unknown).apply(this, args);
      });
    });
  };
}

/** Puts `expect`, `it.each`, `describe.each`, `test`, `beforeAll` and `afterAll` on the global object. */
export function installJestGlobals(): void {
  const g = globalThis as unknown as Record<string, Runner | unknown>;
  g.expect = expect;
  const it = g.it as Runner;
  const describe = g.describe as Runner;
  it.each ??= eachOf(it);
  describe.each ??= eachOf(describe);
  g.test ??= it;
  g.beforeAll ??= g.before;
  g.afterAll ??= g.after;
}
