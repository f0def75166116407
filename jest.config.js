/** Jest: TypeScript through ts-jest (transpile only; `tsc --noEmit` in `npm test` does the type check). */
// Local tools run on Node 20; the Lambdas on nodejs22.x. Silence the SDK's Node 22 notice in tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // @kubernetes/client-node 1.x and its OIDC dependencies ship only ES modules.
    '/node_modules/.+\\.js$': '<rootDir>/test/esm-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|jose|oauth4webapi|jsonpath-plus|rfc4648|marked)/)'],
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // `--shard=1/2` and `--shard=2/2` are the services and pure lanes (test/lanes.js, test/run-lanes.js).
  testSequencer: '<rootDir>/test/sequencer.js',
  // In a lane: names what tests left running (timers, sockets, child processes) after the last one.
  globalTeardown: '<rootDir>/test/lane-teardown.js',
  setupFiles: ['<rootDir>/test/lane-timers.js'],
  testTimeout: 30000,
};
