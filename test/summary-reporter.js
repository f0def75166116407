// Prints the plain closing line CI reads: "N passed, N failed". A suite that could not run (a
// syntax error, a failing beforeAll import) counts as one failure, so it cannot pass unseen.
// Inside a lane of test/run-lanes.js it prints the lane's own line instead, and leaves its counts in
// the file the runner names; the runner prints the closing line for both lanes.
const { writeFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const lane = process.env.SRE_AGENT_TEST_LANE;
    if (lane && process.env.SRE_AGENT_TEST_SUMMARY) {
      writeFileSync(process.env.SRE_AGENT_TEST_SUMMARY, JSON.stringify({ passed, failed, suites: results.numTotalTestSuites }));
      process.stdout.write(`\nlane ${lane}: ${passed} passed, ${failed} failed (${results.numTotalTestSuites} suites)\n`);
    } else {
      process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
    }
  }
}
module.exports = SummaryReporter;
