#!/usr/bin/env node
// Stages a package for publishing: dist-publish/<projectRoot> gets exactly what `npm pack` would ship,
// with a package.json fit for consumers. In the workspace, exports carry a "@kraken/source"
// condition pointing at src/ (so projects type-check against each other's sources); src/ is not
// shipped, so a published manifest must not name it. The monorepo's `nx` block is dropped too.
//
//   node tools/release/stage-package.mjs packages/worker
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SOURCE_CONDITION = '@kraken/source';

/**
 * Removes the workspace-only source condition from an exports map, at any depth, and the subpaths
 * that had nothing else: those only the workspace resolves (`@kraken/runtime/contract`, a test suite).
 */
export function stripSourceCondition(exportsField) {
  if (exportsField === null || typeof exportsField !== 'object') return exportsField;
  return Object.fromEntries(
    Object.entries(exportsField)
      .filter(([key]) => key !== SOURCE_CONDITION)
      .map(([key, value]) => [key, stripSourceCondition(value)])
      .filter(([, value]) => value === null || typeof value !== 'object' || Object.keys(value).length > 0),
  );
}

/** What consumers get: no monorepo wiring, nothing that only the workspace can resolve. */
export function publishedManifest(manifest) {
  const published = { ...manifest, exports: stripSourceCondition(manifest.exports) };
  for (const workspaceOnly of ['nx', 'devDependencies', 'scripts']) delete published[workspaceOnly];
  return published;
}

function stage(projectRoot) {
  const root = resolve(projectRoot);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (manifest.private) throw new Error(`${manifest.name} (${projectRoot}) is private: it is not published`);
  const out = resolve('dist-publish', projectRoot);
  const work = mkdtempSync(join(tmpdir(), 'kraken-stage-'));
  try {
    // npm pack applies `files`, .npmignore and the always-included files exactly as publish will
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' }));
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed[0].filename), '-C', out, '--strip-components=1']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(join(out, 'package.json'), JSON.stringify(publishedManifest(manifest), null, 2) + '\n');
  console.log(`staged ${manifest.name}@${manifest.version} in ${out}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const projectRoot = process.argv[2];
  if (!projectRoot) {
    console.error('usage: node tools/release/stage-package.mjs <projectRoot>');
    process.exit(2);
  }
  try {
    stage(projectRoot);
  } catch (error) {
    console.error(`stage ${projectRoot}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
