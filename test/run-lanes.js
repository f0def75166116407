#!/usr/bin/env node
// `npm test` after the type check: the whole suite as two jest processes side by side, the
// services lane and the pure lane (test/lanes.js), so that the two cores of a CI machine both work.
// The services lane streams as it runs; the pure lane's output follows it. The last line is the
// plain "N passed, N failed" of both lanes together; the exit status fails if either lane fails
// or dies without its counts.
// With arguments (`npm test -- test/unit/foo.test.ts`, `-t name`), one ordinary jest run instead.
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { LANES } = require('./lanes');

const JEST = require.resolve('jest/bin/jest');
/** How long a lane may run on after reporting its counts before it is stopped. */
const EXIT_GRACE_MS = 15_000;
const args = process.argv.slice(2);

if (args.length > 0) {
  const child = spawn(process.execPath, [JEST, ...args], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  void runLanes();
}

function runLane(lane, index, dir, live) {
  const summary = path.join(dir, `${lane}.json`);
  const child = spawn(process.execPath, [JEST, `--shard=${index + 1}/${LANES.length}`], {
    env: { ...process.env, SRE_AGENT_TEST_LANE: lane, SRE_AGENT_TEST_SUMMARY: summary, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kept = [];
  const take = (stream, to) => stream.on('data', (chunk) => (live ? to.write(chunk) : kept.push(chunk)));
  take(child.stdout, process.stdout);
  take(child.stderr, process.stderr);
  // Once the run has reported its counts, jest should exit within moments. A test that left a
  // timer, socket or child process behind keeps it alive (jest then prints "did not exit"): stop
  // the lane after a grace instead of letting CI wait on it, and say so.
  let stopped = false;
  const watch = setInterval(() => {
    if (!existsSync(summary)) return;
    clearInterval(watch);
    setTimeout(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopped = true;
      child.kill('SIGTERM');
    }, EXIT_GRACE_MS).unref();
  }, 250);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      if (stopped) {
        const note = `\nlane ${lane}: jest had not exited ${EXIT_GRACE_MS / 1000} s after its last test, so it was stopped: a test left a timer, socket or child process behind (SRE_AGENT_TEST_TIMERS=1 npm test names where each timer was created)\n`;
        if (live) process.stdout.write(note);
        else kept.push(Buffer.from(note));
      }
      let counts;
      try {
        counts = JSON.parse(readFileSync(summary, 'utf8'));
      } catch {
        counts = undefined;
      }
      resolve({ lane, code: stopped && counts ? (counts.failed > 0 ? 1 : 0) : (code ?? 1), signal: stopped ? undefined : signal, counts, output: Buffer.concat(kept) });
    });
  });
}

async function runLanes() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sre-agent-lanes-'));
  const started = Date.now();
  const results = await Promise.all(LANES.map((lane, i) => runLane(lane, i, dir, i === 0)));
  rmSync(dir, { recursive: true, force: true });
  let passed = 0;
  let failed = 0;
  for (const r of results) {
    if (r.output.length) process.stdout.write(r.output);
    if (!r.counts) {
      process.stdout.write(`\nlane ${r.lane}: jest ended (${r.signal ?? `exit ${r.code}`}) without its counts: counted as one failure\n`);
      failed += 1;
      continue;
    }
    passed += r.counts.passed;
    failed += r.counts.failed;
    if (r.code !== 0 && r.counts.failed === 0) failed += 1; // jest failed for another reason (a coverage or config error)
  }
  process.stdout.write(`\nlanes: ${results.map((r) => `${r.lane} ${r.counts ? `${r.counts.passed + r.counts.failed} tests` : 'no counts'}`).join(', ')}; ${Math.round((Date.now() - started) / 1000)} s\n`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed > 0 ? 1 : 0);
}
