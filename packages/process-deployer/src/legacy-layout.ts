import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@kraken/common';
import { KeptFile } from '@kraken/runtime';
import { namesIn } from './build-folders.js';
import type { KeptBuild } from './kept-builds.js';
import { buildPaths } from './layout.js';
import type { DeploymentPaths } from './layout.js';
import { readState } from './state.js';

/**
 * Brings a deployment folder written by an agent before version folders to today's layout, at the
 * agent's start. Its build at the folder's root (the version that ran, or was stopped) stays where
 * it is, since its process may run from it: a state without `buildDir` means that build. The builds
 * it kept aside under `kept/<commit>/` move to `versions/<commit>/`, and the paths in their state
 * (command, working folder, PYTHONPATH) follow, so a rollback runs them beside the running version
 * like any other. A kept entry whose build is nowhere is dropped from the list.
 */
export async function migrateLegacyLayout(paths: DeploymentPaths, logger: Logger): Promise<void> {
  const aside = await namesIn(paths.legacyKept);
  const file = new KeptFile<KeptBuild>(paths.keptList);
  const listed = await file.read();
  if (aside.length === 0 && listed.every((version) => version.state.buildDir !== undefined)) return;
  const rootCommit = await readState(paths.state).then(
    (state) => (state.buildDir === undefined ? state.commit : undefined),
    () => undefined,
  );
  const rootHasBuild = await stat(buildPaths(paths.dir).app).then(
    () => true,
    () => false,
  );
  const migrated: KeptBuild[] = [];
  for (const version of listed) {
    if (version.state.buildDir !== undefined) {
      migrated.push(version);
    } else if (aside.includes(version.commit)) {
      const target = buildPaths(path.join(paths.versions, version.commit));
      await mkdir(paths.versions, { recursive: true, mode: 0o711 });
      await rm(target.root, { recursive: true, force: true });
      await rename(path.join(paths.legacyKept, version.commit), target.root);
      const from = buildPaths(paths.dir);
      const moves: [string, string][] = [
        [from.app, target.app],
        [from.pythonDeps, target.pythonDeps],
        [from.staticServer, target.staticServer],
      ];
      migrated.push({ ...version, state: { ...movedPaths(version.state, moves), buildDir: target.root } });
    } else if (rootHasBuild && version.commit === rootCommit) {
      migrated.push(version);
    } else {
      logger.warn('a kept version of an older agent has no build left; it is no longer listed', { dir: paths.dir, commit: version.commit });
    }
  }
  await file.write(migrated);
  await rm(paths.legacyKept, { recursive: true, force: true });
  logger.info('moved the kept builds of an older agent into version folders', { dir: paths.dir, versions: migrated.map((version) => version.commit) });
}

/** Every string in `value` with the paths of `moves` replaced, as a build moved from one folder to another. */
function movedPaths<T>(value: T, moves: [string, string][]): T {
  if (typeof value === 'string') {
    let moved: string = value;
    for (const [from, to] of moves) moved = moved.split(from).join(to);
    return moved as T;
  }
  if (Array.isArray(value)) return value.map((entry: unknown) => movedPaths(entry, moves)) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, movedPaths(entry as unknown, moves)])) as T;
  return value;
}
