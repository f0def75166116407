// In a lane (test/run-lanes.js), remembers where each timer of 10 s or more that keeps the process
// alive was created, so the lane's teardown (test/lane-teardown.js) can name the code that left one
// running after the last test. jest runs the suites in band on a 2-core machine: their timers live
// in this process. Installed once per process (jest loads setup files once per suite, each in its own
// sandbox: the map hangs on the async_hooks module, the one object they and the teardown share).
// On request only (SRE_AGENT_TEST_TIMERS=1): an init hook makes every promise slower.
const asyncHooks = require('node:async_hooks');

const KEY = Symbol.for('sre-agent.lane-timers');
if (process.env.SRE_AGENT_TEST_LANE && process.env.SRE_AGENT_TEST_TIMERS === '1' && !asyncHooks[KEY]) {
  const timers = new Map();
  asyncHooks.createHook({
    init(id, type, _trigger, resource) {
      if (type !== 'Timeout' || (resource._idleTimeout ?? 0) < Number(process.env.SRE_AGENT_TEST_TIMERS_MIN_MS ?? 10_000)) return;
      timers.set(id, { resource, ms: resource._idleTimeout, stack: new Error().stack.split('\n').slice(2, 12).join('\n') });
    },
    destroy(id) {
      timers.delete(id);
    },
  }).enable();
  asyncHooks[KEY] = timers;
}
