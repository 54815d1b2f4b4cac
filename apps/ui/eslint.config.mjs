import { packageConfig } from '../../eslint.config.mjs';

export default [
  ...(await packageConfig()),
  {
    // vite.config.mts runs at build time only: its imports are devDependencies, not runtime ones.
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        { ignoredFiles: ['{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}', '{projectRoot}/jest.*config.cjs', '{projectRoot}/vite.config.mts'] },
      ],
    },
  },
];
