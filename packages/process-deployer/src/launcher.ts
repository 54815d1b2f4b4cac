import { stat } from 'node:fs/promises';
import { ErrorCode } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { readManifest } from '@kraken/shipwreck';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, deployError, effectiveLimits, pickFreePort, stepRunner } from '@kraken/runtime';
import type { AppRunEvent, DeployRequest, StepLine, StepRunner } from '@kraken/runtime';
import { handOver } from './app-user.js';
import type { AppAccount } from './app-user.js';
import type { AppLimits, Cgroups } from './cgroups.js';
import { checkoutSource } from './checkout.js';
import { runCommand } from './commands.js';
import { deploymentPaths } from './layout.js';
import type { DeploymentPaths } from './layout.js';
import { assertHostPortFree } from './listen-port.js';
import type { KnownApp } from './listen-port.js';
import { clearForBuild, discardBuild } from './kept-builds.js';
import type { KeptBuild, KeptBuilds, KeptState } from './kept-builds.js';
import type { CompiledProcessOptions } from './options.js';
import { assertSucceeded, prepareApp } from './prepare.js';
import { waitServing } from './ready.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorContext } from './supervisor.js';
import type { BoundedLogs } from './log-bound.js';

export interface AppLauncherDeps {
  options: CompiledProcessOptions;
  /** The unprivileged user apps, installs and tests run as; undefined: the agent's user. */
  account: AppAccount | undefined;
  /** Undefined where the agent may not create control groups: then no limit holds. */
  cgroups: Cgroups | undefined;
  /** The apps supervised now: their ports are not given to another, and they are named when they hold a port one wants. */
  supervised: () => Iterable<Supervisor>;
  /** Aborted when the deployer closes: ends the install and test commands in flight. */
  signal: AbortSignal;
  /** An app supervised from here ended or was restarted. */
  onRun: (event: AppRunEvent) => void;
  /** The deployer's log files, kept within their bound by each app's supervisor and read by its follows. */
  logs: BoundedLogs;
  logger: Logger;
}

/**
 * How an app version comes to run on this node: built from a clone, moved back from a kept
 * build, or restarted from the build it has; each waits until the app serves, and a failure
 * leaves nothing of its own running. Which version runs, and what happens to the one before, is
 * ProcessDeployer's to decide.
 */
export class AppLauncher {
  private readonly options: CompiledProcessOptions;
  private readonly account: AppAccount | undefined;
  private readonly cgroups: Cgroups | undefined;
  private readonly logger: Logger;

  constructor(private readonly deps: AppLauncherDeps) {
    this.options = deps.options;
    this.account = deps.account;
    this.cgroups = deps.cgroups;
    this.logger = deps.logger;
  }

  /** Moves a kept build back into the deployment's folder and starts it as it ran (its command and what its build added to the environment). */
  async launchKept(wanted: KeptBuild, kept: KeptBuilds, request: DeployRequest, log: Logger): Promise<Supervisor> {
    const { deploymentId } = request;
    const { options } = this;
    const step = stepRunner(deploymentId, request.onProgress, log);
    const paths = deploymentPaths(options.dataDir, deploymentId);
    const previous = wanted.state;
    log.info('running the kept build of this commit; no clone, build or test', { commit: previous.commit });
    let supervisor: Supervisor | undefined;
    try {
      await kept.restore(previous.commit);
      const manifest = await step(DeployStep.Manifest, () => readManifest(paths.app));
      const hostPort = manifest.config.port === undefined ? undefined : await this.choosePort(request.hostPort, deploymentId);
      const launched = await step(DeployStep.Run, (line) => this.relaunch(previous, { hostPort, manifest, request, paths, line }));
      supervisor = launched;
      await this.untilReady(launched, { paths, manifest, step, log });
      return launched;
    } catch (error) {
      // the build ran before and may run again (the failure may be the port's): it goes back aside
      await supervisor?.stop(0).catch(() => undefined);
      await kept.stash(previous.commit).catch((stashError: unknown) => {
        log.warn('could not move the kept build aside again; it is removed', { commit: previous.commit, error: stashError });
      });
      await this.discard(paths, log);
      throw error;
    }
  }

