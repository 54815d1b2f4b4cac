import type { Logger } from '@kraken/common';
import type { DeployRequest, DeployResult } from '@kraken/runtime';
import type { KeptBuilds } from './kept-builds.js';
import type { AppLauncher } from './launcher.js';
import type { CompiledProcessOptions } from './options.js';
import type { ProcessState } from './state.js';
import type { Supervisor } from './supervisor.js';

export interface VersionSwitchDeps {
  launcher: AppLauncher;
  options: Pick<CompiledProcessOptions, 'stopTimeoutMs' | 'clock'>;
  /** Aborted when the deployer closes: a redeploy cut short brings nothing back. */
  signal: AbortSignal;
  /** The deployment's running version is being replaced: it is no longer supervised. */
  release(deploymentId: string): void;
  /** Supervises a version that came up, and describes it. */
  keep(supervisor: Supervisor, log: Logger): DeployResult;
}

/**
 * Which version of an app runs: the requested commit built afresh or taken from a kept build, and
 * the version before kept aside for a rollback, or brought back when the new one fails.
 */
export class VersionSwitch {
  constructor(private readonly deps: VersionSwitchDeps) {}

  /**
   * A redeploy of another commit: the app's folder is rebuilt in place, so (unlike the Docker
   * runtime) the old version stops first; its build is moved aside as a kept version. With
   * `fromKept`, a kept build of the requested commit is moved back and run: no clone, build or test.
   * When the new version fails (clone, build, test, start), the old one runs again from its kept
   * build, as it ran, so a failed redeploy leaves the app serving.
   */
  async redeploy(existing: Supervisor, request: DeployRequest, kept: KeptBuilds, log: Logger): Promise<DeployResult> {
    const { deploymentId } = request;
    const previous = existing.state;
    const wasRunning = existing.running;
    if (wasRunning) log.info('redeploy: stopping the running process first', { pid: previous.pid });
    this.deps.release(deploymentId);
    await existing.stop(this.deps.options.stopTimeoutMs);
    // only a version that once deployed successfully is in the list; anything else is cleared by the build
    if ((await kept.list()).some((version) => version.commit === previous.commit)) await kept.stash(previous.commit);
    try {
      return await this.deploy(request, kept, log, previous.hostPort);
    } catch (error) {
      if (wasRunning && !this.deps.signal.aborted) await this.bringBack(previous, request, kept, log);
      throw error;
    }
  }

  /** After a failed redeploy: the version that ran before runs again from its kept build, with its port, environment and limits. */
  private async bringBack(previous: ProcessState, failed: DeployRequest, kept: KeptBuilds, log: Logger): Promise<void> {
    const wanted = await kept.find(previous.commit);
    if (wanted === undefined) {
      log.warn('the redeploy failed, and no build of the version before is kept here: nothing runs', { commit: previous.commit });
      return;
    }
    const request: DeployRequest = {
      deploymentId: previous.deploymentId,
      url: failed.url,
      branch: failed.branch,
      env: previous.env,
      ...(previous.hostPort === undefined ? {} : { hostPort: previous.hostPort }),
      ...(previous.limits === undefined ? {} : { limits: previous.limits }),
    };
    try {
      const supervisor = await this.deps.launcher.launchKept(wanted, kept, request, log);
      this.deps.keep(supervisor, log);
      await kept.remember(supervisor.state, new Date(this.deps.options.clock.now()));
      log.warn('the redeploy failed; the version before runs again', { commit: previous.commit, pid: supervisor.state.pid });
    } catch (error) {
      log.error('the redeploy failed, and the version before could not start again: nothing runs', { commit: previous.commit, error });
    }
  }

  /**
   * Runs the kept build of the requested commit when `fromKept` asks for one this node has (also
   * when nothing runs: a redeploy of another commit failed), else builds it; then keeps the new
   * version. `retiredPort`: the port of the version it replaces, which a kept build takes again.
   */
  async deploy(request: DeployRequest, kept: KeptBuilds, log: Logger, retiredPort?: number): Promise<DeployResult> {
    const wanted = request.fromKept === true && request.commit !== undefined ? await kept.find(request.commit) : undefined;
    let supervisor: Supervisor;
    if (wanted === undefined) {
      if (request.fromKept === true) log.info('no kept build of this commit on this node; building it again', { commit: request.commit });
      supervisor = await this.deps.launcher.buildAndLaunch(request, log);
    } else {
      supervisor = await this.deps.launcher.launchKept(wanted, kept, { ...request, ...(request.hostPort === undefined && retiredPort !== undefined ? { hostPort: retiredPort } : {}) }, log);
    }
    const deployed = this.deps.keep(supervisor, log);
    await kept.remember(supervisor.state, new Date(this.deps.options.clock.now()));
    return { ...deployed, ...(request.fromKept === true ? { fromKept: wanted !== undefined } : {}) };
  }
}
