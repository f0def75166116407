#!/usr/bin/env node
// `sre-agent` command: loads the TypeScript CLI through tsx (no build step needed).
require('tsx/cjs');
require('./cli.ts').main(process.argv).catch((err) => {
  process.stderr.write(`sre-agent: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
