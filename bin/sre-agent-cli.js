#!/usr/bin/env node
// `sre-agent` command: runs the CLI from .build/ (`npm run build`, done by `npm ci`) while that
// build is newer than every source file, else straight from TypeScript through tsx.
const { isFresh, OUT } = require('./build-cli.js');
const built = isFresh();
if (!built) require('tsx/cjs');
// The AWS SDK warns on Node 20 that releases after January 2027 need Node 22; the Lambdas run
// nodejs22.x and the local tools stay on 20 (DESIGN.md). The SDK's own switch keeps it quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A closed pipe (`sre-agent graph x | head`) is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
require(built ? `${OUT}/bin/cli.js` : './cli.ts').main(process.argv).catch((err) => {
  process.stderr.write(`sre-agent: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
