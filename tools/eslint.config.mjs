import baseConfig from '../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    // CommonJS tooling loaded by jest and node directly
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
