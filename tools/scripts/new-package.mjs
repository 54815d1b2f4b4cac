#!/usr/bin/env node
// Scaffolds a package with the workspace's conventions (see README "Adding a package"):
//   node tools/scripts/new-package.mjs <name> "<one-line description>" [--private] [--app]
// Then: add its scope to eslint.config.mjs, declare dependencies, run `npx nx sync`.
import fs from 'node:fs';
import path from 'node:path';

const [name, description = '', ...flags] = process.argv.slice(2);
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: new-package.mjs <name> "<description>" [--private] [--app]');
  process.exit(2);
}
const isPrivate = flags.includes('--private');
const folder = flags.includes('--app') ? 'apps' : 'packages';
const root = path.resolve(import.meta.dirname, '..', '..');
const dir = path.join(root, folder, name);
if (fs.existsSync(dir)) {
  console.error(`${path.relative(root, dir)} already exists`);
  process.exit(1);
}

const write = (file, content) => {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2) + '\n');
};

write('package.json', {
  name: `@kraken/${name}`,
  version: '0.1.0',
  description,
  license: 'MIT',
  ...(isPrivate ? { private: true } : {}),
  type: 'module',
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    './package.json': './package.json',
    '.': {
      '@kraken/source': './src/index.ts',
      types: './dist/index.d.ts',
      import: './dist/index.js',
      default: './dist/index.js',
    },
  },
  files: ['dist', '!**/*.tsbuildinfo', '!**/*.spec.*'],
  engines: { node: '>=22.15' },
  ...(isPrivate ? {} : { publishConfig: { access: 'public' } }),
  // tag:publish puts it in `nx release`; stage prepares what `nx release publish` uploads
  nx: isPrivate ? { name, tags: [`scope:${name}`] } : { name, tags: [`scope:${name}`, 'publish'], targets: { stage: {} } },
  dependencies: { tslib: '^2.3.0' },
});
write('tsconfig.json', {
  extends: '../../tsconfig.base.json',
  files: [],
  include: [],
  references: [{ path: './tsconfig.lib.json' }, { path: './tsconfig.spec.json' }],
});
write('tsconfig.lib.json', {
  extends: '../../tsconfig.base.json',
  compilerOptions: {
    rootDir: 'src',
    outDir: 'dist',
    tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo',
    emitDeclarationOnly: false,
    forceConsistentCasingInFileNames: true,
    types: ['node'],
  },
  include: ['src/**/*.ts'],
  references: [],
  exclude: ['jest.config.cjs', 'jest.integration.config.cjs', 'src/**/*.spec.ts', 'src/**/*.test.ts'],
});
write('tsconfig.spec.json', {
  extends: '../../tsconfig.base.json',
  compilerOptions: {
    outDir: './out-tsc/jest',
    types: ['jest', 'node'],
    forceConsistentCasingInFileNames: true,
  },
  include: ['src/**/*.test.ts', 'src/**/*.spec.ts', 'src/**/*.d.ts', 'test/**/*.ts'],
  references: [{ path: './tsconfig.lib.json' }],
});
write('jest.config.cjs', "module.exports = require('../../jest-config/jest-config.cjs').unit(__dirname);\n");
write('jest.integration.config.cjs', "module.exports = require('../../jest-config/jest-config.cjs').integration(__dirname);\n");
write('eslint.config.mjs', "import { packageConfig } from '../../eslint.config.mjs';\n\nexport default await packageConfig();\n");
write('README.md', `# @kraken/${name}\n\n${description}\n\n## Usage\n\n\`\`\`ts\nimport {} from '@kraken/${name}';\n\`\`\`\n`);
write('src/index.ts', `// Public surface of @kraken/${name}: every export is listed by name.\nexport {};\n`);

const rootTsconfig = path.join(root, 'tsconfig.json');
const ts = JSON.parse(fs.readFileSync(rootTsconfig, 'utf8'));
ts.references = [...(ts.references ?? []), { path: `./${folder}/${name}` }].sort((a, b) => a.path.localeCompare(b.path));
fs.writeFileSync(rootTsconfig, JSON.stringify(ts, null, 2) + '\n');
console.log(`created ${path.relative(root, dir)}; add scope '${name}' to eslint.config.mjs, then run npm install && npx nx sync`);
