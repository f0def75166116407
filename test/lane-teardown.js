// After the last suite of a lane (test/run-lanes.js): if anything a test started is still active
// (jest runs in band on a 2-core machine, so the tests' timers, sockets and child processes live in
// this process), name their kinds, and where each long timer that holds the process was created
// (test/lane-timers.js). jest would otherwise only say it "did not exit", and the lane runner stops
// it after a grace; this says what to look for.
module.exports = async function laneTeardown() {
  if (!process.env.SRE_AGENT_TEST_LANE) return;
  // Let the suites' own closing callbacks run first.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const active = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap' && kind !== 'PipeWrap');
  if (active.length === 0) return;
  const counts = {};
  for (const kind of active) counts[kind] = (counts[kind] ?? 0) + 1;
  const lane = process.env.SRE_AGENT_TEST_LANE;
  process.stdout.write(`\nlane ${lane}: still active after the last test: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
  const timers = require('node:async_hooks')[Symbol.for('sre-agent.lane-timers')];
  if (!timers) process.stdout.write(`lane ${lane}: SRE_AGENT_TEST_TIMERS=1 npm test names where each long timer was created\n`);
  for (const t of timers ? timers.values() : []) {
    if (typeof t.resource.hasRef === 'function' && !t.resource.hasRef()) continue;
    process.stdout.write(`lane ${lane}: a ${Math.round(t.ms / 1000)} s timer holds the process, created\n${t.stack}\n`);
  }
};
