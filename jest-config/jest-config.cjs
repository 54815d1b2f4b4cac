// One jest configuration for every project, so packages don't each carry a copy.
// Unit tests: *.spec.ts beside the code. Integration tests (real RabbitMQ, Docker, Chromium,
// network namespaces): *.int.spec.ts, run by the separate `integration` target that CI always runs.
const path = require('node:path');

const swcConfig = {
  swcrc: false,
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true, explicitResourceManagement: true },
    transform: { decoratorMetadata: true, legacyDecorator: true },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

function base(projectDir) {
  const name = path.basename(projectDir);
  return {
    displayName: name,
    rootDir: projectDir,
    // eslint-disable-next-line @nx/enforce-module-boundaries -- the workspace preset lives at the root by Nx convention
    ...require('../jest.preset.js'),
    testEnvironment: 'node',
    transform: { '^.+\\.[tj]s$': ['@swc/jest', swcConfig] },
    moduleFileExtensions: ['ts', 'js', 'json'],
    coverageDirectory: 'test-output/jest/coverage',
  };
}

/** Fast tests of logic: no services, mocks allowed. */
function unit(projectDir) {
  return {
    ...base(projectDir),
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
    testPathIgnorePatterns: ['\\.int\\.spec\\.ts$', '/node_modules/', '/dist/'],
  };
}

/** Tests against real services; never mocked, never skipped. */
function integration(projectDir) {
  return {
    ...base(projectDir),
    testMatch: ['<rootDir>/src/**/*.int.spec.ts', '<rootDir>/test/**/*.int.spec.ts'],
    testTimeout: 120_000,
    setupFiles: [path.join(__dirname, 'integration-env.cjs')],
    setupFilesAfterEnv: [path.join(__dirname, 'integration-cleanup.cjs')],
  };
}

module.exports = { unit, integration };
