#!/usr/bin/env node
// Runs a TypeScript entry point through tsx, so the repo needs no build step.
require('tsx/cjs');
const path = require('node:path');
const [, , entry, ...rest] = process.argv;
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));
