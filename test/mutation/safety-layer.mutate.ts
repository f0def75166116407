/**
 * What `npm run mutate` runs against every mutant of the safety layer (stryker.config.json): the
 * fast unit tests of the policy rules, the guard, the dispatcher, the compile-time safety and the
 * approval decisions and pages, under mocha in one process (test/mutation/jest-globals.ts). The
 * same files run under jest in `npm test`. Each file's tests keep their own describe (its path).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installJestGlobals } from './jest-globals';

const TEST_ROOT = path.join(__dirname, '..');

/** Every unit test file under these folders, plus these files. */
export const MUTATION_TEST_DIRS = ['unit/policy'];
export const MUTATION_TEST_FILES = ['unit/actions/dispatch.test.ts', 'unit/actions/rds-query.test.ts', 'unit/playbook/safety.test.ts', 'unit/approval/decision.test.ts', 'unit/approval/callback.test.ts', 'adversarial/spellings-and-sql-tricks.test.ts', 'adversarial/forged-payload-shapes.test.ts'];

function testsUnder(dir: string): string[] {
  return fs.readdirSync(path.join(TEST_ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testsUnder(`${dir}/${e.name}`) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : []));
}

installJestGlobals();
for (const file of [...MUTATION_TEST_DIRS.flatMap(testsUnder).sort(), ...MUTATION_TEST_FILES]) {
  describe(file, () => {
    require(path.join(TEST_ROOT, file));
  });
}
