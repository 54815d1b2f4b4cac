import { packageConfig } from '../../eslint.config.mjs';

export default [
  // written by graphql-codegen (`nx run ui:codegen`), checked by codegen.spec.ts, not by hand
  { ignores: ['src/api/generated.ts'] },
  ...(await packageConfig()),
  {
    // vite.config.mts, build/ and codegen.ts run at build time only, test/ in tests: their imports are devDependencies, not runtime ones.
    files: ['**/*.json'],
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs,ts,cts,mts}',
            '{projectRoot}/jest.*config.cjs',
            '{projectRoot}/vite.config.mts',
            '{projectRoot}/build/*.mts',
            '{projectRoot}/test/**',
            '{projectRoot}/codegen.ts',
          ],
        },
      ],
    },
  },
];
