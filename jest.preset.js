const nxPreset = require('@nx/jest/preset').default;
const path = require('node:path');

module.exports = {
  ...nxPreset,
  testEnvironment: 'node',
  // Resolve @kraken/* to their TypeScript sources so tests never run against a stale dist.
  testEnvironmentOptions: { customExportConditions: ['@kraken/source', 'node', 'require', 'default'] },
  reporters: ['default', path.join(__dirname, 'jest-config/results-reporter.cjs')],
};
