#!/usr/bin/env node
// `sre-agent` command: loads the TypeScript CLI through tsx (no build step needed).
require('tsx/cjs');
// A closed pipe (`sre-agent graph x | head`) is not an error.
process.stdout.on('error', (err) => { if (err.code === 'EPIPE') process.exit(0); throw err; });
require('./cli.ts').main(process.argv).catch((err) => {
  process.stderr.write(`sre-agent: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