  /**
   * Starts what a build left on this node (its command, folder and built environment) again, with
   * this request's settings: a rollback to a kept build, or a restart with changed settings.
   */
  private async relaunch(
    previous: KeptState,
    { hostPort, manifest, request, paths, line }: { hostPort: number | undefined; manifest: Manifest; request: DeployRequest; paths: DeploymentPaths; line: StepLine },
  ): Promise<Supervisor> {
    const { options } = this;
    const env = { ...options.baseEnv, ...manifest.config.env, ...request.env, ...previous.builtEnv, ...(hostPort === undefined ? {} : { PORT: String(hostPort) }) };
    const limits = this.limitsOf(request, manifest, line);
    await this.handOverBuild(paths);
    return await Supervisor.launch(
      {
        v: 1,
        deploymentId: request.deploymentId,
        nodeId: options.nodeId,
        appName: previous.appName,
        commit: previous.commit,
        lang: previous.lang,
        phase: 'starting',
        command: previous.command,
        cwd: previous.cwd,
        env,
        ...(previous.builtEnv === undefined ? {} : { builtEnv: previous.builtEnv }),
        ...(limits === undefined ? {} : { limits }),
        ...this.userField(),
        hostPort,
        endpoint: manifest.app.endpoint,
        createdAt: new Date(options.clock.now()).toISOString(),
      },
      await this.contextFor(request.deploymentId, paths, limits),
    );
  }

  /** The state file's record of whom the app runs as. */
  private userField(): { user?: { name: string; uid: number; gid: number } } {
    const { account } = this;
    return account === undefined ? {} : { user: { name: account.name, uid: account.uid, gid: account.gid } };
  }

  /** A build made before apps ran as the account (or by an older agent) becomes the account's, so the app may write in its folder. */
  private async handOverBuild(paths: DeploymentPaths): Promise<void> {
    const { account } = this;
    if (account === undefined) return;
    for (const part of [paths.app, paths.pythonDeps]) {
      const owner = await stat(part).then((found) => found.uid, () => undefined);
      if (owner !== undefined && owner !== account.uid) await handOver(part, account, this.options.baseEnv);
    }
  }

  /**
   * A settings change: the app's folder holds the build of the requested commit, so the process
   * restarts from it with the new environment; no clone, install or test. The old process stops
   * first (as in every redeploy of this runtime); a new one that fails leaves nothing running.
   */
  async restartFromBuild(existing: Supervisor, request: DeployRequest, log: Logger, release: () => void): Promise<Supervisor> {
    const { deploymentId } = request;
    const { options } = this;
    const step = stepRunner(deploymentId, request.onProgress, log);
    const paths = deploymentPaths(options.dataDir, deploymentId);
    const previous = existing.state;
    log.info('restarting from the build it has, with changed settings; no build, no test', { commit: previous.commit, pid: previous.pid });
    // read before anything stops: a failure here leaves the running app as it is
    const manifest = await step(DeployStep.Manifest, () => readManifest(paths.app));
    let supervisor: Supervisor | undefined;
    try {
      release();
      await existing.stop(options.stopTimeoutMs);
      const { hostPort } = previous;
      const launched = await step(DeployStep.Run, (line) => this.relaunch(previous, { hostPort, manifest, request, paths, line }));
      supervisor = launched;
      await this.untilReady(launched, { paths, manifest, step, log });
      return launched;
    } catch (error) {
      await this.discard(paths, log, supervisor, existing);
      throw error;
    }
  }

  /** Clones, builds and tests the requested commit in the deployment's folder, then starts it and waits until it serves. */
  async buildAndLaunch(request: DeployRequest, log: Logger): Promise<Supervisor> {
    const { deploymentId } = request;
    const { options } = this;
    const step = stepRunner(deploymentId, request.onProgress, log);
    const paths = deploymentPaths(options.dataDir, deploymentId);
    await clearForBuild(paths);
    let supervisor: Supervisor | undefined;
    try {
      // a taken port fails at once rather than after a clone and an install
      if (request.hostPort !== undefined) await this.choosePort(request.hostPort, deploymentId);
      const { commit, manifest, lang } = await checkoutSource(request, { paths, cloneTimeoutMs: options.cloneTimeoutMs, step });
      // apps listen on the host port itself: without a container there is no port mapping
      const hostPort = manifest.config.port === undefined ? undefined : await this.choosePort(request.hostPort, deploymentId);
      const baseEnv = { ...options.baseEnv, ...manifest.config.env, ...request.env };
      const { signal } = this.deps;
      const { account } = this;
      const prepared = await step(DeployStep.Build, async (line) => {
        // the clone is the agent's; the install and the app (its own code) write in it as the account
        await handOver(paths.app, account, options.baseEnv);
        return await prepareApp({ deploymentId, lang, manifest, paths, env: baseEnv, options, line, signal, runAs: account });
      });
      const env = { ...baseEnv, ...prepared.env, ...(hostPort === undefined ? {} : { PORT: String(hostPort) }) };

      const testCommand = manifest.config.test;
      if (testCommand !== undefined) {
        await step(DeployStep.Test, async (line) => {
          const outcome = await runCommand([options.shell, '-c', testCommand], {
            cwd: paths.app,
            env,
            timeoutMs: options.testTimeoutMs,
            tailLines: options.errorTailLines,
            signal,
            runAs: account,
            onLine: (_stream, text) => {
              line('test', text);
            },
          });
          assertSucceeded(outcome, {
            deploymentId,
            what: `the test command (${testCommand})`,
            timeoutMs: options.testTimeoutMs,
            missing: `the shell ${options.shell} could not be started`,
            step: DeployStep.Test,
          });
        });
      }

      supervisor = await step(DeployStep.Run, async (line) => {
        const limits = this.limitsOf(request, manifest, line);
        return await Supervisor.launch(
          {
            v: 1,
            deploymentId,
            nodeId: options.nodeId,
            appName: manifest.app.name,
            commit,
            lang,
            phase: 'starting',
            command: prepared.command,
            cwd: paths.app,
            env,
            builtEnv: prepared.env,
            ...(limits === undefined ? {} : { limits }),
            ...this.userField(),
            hostPort,
            endpoint: manifest.app.endpoint,
            createdAt: new Date(options.clock.now()).toISOString(),
          },
          await this.contextFor(deploymentId, paths, limits),
        );
      });
      await this.untilReady(supervisor, { paths, manifest, step, log });
      return supervisor;
    } catch (error) {
      await this.discard(paths, log, supervisor);
      throw error;
    }
  }

