import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const uiRoot = path.resolve(__dirname, '..', '..');
const configFile = path.join(uiRoot, 'codegen.ts');
const generatedFile = path.join(uiRoot, 'src', 'api', 'generated.ts');
const REGENERATE = 'run `npx nx run ui:codegen` (and commit apps/ui/src/api/generated.ts)';

// @graphql-codegen/cli loads ESM-only packages (yargs, chalk) that jest's CommonJS module system
// cannot, while plain Node can: generate() runs in a child node, which prints what it would write.
const printGenerated = `
const { generate, loadCodegenConfig } = require('@graphql-codegen/cli');
(async () => {
  const { config } = await loadCodegenConfig({ configFilePath: process.argv[1] });
  const files = await generate(config, false);
  process.stdout.write(JSON.stringify(files.map(({ filename, content }) => ({ filename, content }))));
})().catch((error) => { console.error(error); process.exit(1); });`;

describe('src/api/generated.ts', () => {
  it('is what graphql-codegen makes of schema.graphql and operations.graphql now', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', printGenerated, configFile], {
      cwd: uiRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    const files = JSON.parse(stdout) as { filename: string; content: string }[];
    const generated = files.find((file) => path.resolve(uiRoot, file.filename) === generatedFile);
    if (generated === undefined) throw new Error(`codegen made no ${generatedFile}; it made: ${files.map((f) => f.filename).join(', ')}`);
    const committed = await readFile(generatedFile, 'utf8').catch(() => {
      throw new Error(`${generatedFile} is missing: ${REGENERATE}`);
    });
    if (committed !== generated.content) {
      throw new Error(`${generatedFile} is out of date with packages/orchestrator/schema.graphql or src/api/operations.graphql: ${REGENERATE}`);
    }
  }, 90_000);
});
