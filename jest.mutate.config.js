/**
 * The tests `npm run mutate` (Stryker) runs against each mutant of the safety layer: the fast
 * unit tests of the policy rules, the guard and the dispatcher, the compile-time safety and its
 * fixtures, and the approval decision code on dynalite. Kept small so a run takes minutes.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  reporters: ['default'],
  testMatch: [
    '<rootDir>/test/unit/policy/**/*.test.ts',
    '<rootDir>/test/unit/actions/dispatch.test.ts',
    '<rootDir>/test/unit/actions/rds-query.test.ts',
    '<rootDir>/test/unit/playbook/safety.test.ts',
    '<rootDir>/test/unit/playbook/fixtures.test.ts',
    '<rootDir>/test/integration/approval-store.test.ts',
  ],
};
