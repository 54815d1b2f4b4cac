import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@kraken/common';
import { discardDeployment, namesIn, pruneBuilds } from './build-folders.js';
import { deploymentPaths, deploymentsDir, isRetiringState } from './layout.js';
import type { DeploymentPaths } from './layout.js';
import { migrateLegacyLayout } from './legacy-layout.js';
import { cgroupOf } from './placement.js';
import type { AppLauncher } from './launcher.js';
import type { CompiledProcessOptions } from './options.js';
import { readState } from './state.js';
import { Supervisor, terminateAppGroup } from './supervisor.js';

/**
 * What a deployer finds in its data folder when it starts (an agent restart): running apps are
 * supervised again, dead ones restarted, apps stopped on request stay stopped, and what a deploy
 * cut short left behind (no state file, or one still "starting") is removed; the builds kept for a
 * rollback stay. A redeploy cut short is settled: a version started beside the serving one that
 * had not taken over is ended, and one that had and was draining the version before ends that one.
 * A folder whose state cannot be read is left alone, and said so.
 */
export async function adoptDeployments(
  launcher: AppLauncher,
  { options, logger }: { options: Pick<CompiledProcessOptions, 'dataDir' | 'stopTimeoutMs'>; logger: Logger },
): Promise<Map<string, Supervisor>> {
  const adopted = new Map<string, Supervisor>();
  const root = deploymentsDir(options.dataDir);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const paths = deploymentPaths(options.dataDir, entry.name);
    await migrateLegacyLayout(paths, logger);
    await endSwitchCutShort(paths, launcher, { graceMs: options.stopTimeoutMs, logger });
    let state;
    try {
      state = await readState(paths.state);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // a deploy that ended before its process started (agent crash), or the kept builds a
        // failed redeploy left: nothing runs from it
        logger.info('removing the build of an unfinished deploy (builds kept for a rollback stay)', { dir: paths.dir });
        await discardDeployment(paths);
      } else {
        logger.error('unreadable state file; leaving that deployment alone', { dir: paths.dir, error });
      }
      continue;
    }
    if (state.phase === 'starting') {
      // the deploy was cut short before the app was ready: its requester saw no success
      logger.info('removing an unfinished deploy', { deploymentId: state.deploymentId, pid: state.pid });
      await terminateAppGroup(state.pid, state.startTime, options.stopTimeoutMs);
      await discardDeployment(paths);
      continue;
    }
    if (state.deploymentId !== entry.name) {
      logger.error('state file names another deployment than its folder; leaving it alone', { dir: paths.dir, deploymentId: state.deploymentId });
      continue;
    }
    // builds that a deploy cut short left, and that nothing runs or keeps
    await pruneBuilds(paths, { unfinished: 'remove' });
    if (state.phase === 'stopped') {
      // stopped on request: it stays stopped, whatever happened to the agent or the machine
      // (a start the agent did not see through is ended: nobody saw it answer)
      await terminateAppGroup(state.pid, state.startTime, options.stopTimeoutMs);
      adopted.set(state.deploymentId, Supervisor.stopped(state, launcher.baseContext(paths)));
      continue;
    }
    adopted.set(state.deploymentId, await Supervisor.adopt(state, await launcher.contextFor(cgroupOf(state), paths, state.limits)));
  }
  return adopted;
}

/**
 * Ends what a redeploy cut short by the agent's end left running beside the serving version: a
 * new version that had not taken over (its requester saw no success), and replaced versions whose
 * drain had not ended. Their builds go with the next prune, unless kept.
 */
async function endSwitchCutShort(paths: DeploymentPaths, launcher: AppLauncher, { graceMs, logger }: { graceMs: number; logger: Logger }): Promise<void> {
  const files = [paths.candidateState, ...(await namesIn(paths.dir)).filter(isRetiringState).map((name) => path.join(paths.dir, name))];
  for (const file of files) {
    let state;
    try {
      state = await readState(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.error('unreadable state of a version a redeploy replaced or started; leaving it', { file, error });
      continue;
    }
    logger.info('ending a version left running by a redeploy cut short', { file, pid: state.pid, commit: state.commit });
    await terminateAppGroup(state.pid, state.startTime, graceMs);
    // the deployment's own group may hold the version that serves
    if (state.cgroup !== undefined) await launcher.releaseGroup(state.cgroup, logger);
    await rm(file, { force: true });
  }
}
