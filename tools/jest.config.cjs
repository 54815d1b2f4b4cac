// Unit tests of the workspace tooling (tools/ci, the benches' helpers, the chaos schedule): fast, no
// services. The tools' integration tests (e2e, cluster, release, pack-check, the chaos run) have
// their own config, jest.integration.config.cjs.
const { unit } = require('../jest-config/jest-config.cjs');

module.exports = {
  ...unit(__dirname),
  displayName: 'tools',
  testMatch: ['<rootDir>/ci/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts', '<rootDir>/chaos/**/*.spec.ts'],
};