  /** The Ready step of a launched app: it must serve (its port, or its endpoint) before it counts as running. */
  private async untilReady(launched: Supervisor, { paths, manifest, step, log }: { paths: DeploymentPaths; manifest: Manifest; step: StepRunner; log: Logger }): Promise<void> {
    const { options } = this;
    await step(DeployStep.Ready, () =>
      waitServing(launched, {
        paths,
        manifestPort: manifest.config.port,
        timeoutMs: options.readyTimeoutMs,
        errorTailLines: options.errorTailLines,
        logger: log,
        otherApps: () => this.knownApps(),
      }),
    );
    await launched.markReady();
  }

  /**
   * After a failed deploy: stops what it launched (and what it replaced), then removes what it made
   * and keeps the builds of earlier versions for a rollback; a failure here must not hide the deploy's.
   */
  private async discard(paths: DeploymentPaths, log: Logger, ...launched: (Supervisor | undefined)[]): Promise<void> {
    for (const supervisor of launched) await supervisor?.stop(0).catch(() => undefined);
    await discardBuild(paths).catch((cleanupError: unknown) => {
      log.warn('could not remove the failed build', { dir: paths.dir, error: cleanupError });
    });
  }

  /** The requested port if free, else one the kernel finds free; never the port of a deployment of ours waiting to restart. */
  private async choosePort(requested: number | undefined, deploymentId: string): Promise<number> {
    const ours = new Set([...this.deps.supervised()].map((supervisor) => supervisor.state.hostPort));
    if (requested !== undefined) {
      if (ours.has(requested)) {
        throw deployError(ErrorCode.Conflict, `host port ${requested} belongs to another deployment on this node; choose another port`, {
          deploymentId,
          step: DeployStep.Run,
          details: { hostPort: requested },
        });
      }
      await assertHostPortFree(requested, deploymentId, this.knownApps());
      return requested;
    }
    for (;;) {
      const port = await pickFreePort();
      if (!ours.has(port)) return port;
    }
  }

  /** The apps this deployer supervises, to name one that holds a port another app wants. */
  knownApps(): KnownApp[] {
    return [...this.deps.supervised()].map(({ state }) => ({ deploymentId: state.deploymentId, appName: state.appName, pgid: state.pid }));
  }

  /**
   * The limits an app runs under: the request's, else the manifest's. Where no control group can
   * hold them the app runs without, and its deploy output says so.
   */
  private limitsOf(request: DeployRequest, manifest: Manifest, line: StepLine): AppLimits | undefined {
    const limits = effectiveLimits(request.limits, manifest.config.limits);
    if (limits.memoryMb === undefined && limits.cpus === undefined) return undefined;
    if (this.cgroups === undefined) {
      line('stderr', 'kraken: this node cannot enforce memory or CPU limits (no control groups it may create); the app runs without them');
      return undefined;
    }
    return limits;
  }

  /** The supervisor's context for an app with these limits, its control group made (or updated) first. */
  async contextFor(deploymentId: string, paths: DeploymentPaths, limits: AppLimits | undefined): Promise<SupervisorContext> {
    const base = this.baseContext(paths);
    if (limits === undefined || this.cgroups === undefined) return base;
    const cgroup = await this.cgroups.ensure(deploymentId, limits);
    return { ...base, limits: { cgroup, memoryMb: limits.memoryMb } };
  }

  baseContext(paths: DeploymentPaths): SupervisorContext {
    const { options } = this;
    return {
      paths,
      policy: options.restart,
      clock: options.clock,
      logger: this.logger,
      logs: { stdout: this.deps.logs.of(paths.stdout), stderr: this.deps.logs.of(paths.stderr) },
      onRun: this.deps.onRun,
    };
  }
}
