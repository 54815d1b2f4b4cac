import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KeptFile } from '@kraken/runtime';
import type { KeptVersion } from '@kraken/runtime';
import { buildPaths, isRetiringState, newBuildPaths } from './layout.js';
import type { BuildPaths, DeploymentPaths } from './layout.js';
import { readState } from './state.js';

/** In a version folder whose build is under way: no sweep removes it, except an agent's start (nothing builds then). */
const UNFINISHED_MARK = '.building';

/** A version folder for a new build, marked unfinished until finishBuild. */
export async function startBuild(paths: DeploymentPaths): Promise<BuildPaths> {
  // 0711: an app's user reaches its checkout by name, and lists nothing here
  await mkdir(paths.dir, { recursive: true, mode: 0o711 });
  await mkdir(paths.versions, { recursive: true, mode: 0o711 });
  const build = newBuildPaths(paths);
  await mkdir(build.root, { mode: 0o711 });
  await writeFile(path.join(build.root, UNFINISHED_MARK), '');
  return build;
}

/** The build is named by a state or the kept list from now on, which keeps its folder. */
export async function finishBuild(build: BuildPaths): Promise<void> {
  await rm(path.join(build.root, UNFINISHED_MARK), { force: true });
}

/**
 * Removes a build's parts, and its folder unless that is the deployment's own (the build of an
 * agent before version folders, whose logs and state sit beside it).
 */
export async function removeBuild(paths: DeploymentPaths, build: BuildPaths): Promise<void> {
  if (build.root !== paths.dir) {
    await rm(build.root, { recursive: true, force: true });
    return;
  }
  for (const part of [build.app, build.pythonDeps, build.staticServer]) await rm(part, { recursive: true, force: true });
}

/**
 * Removes the builds no version runs, waits to run or is kept from: those named by no state file
 * (the serving version, one started beside it, the ones draining) nor by the kept list. A build
 * under way is spared unless `unfinished` is 'remove' (an agent's start: then it was cut short).
 */
export async function pruneBuilds(paths: DeploymentPaths, { unfinished }: { unfinished: 'keep' | 'remove' }): Promise<void> {
  // which builds are under way is read before which are in use: a build loses its mark only once a
  // state file names it, so one seen finished here is seen in use below (read the other way round,
  // a build finishing in between was neither, and its running app lost its folder)
  const spared = new Set<string>();
  const roots = (await namesIn(paths.versions)).map((name) => path.join(paths.versions, name));
  for (const root of roots) {
    // a folder just made has neither its mark nor a checkout yet
    const inside = await namesIn(root);
    if (unfinished === 'keep' && (inside.includes(UNFINISHED_MARK) || !inside.includes('app'))) spared.add(root);
  }
  const used = await buildsInUse(paths);
  for (const root of roots) {
    if (!used.has(root) && !spared.has(root)) await rm(root, { recursive: true, force: true });
  }
  if (!used.has(paths.dir)) await removeBuild(paths, buildPaths(paths.dir));
}

/** The build folders the deployment's state files and kept list name. */
async function buildsInUse(paths: DeploymentPaths): Promise<Set<string>> {
  const used = new Set<string>();
  const files = [paths.state, paths.candidateState, ...(await namesIn(paths.dir)).filter(isRetiringState).map((name) => path.join(paths.dir, name))];
  for (const file of files) {
    const buildDir = await readState(file).then(
      (state) => state.buildDir ?? paths.dir,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        // an unreadable state may still name a build: nothing is removed on a guess
        return 'unknown';
      },
    );
    if (buildDir === 'unknown') return new Set(await allBuilds(paths));
    if (buildDir !== undefined) used.add(buildDir);
  }
  for (const version of await new KeptFile<KeptVersion & { state?: { buildDir?: string } }>(paths.keptList).read()) used.add(version.state?.buildDir ?? paths.dir);
  return used;
}

async function allBuilds(paths: DeploymentPaths): Promise<string[]> {
  return [paths.dir, ...(await namesIn(paths.versions)).map((name) => path.join(paths.versions, name))];
}

/**
 * After a first deploy failed, or what a deploy cut short by a crash left: removes its build,
 * state and logs, and keeps the builds listed for a rollback (a failover build, the version a
 * failed redeploy ran before). The folder goes too when it keeps none.
 */
export async function discardDeployment(paths: DeploymentPaths): Promise<void> {
  for (const file of [paths.state, paths.candidateState, paths.stdout, paths.stderr, `${paths.stdout}.1`, `${paths.stderr}.1`]) await rm(file, { force: true });
  await pruneBuilds(paths, { unfinished: 'remove' });
  if ((await namesIn(paths.versions)).length === 0 && !(await holdsLegacyBuild(paths))) await rm(paths.dir, { recursive: true, force: true });
}

async function holdsLegacyBuild(paths: DeploymentPaths): Promise<boolean> {
  return (await namesIn(paths.dir)).includes('app');
}

/** The names in a folder; none when it does not exist. */
export async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
