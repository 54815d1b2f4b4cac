import { stat } from 'node:fs/promises';
import type { Logger } from '@kraken/common';
import { KeptFile, findKept, keepNewest } from '@kraken/runtime';
import type { KeptVersion } from '@kraken/runtime';
import { pruneBuilds } from './build-folders.js';
import { buildPaths } from './layout.js';
import type { BuildPaths, DeploymentPaths } from './layout.js';
import type { ProcessState } from './state.js';

/**
 * What running a kept build again needs: its command, folder and what its build added to the
 * environment. A version that ran holds its whole state; a failover build, which never ran, this.
 */
export type KeptState = Pick<ProcessState, 'deploymentId' | 'appName' | 'commit' | 'lang' | 'command' | 'cwd' | 'builtEnv' | 'buildDir'>;

/** A successful build of a deployment: the state it ran (or would run) with names what to run again. */
export interface KeptBuild extends KeptVersion {
  state: KeptState;
}

/** The build a version runs from; the deployment's folder itself for a build of an agent before version folders. */
export function buildOf(paths: DeploymentPaths, state: { buildDir?: string | undefined }): BuildPaths {
  return buildPaths(state.buildDir ?? paths.dir);
}

/**
 * The last few successful builds of one deployment, each in its own version folder, listed newest
 * first in `kept.json`. A version's folder stays where it was built: keeping it costs nothing, and
 * running it again beside another version needs no move.
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

  /** The kept build of `commit` (full or abbreviated) whose checkout is still there. */
  async find(commit: string): Promise<KeptBuild | undefined> {
    const found = findKept(await this.file.read(), commit);
    if (found === undefined) return undefined;
    const exists = await stat(buildOf(this.paths, found.state).app).then(
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

  /**
   * Lists a version as the newest; the folders of versions beyond KEPT_VERSIONS (and of an earlier
   * build of the same commit) are removed once no version runs from them. Throws when it could not.
   */
  async add(state: KeptState, now: Date): Promise<void> {
    const { kept } = keepNewest(await this.file.read(), { commit: state.commit, keptAt: now.toISOString(), state });
    await this.file.write(kept);
    await pruneBuilds(this.paths, { unfinished: 'keep' });
  }
}
