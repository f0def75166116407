/**
 * `npm test` runs two jest processes side by side (test/run-lanes.js): suites that touch the shared
 * services or a sped-up clock in one lane, one at a time; the rest in the other. A suite put in the
 * wrong lane could flush another's Redis database or miss an approval window, so what decides the
 * lane is pinned here, and the two shards are shown to split the suite without a gap or an overlap.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const { laneOf } = require('../lanes') as { laneOf: (file: string) => 'services' | 'pure' };
const LaneSequencer = require('../sequencer') as new (options: unknown) => { shard(tests: { path: string }[], o: { shardIndex: number; shardCount: number }): { path: string }[] };

const TEST_ROOT = path.resolve(__dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-lanes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function suite(source: string): string {
  const file = path.join(dir, `s${readdirSync(dir).length}.test.ts`);
  writeFileSync(file, source);
  return file;
}

function allSuites(at: string = TEST_ROOT): string[] {
  return readdirSync(at).flatMap((name) => {
    const p = path.join(at, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : allSuites(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('test lanes', () => {
  it.each([
    ["import { Redis } from 'ioredis';", 'Redis'],
    ["import mysql from 'mysql2/promise';", 'MariaDB'],
    ["const engine = await new LocalEngine({ notifier: false }).start();", 'a local engine'],
    ["agent = await startLocal({ port: 0 });", 'the local agent'],
    ["import { chromium } from 'playwright-core';", 'the browser'],
    ["import { execFile } from 'node:child_process';", 'a child process'],
    ['const options = { speedUp: 600 };', 'a sped-up clock'],
  ])('puts a suite using %s in the services lane (%s)', (line) => {
    expect(laneOf(suite(`${line}\nit('x', () => undefined);\n`))).toBe('services');
  });

  it('follows a suite that names its lane, whatever else it uses', () => {
    expect(laneOf(suite("/** @lane pure (a child process that touches no shared service) */\nimport { execFile } from 'node:child_process';\n"))).toBe('pure');
    expect(laneOf(suite("/** @lane services */\nit('x', () => undefined);\n"))).toBe('services');
  });

  it('puts a suite that needs none of them in the pure lane, a Kubernetes sandbox of its own included', () => {
    expect(laneOf(suite("import { compilePlaybook } from '../../lib/playbook';\nit('x', () => undefined);\n"))).toBe('pure');
    expect(laneOf(suite("import { startTestSandbox } from '../helpers/kube-sandbox';\nit('x', () => undefined);\n"))).toBe('pure');
  });

  it('the two shards split the whole suite: every suite in exactly one, the services ones where they belong', () => {
    // arrange
    const tests = allSuites().map((p) => ({ path: p }));
    const sequencer = new LaneSequencer({ contexts: [], globalConfig: {} });
    // act
    const services = sequencer.shard(tests, { shardIndex: 1, shardCount: 2 }).map((t) => t.path);
    const pure = sequencer.shard(tests, { shardIndex: 2, shardCount: 2 }).map((t) => t.path);
    // assess
    expect([...services, ...pure].sort()).toEqual(tests.map((t) => t.path).sort());
    expect(services.filter((p) => pure.includes(p))).toEqual([]);
    for (const known of ['e2e/dashboard.test.ts', 'e2e/drills.test.ts', 'integration/rds-analysis.test.ts', 'integration/redis-actions.test.ts', 'adversarial/crash-restart.test.ts']) {
      expect(services).toContain(path.join(TEST_ROOT, known));
    }
    expect(pure).toContain(path.join(TEST_ROOT, 'unit/playbook/compile.test.ts'));
  });
});
