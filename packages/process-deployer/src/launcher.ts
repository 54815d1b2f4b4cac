import { rm, stat } from 'node:fs/promises';
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
import { runAppTest } from './app-test.js';
import { discardDeployment, finishBuild, removeBuild, startBuild } from './build-folders.js';
import { deploymentPaths } from './layout.js';
import type { BuildPaths, DeploymentPaths } from './layout.js';
import { assertHostPortFree } from './listen-port.js';
import type { KnownApp } from './listen-port.js';
import { buildOf } from './kept-builds.js';
import type { KeptState } from './kept-builds.js';
import type { CompiledProcessOptions } from './options.js';
import { placeVersion } from './placement.js';
import type { Placement, Serving } from './placement.js';
import { prepareApp } from './prepare.js';
import { waitServing } from './ready.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorContext } from './supervisor.js';
import type { ProcessState } from './state.js';
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
 * How an app version comes to run on this node: built from a clone into a folder of its own, run
 * again from a kept build, or restarted from the build it has; each starts beside the version that
 * serves (see Serving) and waits until the app serves, and a failure leaves nothing of its own
 * running and the serving version as it was. Which version runs, and what happens to the one
 * before, is VersionSwitch's to decide.
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

  /** Starts a kept build as it ran (its command, folder and what its build added to the environment), with this request's settings. */
  async launchKept(wanted: KeptState, request: DeployRequest, log: Logger, serving?: Serving): Promise<Supervisor> {
    log.info('running the kept build of this commit; no clone, build or test', { commit: wanted.commit });
    return await this.launchBuilt(wanted, request, log, serving);
  }

  /**
   * A settings change: the serving version's build is the requested commit's, so a new process
   * starts from it with the new environment, beside the old one; no clone, install or test.
   */
  async restartFromBuild(existing: Supervisor, request: DeployRequest, log: Logger, serving: Serving): Promise<Supervisor> {
    log.info('restarting from the build it has, with changed settings; no build, no test', { commit: existing.state.commit, pid: existing.state.pid });
    return await this.launchBuilt(existing.state, request, log, serving);
  }

  private async launchBuilt(previous: KeptState, request: DeployRequest, log: Logger, serving: Serving | undefined): Promise<Supervisor> {
    const { deploymentId } = request;
    const { options } = this;
    const step = stepRunner(deploymentId, request.onProgress, log);
    const paths = deploymentPaths(options.dataDir, deploymentId);
    const build = buildOf(paths, previous);
    let placement: Placement | undefined;
    let supervisor: Supervisor | undefined;
    try {
      const manifest = await step(DeployStep.Manifest, () => readManifest(build.app));
      const placed = await placeVersion(paths, request, manifest, serving);
      placement = placed;
      supervisor = await step(DeployStep.Run, async (line) => {
        await this.handOverBuild(build);
        return await this.launchVersion(
          {
            appName: previous.appName,
            commit: previous.commit,
            lang: previous.lang,
            command: previous.command,
            cwd: previous.cwd,
            env: (port) => ({ ...options.baseEnv, ...manifest.config.env, ...request.env, ...previous.builtEnv, ...port }),
            ...(previous.builtEnv === undefined ? {} : { builtEnv: previous.builtEnv }),
          },
          { request, manifest, placement: placed, paths, build, line },
        );
      });
      await this.untilReady(supervisor, { paths, manifest, step, log });
      return supervisor;
    } catch (error) {
      // the build stays: it is kept, or the serving version runs from it
      await this.discard(paths, log, { serving: serving !== undefined, placement, supervisor });
      throw error;
    }
  }

  /** The state file's record of whom the app runs as. */
  /**
   * Starts a version where it was placed: on a port of its own (apps listen on the host port
   * itself: without a container there is no port mapping) when its manifest names one, held to its
   * limits, as the state its supervisor keeps says.
   */
  private async launchVersion(
    version: Pick<ProcessState, 'appName' | 'commit' | 'lang' | 'command' | 'cwd' | 'builtEnv'> & {
      /** Its environment, given `PORT` when it has a port. */
      env: (port: { PORT?: string }) => Record<string, string>;
    },
    at: { request: DeployRequest; manifest: Manifest; placement: Placement; paths: DeploymentPaths; build: BuildPaths; line: StepLine },
  ): Promise<Supervisor> {
    const { request, manifest, placement, paths, build, line } = at;
    const { deploymentId } = request;
    const { cgroup } = placement;
    const hostPort = manifest.config.port === undefined ? undefined : await this.choosePort(placement.hostPort, deploymentId);
    const limits = this.limitsOf(request, manifest, line);
    const { env, ...fields } = version;
    return await Supervisor.launch(
      {
        v: 1,
        deploymentId,
        nodeId: this.options.nodeId,
        ...fields,
        phase: 'starting',
        buildDir: build.root,
        env: env(hostPort === undefined ? {} : { PORT: String(hostPort) }),
        ...(limits === undefined ? {} : { limits }),
        ...(cgroup === undefined ? {} : { cgroup }),
        ...this.userField(),
        hostPort,
        endpoint: manifest.app.endpoint,
        createdAt: new Date(this.options.clock.now()).toISOString(),
      },
      await this.contextFor(cgroup ?? deploymentId, { ...paths, state: placement.stateFile }, limits),
    );
  }

  private userField(): { user?: { name: string; uid: number; gid: number } } {
    const { account } = this;
    return account === undefined ? {} : { user: { name: account.name, uid: account.uid, gid: account.gid } };
  }

  /** A build made before apps ran as the account (or by an older agent) becomes the account's, so the app may write in its folder. */
  private async handOverBuild(build: BuildPaths): Promise<void> {
    const { account } = this;
    if (account === undefined) return;
    for (const part of [build.app, build.pythonDeps]) {
      const owner = await stat(part).then((found) => found.uid, () => undefined);
      if (owner !== undefined && owner !== account.uid) await handOver(part, account, this.options.baseEnv);
    }
  }

  /** Clones, builds and tests the requested commit in a folder of its own, then starts it and waits until it serves. */
  async buildAndLaunch(request: DeployRequest, log: Logger, serving?: Serving): Promise<Supervisor> {
    const { deploymentId } = request;
    const { options } = this;
    const step = stepRunner(deploymentId, request.onProgress, log);
    const paths = deploymentPaths(options.dataDir, deploymentId);
    const build = await startBuild(paths);
    let placement: Placement | undefined;
    let supervisor: Supervisor | undefined;
    try {
      // a taken port fails at once rather than after a clone and an install
      if (request.hostPort !== undefined && request.hostPort !== serving?.port) await this.choosePort(request.hostPort, deploymentId);
      const { commit, manifest, lang } = await checkoutSource(request, { paths: build, cloneTimeoutMs: options.cloneTimeoutMs, step });
      const baseEnv = { ...options.baseEnv, ...manifest.config.env, ...request.env };
      const { signal } = this.deps;
      const { account } = this;
      const prepared = await step(DeployStep.Build, async (line) => {
        // the clone is the agent's; the install and the app (its own code) write in it as the account
        await handOver(build.app, account, options.baseEnv);
        return await prepareApp({ deploymentId, lang, manifest, paths: build, env: baseEnv, options, line, signal, runAs: account });
      });
      const testCommand = manifest.config.test;
      if (testCommand !== undefined) {
        // the test gets a port too, as the app will: not the serving version's, which it would collide with
        const env = { ...baseEnv, ...prepared.env, ...(manifest.config.port === undefined ? {} : { PORT: String(await pickFreePort()) }) };
        await step(DeployStep.Test, (line) => runAppTest({ deploymentId, command: testCommand, cwd: build.app, env, options, signal, runAs: account, line }));
      }

      const placed = await placeVersion(paths, request, manifest, serving);
      placement = placed;
      supervisor = await step(DeployStep.Run, async (line) =>
        this.launchVersion(
          {
            appName: manifest.app.name,
            commit,
            lang,
            command: prepared.command,
            cwd: build.app,
            env: (port) => ({ ...baseEnv, ...prepared.env, ...port }),
            builtEnv: prepared.env,
          },
          { request, manifest, placement: placed, paths, build, line },
        ),
      );
      // its state names the build from now on
      await finishBuild(build);
      await this.untilReady(supervisor, { paths, manifest, step, log });
      return supervisor;
    } catch (error) {
      await this.discard(paths, log, { serving: serving !== undefined, placement, supervisor, build });
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
   * After a failed start: stops what it launched and removes what it made (its new build, its state);
   * the serving version, and the builds kept for a rollback, stay. With nothing serving (a first
   * deploy, or one whose version before had to stop for it) its state and logs go too. A failure
   * here must not hide the deploy's.
   */
  private async discard(
    paths: DeploymentPaths,
    log: Logger,
    made: { serving: boolean; placement: Placement | undefined; supervisor: Supervisor | undefined; build?: BuildPaths },
  ): Promise<void> {
    await made.supervisor?.stop(0).catch(() => undefined);
    if (made.placement?.cgroup !== undefined) await this.releaseGroup(made.placement.cgroup, log);
    try {
      if (made.build !== undefined) await removeBuild(paths, made.build);
      if (made.placement?.beside === true) await rm(paths.candidateState, { force: true });
      else if (made.placement !== undefined || !made.serving) await discardDeployment(paths);
    } catch (cleanupError) {
      log.warn('could not remove the failed build', { dir: paths.dir, error: cleanupError });
    }
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

  /** The supervisor's context for an app with these limits, its control group (named `cgroup`, see cgroupOf) made or updated first. */
  async contextFor(cgroup: string, paths: DeploymentPaths, limits: AppLimits | undefined): Promise<SupervisorContext> {
    const base = this.baseContext(paths);
    if (limits === undefined || this.cgroups === undefined) return base;
    const group = await this.cgroups.ensure(cgroup, limits);
    return { ...base, limits: { cgroup: group, memoryMb: limits.memoryMb } };
  }

  /** Removes a stopped version's control group (see cgroupOf); a failure is logged, since an empty group holds nothing back. */
  async releaseGroup(cgroup: string, log: Logger = this.logger): Promise<void> {
    await this.cgroups?.remove(cgroup).catch((error: unknown) => {
      log.warn('could not remove the control group of a stopped version', { cgroup, error });
    });
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
