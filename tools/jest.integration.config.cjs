const { integration } = require('../jest-config/jest-config.cjs');

module.exports = {
  ...integration(__dirname),
  displayName: 'tools',
  testMatch: ['<rootDir>/**/*.int.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
