import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Dependency direction from ARCHITECTURE.md, as Nx module-boundary tags.
 * A project may only import projects whose scope is listed for it; a new
 * package gets a tag in its package.json and a line here.
 */
const scopeRules = {
  common: [],
  messages: ['common'],
  broker: ['common', 'messages'],
  rabbitmq: ['common'],
  shipwreck: ['common'],
  // the runtime contract; the two runtimes are peers that share it and never import each other
  runtime: ['common'],
  'docker-deployer': ['common', 'shipwreck', 'runtime'],
  'process-deployer': ['common', 'shipwreck', 'runtime'],
  discovery: ['common', 'messages', 'trust'],
  ingress: ['common'],
  // the cluster CA, agents' certificates and join tokens: the agent, its client and the API use it
  trust: ['common'],
  // docker-deployer only for its integration specs, which run a real DockerDeployer
  worker: ['common', 'messages', 'broker', 'shipwreck', 'runtime', 'docker-deployer'],
  orchestrator: ['common', 'messages', 'broker', 'shipwreck', 'trust'],
  // the UI's bundle imports no package; its build renders the Getting started manifests with shipwreck
  ui: ['shipwreck'],
  'ui-host': ['common'],
  agent: ['common', 'messages', 'broker', 'shipwreck', 'trust', 'runtime', 'docker-deployer', 'process-deployer', 'discovery', 'ingress', 'orchestrator', 'worker', 'ui-host', 'rabbitmq'],
};

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc', '**/test-output', '**/node_modules', '**/jest.config.cjs', '**/jest.integration.config.cjs', 'apps/ui-host/public'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.jsx', '**/*.mjs', '**/*.cjs', '**/*.cts', '**/*.mts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          checkNestedExternalImports: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            ...Object.entries(scopeRules).map(([scope, allowed]) => ({
              sourceTag: `scope:${scope}`,
              // test helpers are private and may be used by any project's tests
              onlyDependOnLibsWithTags: [...allowed.map((s) => `scope:${s}`), 'scope:testing'],
            })),
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  // Type-aware rules for TypeScript sources (STYLE.md: strictTypeChecked, no floating promises).
  ...tseslint.configs.strictTypeChecked.map((config) => ({
    ...config,
    files: ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts'],
  })),
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts'],
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.cts', '*.mts', 'jest.config.ts'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@kraken/*/src/*', '@kraken/*/dist/*', '../../packages/*', '../../../packages/*'],
              message: "Import another package only through its public surface ('@kraken/<name>').",
            },
          ],
        },
      ],
    },
  },
  {
    // the workspace-level jest config is not part of any package's tsconfig
    files: ['jest.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.spec.ts', '**/*.test.ts'],
    rules: {
      // jest's expect(...).rejects and mock helpers trip these on purpose
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
];

/**
 * A package's eslint config: the workspace rules plus the check that package.json declares exactly
 * the dependencies the sources import. `ignoredDependencies` is for peers that are never imported.
 */
export async function packageConfig({ ignoredDependencies = [] } = {}) {
  const jsonParser = await import('jsonc-eslint-parser');
  const config = (await import('./eslint.config.mjs')).default;
  return [
    ...config,
    {
      files: ['**/*.json'],
      rules: {
        '@nx/dependency-checks': [
          'error',
          { ignoredFiles: ['{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}', '{projectRoot}/jest.*config.cjs'], ignoredDependencies },
        ],
      },
      languageOptions: { parser: jsonParser },
    },
  ];
}
