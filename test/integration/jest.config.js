// The integration suite: the unit suite's Jest config (package.json, made by projen) plus a real cluster
// started once in global setup. Extending it keeps the transforms (ts-jest, the ESM CEL library) in one place.
const base = require('../../package.json').jest;

module.exports = {
  ...base,
  rootDir: '../..',
  testMatch: ['<rootDir>/test/integration/**/*.int.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 180000,
  maxWorkers: 1,
};
