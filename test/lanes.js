// The two lanes `npm test` runs side by side (test/run-lanes.js), one jest process each, so that
// both cores work:
// - services: suites that use the shared real services (Redis, MariaDB), a local engine whose
//   waits run on a sped-up clock, the browser or child processes. They run one
//   at a time, as before: two of them at once could flush each other's Redis database, count each
//   other's MariaDB connections, or miss a sped-up approval window.
// - pure: everything else (compiler, policy, template assertions, bundles, dynalite-only stores,
//   the Kubernetes sandbox: each suite starts its own, in process, and shares nothing).
// A suite's lane is read from its source; test/unit/lanes.test.ts pins what decides it.
const { readFileSync } = require('node:fs');

/** What puts a suite in the services lane: a real service, a sped-up clock, a browser, a child process. */
const SERVICES = /\bioredis\b|\bmysql2\b|\bLocalEngine\b|\bstartLocal\b|\brunDrills\b|\bplaywright-core\b|helpers\/redis|\bspeedUp\b|\bnode:child_process\b/;

/** A suite may say which lane it belongs to, in a comment: `@lane pure` (it starts a child process that touches no shared service). */
const MARKER = /@lane (services|pure)\b/;

function laneOf(testPath) {
  const source = readFileSync(testPath, 'utf8');
  const marked = MARKER.exec(source);
  if (marked) return marked[1];
  return SERVICES.test(source) ? 'services' : 'pure';
}

const LANES = ['services', 'pure'];

module.exports = { laneOf, LANES, SERVICES, MARKER };
