/**
 * The tests `npm run mutate` (Stryker) runs against each mutant of the safety layer: the fast
 * unit tests of the policy rules, the guard, the dispatcher, the compile-time safety and the
 * approval decisions. No servers: a run takes minutes, not hours.
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
    '<rootDir>/test/unit/approval/decision.test.ts',
  ],
};
