import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@kraken/common';
import type { DeployRequest, DeployResult } from '@kraken/runtime';
import { pruneBuilds } from './build-folders.js';
import type { KeptBuilds } from './kept-builds.js';
import type { AppLauncher } from './launcher.js';
import { cgroupOf } from './placement.js';
import type { Serving } from './placement.js';
import { deploymentPaths, retiringStatePath } from './layout.js';
import type { CompiledProcessOptions } from './options.js';
import { writeState } from './state.js';
import type { ProcessState } from './state.js';
import type { Supervisor } from './supervisor.js';

export interface VersionSwitchDeps {
  launcher: AppLauncher;
  options: Pick<CompiledProcessOptions, 'stopTimeoutMs' | 'drainTimeMs' | 'clock' | 'dataDir'>;
  /** Aborted when the deployer closes: a redeploy cut short brings nothing back, and drains end at once. */
  signal: AbortSignal;
  /** The deployment's running version is being replaced: it is no longer supervised. */
  release(deploymentId: string): void;
  /** Supervises a version that came up, and describes it. */
  keep(supervisor: Supervisor, log: Logger): DeployResult;
  /** Work that close() waits for: the drains of replaced versions. */
  track(work: Promise<unknown>): void;
}

/**
 * Whether a redeploy can restart from the build this node already has: the same commit (a
 * settings change), on the same port, from a state file that recorded what the build added to the
 * environment. Anything else (a new commit, an older agent's file) builds afresh.
 */
function isSameBuild(state: ProcessState, request: DeployRequest): boolean {
  return (
    request.commit !== undefined &&
    state.phase === 'running' &&
    state.builtEnv !== undefined &&
    state.commit.startsWith(request.commit) &&
    (request.hostPort === undefined || request.hostPort === state.hostPort)
  );
}

/** A replaced version that still runs for `drainTime`, so requests already sent to it finish. */
interface Drain {
  done: Promise<void>;
  /** Ends the wait: the version stops now (the deployment is stopped, or the deployer closes). */
  cut: AbortController;
}

/**
 * Which version of an app runs: the requested commit built afresh or taken from a kept build,
 * started beside the version that serves, which it then replaces; the one replaced drains and
 * stops, its build kept for a rollback.
 */
export class VersionSwitch {
  private readonly drains = new Map<string, Set<Drain>>();

  constructor(private readonly deps: VersionSwitchDeps) {}

  /**
   * A redeploy: the new version is built in a folder of its own and started beside the one that
   * serves, which serves until the new one is ready, then drains and stops. A failed clone, build,
   * test or start leaves the serving version as it was. A new version that needs the serving one's
   * port (fixed in the app's code) can only start once that one stopped: if it then fails, the
   * version before runs again from its build.
   */
  async redeploy(existing: Supervisor, request: DeployRequest, kept: KeptBuilds, log: Logger): Promise<DeployResult> {
    const { deploymentId } = request;
    const previous = existing.state;
    if (!existing.running) {
      // crash-looping or stopped on request: nothing serves that a switch would keep serving
      this.deps.release(deploymentId);
      await existing.stop(this.deps.options.stopTimeoutMs);
      return await this.deploy(request, kept, log);
    }
    // set from the callback, which the compiler does not follow: an object, not a `let`
    const stoppedFirst = { yes: false };
    const serving: Serving = {
      port: previous.hostPort,
      makeRoom: async () => {
        log.info('the new version listens on the port the running one holds: stopping the running one first', { pid: previous.pid, port: previous.hostPort });
        stoppedFirst.yes = true;
        this.deps.release(deploymentId);
        await existing.stop(this.deps.options.stopTimeoutMs);
        // the new version runs in the deployment's group: one the old one had of its own goes
        if (previous.cgroup !== undefined) await this.deps.launcher.releaseGroup(previous.cgroup, log);
      },
    };
    let started: { supervisor: Supervisor; fromKept: boolean | undefined; buildReused?: true };
    try {
      started = isSameBuild(previous, request)
        ? { supervisor: await this.deps.launcher.restartFromBuild(existing, request, log, serving), fromKept: request.fromKept === true ? true : undefined, buildReused: true }
        : await this.start(request, kept, log, serving);
    } catch (error) {
      if (stoppedFirst.yes && !this.deps.signal.aborted) await this.bringBack(previous, request, log);
      throw error;
    }
    if (!stoppedFirst.yes) await this.switchTo(existing, started.supervisor, log);
    return await this.finish(started, kept, log);
  }

  /** A deploy with nothing serving: the kept build of the requested commit when `fromKept` asks for one this node has, else a build. */
  async deploy(request: DeployRequest, kept: KeptBuilds, log: Logger): Promise<DeployResult> {
    return await this.finish(await this.start(request, kept, log, undefined), kept, log);
  }

