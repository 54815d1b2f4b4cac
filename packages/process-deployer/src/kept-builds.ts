import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@kraken/common';
import { KeptFile, findKept, keepNewest } from '@kraken/runtime';
import type { KeptVersion } from '@kraken/runtime';
import { buildParts } from './layout.js';
import type { DeploymentPaths } from './layout.js';
import type { ProcessState } from './state.js';

/**
 * What running a kept build again needs: its command, folder and what its build added to the
 * environment. A version that ran holds its whole state; a failover build, which never ran, this.
 */
export type KeptState = Pick<ProcessState, 'deploymentId' | 'appName' | 'commit' | 'lang' | 'command' | 'cwd' | 'builtEnv'>;

/** A successful build of a deployment: the state it ran (or would run) with names what to run again. */
export interface KeptBuild extends KeptVersion {
  state: KeptState;
}

/**
 * The last few successful builds of one deployment: the running one in the deployment's folder, the
 * earlier ones moved aside under `kept/<commit>/`. Moving a build is a rename within one folder, so
 * keeping a version costs no copy.
 */
export class KeptBuilds {
  private readonly file: KeptFile<KeptBuild>;

  constructor(
    private readonly paths: DeploymentPaths,
    private readonly logger: Logger,
  ) {
    this.file = new KeptFile<KeptBuild>(paths.keptList);
  }

  async list(): Promise<KeptBuild[]> {
    return await this.file.read();
  }

  /** The kept earlier build of `commit` (full or abbreviated) whose folder is still there. */
  async find(commit: string): Promise<KeptBuild | undefined> {
    const found = findKept(await this.file.read(), commit);
    if (found === undefined) return undefined;
    const exists = await stat(this.folder(found.commit)).then(
      () => true,
      () => false,
    );
    return exists ? found : undefined;
  }

  /** Records the version now running as the newest; a failure is logged, not thrown (the deploy succeeded). */
  async remember(state: ProcessState, now: Date): Promise<void> {
    try {
      await this.add(state, now);
    } catch (error) {
      this.logger.warn('could not keep this version for a rollback', { commit: state.commit, error });
    }
  }

  /** Lists a version as the newest; the folders of versions beyond KEPT_VERSIONS are removed. Throws when it could not. */
  async add(state: KeptState, now: Date): Promise<void> {
    const { kept, dropped } = keepNewest(await this.file.read(), { commit: state.commit, keptAt: now.toISOString(), state });
    await this.file.write(kept);
    for (const old of dropped) await rm(this.folder(old.commit), { recursive: true, force: true });
  }

  /** Removes the folder of a build of `commit` moved aside but never listed (a failover build that could not be recorded). */
  async removeUnlisted(commit: string): Promise<void> {
    if ((await this.file.read()).some((version) => version.commit === commit)) return;
    await rm(this.folder(commit), { recursive: true, force: true });
  }

  /** Moves the build in the deployment's folder aside as the kept build of `commit` (its process has stopped). */
  async stash(commit: string): Promise<void> {
    const target = this.folder(commit);
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    await moveParts(buildParts(this.paths), target);
  }

  /** Moves the kept build of `commit` back into place, where its state's paths point; the folder must hold no build. */
  async restore(commit: string): Promise<void> {
    const source = this.folder(commit);
    await moveParts(
      buildParts(this.paths).map((part) => path.join(source, path.basename(part))),
      this.paths.dir,
    );
    await rm(source, { recursive: true, force: true });
  }

  private folder(commit: string): string {
    return path.join(this.paths.kept, commit);
  }
}

/** Removes everything in a deployment's folder but its kept versions, before a build. */
export async function clearForBuild(paths: DeploymentPaths): Promise<void> {
  // 0711: an app's user reaches its checkout by name, and lists nothing here
  await mkdir(paths.dir, { recursive: true, mode: 0o711 });
  await removeAllButKept(paths);
}

/**
 * After a deploy failed: removes what it made (build, state, logs) and keeps the builds of earlier
 * versions, which a rollback needs most right then (a redeploy's build failed, or its test). The
 * folder goes too when it keeps no build.
 */
export async function discardBuild(paths: DeploymentPaths): Promise<void> {
  await removeAllButKept(paths);
  if (!(await holdsKeptBuilds(paths))) await rm(paths.dir, { recursive: true, force: true });
}

/** Whether a deployment's folder holds the build of an earlier version. */
async function holdsKeptBuilds(paths: DeploymentPaths): Promise<boolean> {
  try {
    return (await readdir(paths.kept)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function removeAllButKept(paths: DeploymentPaths): Promise<void> {
  const spare = new Set([path.basename(paths.kept), path.basename(paths.keptList)]);
  let names: string[];
  try {
    names = await readdir(paths.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (!spare.has(name)) await rm(path.join(paths.dir, name), { recursive: true, force: true });
  }
}

/** Moves each part that exists into `dir` under its own name. */
async function moveParts(parts: string[], dir: string): Promise<void> {
  for (const part of parts) {
    try {
      await rename(part, path.join(dir, path.basename(part)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
