#!/usr/bin/env node
// `sre-agent` command: loads the TypeScript CLI through tsx (no build step needed).
require('tsx/cjs');
// The AWS SDK warns on Node 20 that releases after January 2027 need Node 22; the Lambdas run
// nodejs22.x and the local tools stay on 20 (DESIGN.md). The SDK's own switch keeps it quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// A closed pipe (`sre-agent graph x | head`) is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
require('./cli.ts').main(process.argv).catch((err) => {
  process.stderr.write(`sre-agent: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