  private async start(request: DeployRequest, kept: KeptBuilds, log: Logger, serving: Serving | undefined): Promise<{ supervisor: Supervisor; fromKept: boolean | undefined }> {
    const wanted = request.fromKept === true && request.commit !== undefined ? await kept.find(request.commit) : undefined;
    const fromKept = request.fromKept === true ? wanted !== undefined : undefined;
    if (wanted !== undefined) return { supervisor: await this.deps.launcher.launchKept(wanted.state, request, log, serving), fromKept };
    if (request.fromKept === true) log.info('no kept build of this commit on this node; building it again', { commit: request.commit });
    return { supervisor: await this.deps.launcher.buildAndLaunch(request, log, serving), fromKept };
  }

  /** Supervises the version that came up and keeps it for a rollback. */
  private async finish(started: { supervisor: Supervisor; fromKept: boolean | undefined; buildReused?: true }, kept: KeptBuilds, log: Logger): Promise<DeployResult> {
    const deployed = this.deps.keep(started.supervisor, log);
    await kept.remember(started.supervisor.state, new Date(this.deps.options.clock.now()));
    return { ...deployed, ...(started.fromKept === undefined ? {} : { fromKept: started.fromKept }), ...(started.buildReused === undefined ? {} : { buildReused: true }) };
  }

  /**
   * The new version, ready beside the old, takes over: it becomes the deployment's state (what a
   * restarted agent adopts) and the one reported, so the ingress follows its port. The old one is
   * recorded as retiring first, so that an agent restarted before its drain ends stops it.
   */
  private async switchTo(old: Supervisor, next: Supervisor, log: Logger): Promise<void> {
    const { deploymentId } = old.state;
    const paths = deploymentPaths(this.deps.options.dataDir, deploymentId);
    const retiring = retiringStatePath(paths, old.state.pid);
    try {
      await writeState(retiring, old.state);
      await next.takeOver(paths.state);
    } catch (error) {
      // the files say who serves: until both are written, the old version does
      await next.stop(0).catch(() => undefined);
      await rm(paths.candidateState, { force: true }).catch(() => undefined);
      await rm(retiring, { force: true }).catch(() => undefined);
      throw error;
    }
    // no restart of the old version from now on: it drains, then stops
    old.detach();
    this.deps.release(deploymentId);
    log.info('switched to the new version; the one before drains', { from: old.state.pid, to: next.state.pid, port: next.state.hostPort, drainMs: this.deps.options.drainTimeMs });
    const cut = new AbortController();
    const drain: Drain = {
      cut,
      done: this.drainThenStop(old, { retiring, cut: cut.signal, log }).finally(() => {
        this.drains.get(deploymentId)?.delete(drain);
      }),
    };
    const forDeployment = this.drains.get(deploymentId) ?? new Set<Drain>();
    forDeployment.add(drain);
    this.drains.set(deploymentId, forDeployment);
    this.deps.track(drain.done);
  }

  private async drainThenStop(old: Supervisor, { retiring, cut, log }: { retiring: string; cut: AbortSignal; log: Logger }): Promise<void> {
    const paths = deploymentPaths(this.deps.options.dataDir, old.state.deploymentId);
    try {
      await sleep(this.deps.options.drainTimeMs, undefined, { signal: AbortSignal.any([cut, this.deps.signal]) });
    } catch {
      // cut short: it stops now
    }
    try {
      await old.stop(this.deps.options.stopTimeoutMs);
      // the new version, started beside it, has a group of its own
      await this.deps.launcher.releaseGroup(cgroupOf(old.state), log);
      await rm(retiring, { force: true });
      // its build stays while it is kept for a rollback
      await pruneBuilds(paths, { unfinished: 'keep' });
      log.info('the version before stopped after its drain', { pid: old.state.pid, commit: old.state.commit });
    } catch (error) {
      log.warn('could not stop the replaced version after its drain, or remove its build', { pid: old.state.pid, error });
    }
  }

  /** Stops the replaced versions of a deployment that still drain, at once (the deployment is stopped). */
  async endDrains(deploymentId: string): Promise<void> {
    const drains = [...(this.drains.get(deploymentId) ?? [])];
    for (const drain of drains) drain.cut.abort();
    await Promise.all(drains.map((drain) => drain.done));
  }

  /** After a failed redeploy that had to stop the version before: that one runs again from its build, with its port, environment and limits. */
  private async bringBack(previous: ProcessState, failed: DeployRequest, log: Logger): Promise<void> {
    const request: DeployRequest = {
      deploymentId: previous.deploymentId,
      url: failed.url,
      branch: failed.branch,
      env: previous.env,
      ...(previous.hostPort === undefined ? {} : { hostPort: previous.hostPort }),
      ...(previous.limits === undefined ? {} : { limits: previous.limits }),
    };
    try {
      const supervisor = await this.deps.launcher.launchKept(previous, request, log);
      this.deps.keep(supervisor, log);
      log.warn('the redeploy failed; the version before runs again', { commit: previous.commit, pid: supervisor.state.pid });
    } catch (error) {
      log.error('the redeploy failed, and the version before could not start again: nothing runs', { commit: previous.commit, error });
    }
  }
}
