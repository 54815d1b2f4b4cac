import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { ErrorCode, KrakenError, settlesWithin, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { readManifest } from '@kraken/shipwreck';
import type { Manifest } from '@kraken/shipwreck';
import { DeployStep, PreparesInFlight, deployError, effectiveLimits, guardDeploy, instanceName, isDeploymentId, pickFreePort, stepRunner } from '@kraken/runtime';
import type { AppRunEvent, DeployRequest, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, PrepareRequest, PrepareResult, RunWatcher, StatsSample, StepLine, StepRunner } from '@kraken/runtime';
import { handOver, setUpAppUser } from './app-user.js';
import type { AppAccount } from './app-user.js';
import { probeCgroups } from './cgroups.js';
import type { AppLimits, Cgroups } from './cgroups.js';
import { checkoutSource } from './checkout.js';
import { runCommand } from './commands.js';
import { buildForFailover } from './failover-build.js';
import { deploymentPaths, deploymentsDir } from './layout.js';
import type { DeploymentPaths } from './layout.js';
import { assertHostPortFree } from './listen-port.js';
import type { KnownApp } from './listen-port.js';
import { lockDataDir } from './lock.js';
import type { DataDirLock } from './lock.js';
import { LogFollow } from './follow.js';
import { KeptBuilds, clearForBuild, discardBuild } from './kept-builds.js';
import type { KeptBuild, KeptState } from './kept-builds.js';
import { compileProcessOptions } from './options.js';
import type { CompiledProcessOptions, ProcessDeployerOptions } from './options.js';
import { assertSucceeded, prepareApp } from './prepare.js';
import { waitServing } from './ready.js';
import { validatePrepareRequest, validateRequest } from './validate.js';
import { readState } from './state.js';
import type { ProcessState } from './state.js';
import { Supervisor, terminateAppGroup } from './supervisor.js';
import type { SupervisorContext } from './supervisor.js';
import { GroupSampler, bytesToMb, folderBytes, round2 } from './usage.js';

/**
 * Whether a redeploy can restart from the build this node already has: the same commit (a
 * settings change), on the same port, from a state file that recorded what the build added to the
 * environment. Anything else (a new commit, an older agent's file) builds afresh.
 */
function isSameBuild(state: ProcessState, request: DeployRequest): boolean {
  return (
    request.replace === true &&
    request.commit !== undefined &&
    state.phase === 'running' &&
    state.builtEnv !== undefined &&
    state.commit.startsWith(request.commit) &&
    (request.hostPort === undefined || request.hostPort === state.hostPort)
  );
}

/** Walking a node_modules is not free: the size is measured at most this often. */
const SIZE_CACHE_MS = 60_000;
/** `maxMemMb` of a runtime that enforces no memory limit (the stats contract's "no limit"). */
const NO_MEMORY_LIMIT = 0;
/** CPU% is measured since the last /proc pass while it is at most this old (the worker asks every few seconds to a minute). */
const CPU_WINDOW_MAX_MS = 120_000;
/**
 * How long close() waits for deploys in flight to end once their commands were terminated (a
 * command group gets SIGTERM, then SIGKILL 2 s later); a step that cannot be ended (a clone) is
 * left to finish on its own.
 */
const CLOSE_WAIT_MS = 8_000;

/**
 * Runs node, python and static apps as supervised processes on this machine, for nodes where no
 * container engine answers. It has DockerDeployer's shape (deploy, stop, list, followLogs, stats)
 * so the worker drives either one. Apps keep running when the agent stops; the next deployer on
 * the same data folder adopts them from their state files.
 */
export class ProcessDeployer implements AsyncDisposable {
  /** Which runtime this is, for node info and placement. */
  readonly runtime = 'process' as const;
  /**
   * What it enforces, for node info: `user`, the unprivileged user apps run as (absent: the
   * agent's own, so they can read its data dir and signal it); memory and CPU limits hold where
   * the agent may create control groups.
   */
  readonly isolation: { readonly runsAs: 'agent'; readonly limits: boolean; readonly user?: string; readonly userWhyNot?: string; readonly limitsWhyNot?: string };
  private readonly supervisors = new Map<string, Supervisor>();
  private readonly inFlight = new Set<string>();
  private readonly prepares = new PreparesInFlight();
  private readonly sizes = new Map<string, { bytes: number; atMs: number }>();
  private readonly follows = new Set<LogFollow>();
  /** watchRuns() listeners, each with the resolver of its watcher's `done`. */
  private readonly runWatchers = new Map<(event: AppRunEvent) => void, () => void>();
  private readonly sampler: GroupSampler;
  private readonly logger: Logger;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  /** Aborted by close(): ends the install and test commands of deploys in flight. */
  private readonly closing = new AbortController();
  /** Deploys in flight, which close() waits for once their commands are ended. */
  private readonly deploys = new Set<Promise<unknown>>();

  private constructor(
    private readonly options: CompiledProcessOptions,
    private readonly lock: DataDirLock,
    /** Undefined where the agent may not create control groups: then no limit holds. */
    private readonly cgroups: Cgroups | undefined,
    /** The unprivileged user apps, installs and tests run as; undefined: the agent's user. */
    private readonly account: AppAccount | undefined,
    /** Why apps get less than a user of their own and limits, shown with the node. */
    whyNot: { userWhyNot?: string; limitsWhyNot?: string },
  ) {
    this.isolation = {
      runsAs: 'agent',
      limits: cgroups !== undefined,
      ...(account === undefined ? {} : { user: account.name }),
      ...whyNot,
    };
    this.logger = options.logger.child({ component: 'process-deployer', nodeId: options.nodeId });
    this.sampler = new GroupSampler(options.statsIntervalMs, CPU_WINDOW_MAX_MS);
  }

  /**
   * Validates the options, takes the data folder (Conflict when another live deployer holds it)
   * and adopts the apps its state files describe: running ones are watched, dead ones restarted,
   * half-finished deploys removed.
   */
  static async create(options: ProcessDeployerOptions): Promise<ProcessDeployer> {
    const compiled = compileProcessOptions(options);
    await mkdir(deploymentsDir(compiled.dataDir), { recursive: true });
    const lock = await lockDataDir(compiled.dataDir);
    const probe = await probeCgroups(compiled.cgroupRoot, compiled.nodeId, compiled.dataDir);
    if (!probe.available) compiled.logger.info(`apps run without memory or CPU limits here: ${probe.reason}`);
    const { options: effective, account, whyNot } = await setUpAppUser(compiled, probe.available);
    const deployer = new ProcessDeployer(effective, lock, probe.available ? probe.cgroups : undefined, account, {
      ...(whyNot === undefined ? {} : { userWhyNot: whyNot }),
      ...(probe.available ? {} : { limitsWhyNot: probe.reason }),
    });
    try {
      await deployer.adoptAll();
    } catch (error) {
      await deployer.close();
      throw error;
    }
    deployer.pollTimer = setInterval(() => {
      void deployer.pollAll();
    }, compiled.pollIntervalMs);
    deployer.pollTimer.unref();
    return deployer;
  }

  /** The process runtime is always available; this only mirrors the engine probe's shape. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Deploys a branch of a repository and resolves when the app answers on its port. A deployment
   * id that already runs here resolves to it (`reused`). Rejects with a KrakenError carrying the
   * deploymentId and `details.step`; nothing is left running, and on disk only the builds kept of
   * earlier versions (for a rollback).
   */
  async deploy(request: DeployRequest): Promise<DeployResult> {
    this.assertOpen();
    const { deploymentId } = request;
    validateRequest(request);
    const log = this.logger.child({ deploymentId });
    const deploying = guardDeploy(this.inFlight, deploymentId, log, async () => {
      await this.prepares.settled(deploymentId);
      const existing = this.supervisors.get(deploymentId);
      if (existing !== undefined) {
        if (existing.running && request.replace !== true) {
          log.info('deployment already running; reusing its process', { pid: existing.state.pid });
          return { ...this.describe(existing), reused: true };
        }
        if (isSameBuild(existing.state, request)) {
          const restarted = await this.restartFromBuild(existing, request, log);
          return { ...this.keep(restarted, log), buildReused: true };
        }
        if (request.replace === true) return await this.redeploy(existing, request, log);
        // a crash-looping leftover: a fresh deploy replaces it
        await this.remove(deploymentId, existing);
      }
      return await this.deployVersion(request, this.keptBuilds(deploymentId, log), log);
    });
    return this.tracked(deploying);
  }

  /** Counts work among what close() ends and waits for. */
  private tracked<T>(work: Promise<T>): Promise<T> {
    this.deploys.add(work);
    const forget = (): void => {
      this.deploys.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  /**
   * A failover build: clones and installs a commit of a deployment that runs on another node (its
   * installs niced to 19, no test, no run) and keeps it, so that a deploy of it with `fromKept` and
   * that commit starts it with no clone, build or test. Resolves at once when that commit is kept
   * already. Conflict when this node runs or deploys the deployment (its deploys keep its builds);
   * a KrakenError with `details.step` when the clone or the install fails, leaving nothing behind.
   */
  async prepare(request: PrepareRequest): Promise<PrepareResult> {
    this.assertOpen();
    const { deploymentId } = request;
    validatePrepareRequest(request);
    this.assertNotHere(deploymentId, 'build it for failover');
    const log = this.logger.child({ deploymentId });
    const context = { options: this.options, account: this.account, paths: deploymentPaths(this.options.dataDir, deploymentId), kept: this.keptBuilds(deploymentId, log), log, signal: this.closing.signal };
    return await this.tracked(this.prepares.run(deploymentId, () => buildForFailover(context, request)));
  }

  /**
   * Frees the builds this node keeps of a deployment it does not run (its failover build, when the
   * deployment is destroyed or another node holds it now), after any failover build of it in
   * flight ends. Conflict when this node runs or deploys it: stop() frees those.
   */
  async forgetKept(deploymentId: string): Promise<void> {
    this.assertOpen();
    validateRequest({ deploymentId, url: '', branch: '' });
    await this.prepares.settled(deploymentId);
    this.assertNotHere(deploymentId, 'forget its kept builds');
    await rm(deploymentPaths(this.options.dataDir, deploymentId).dir, { recursive: true, force: true });
    this.logger.info('kept builds freed', { deploymentId });
  }

  private assertNotHere(deploymentId: string, action: string): void {
    if (this.supervisors.has(deploymentId) || this.inFlight.has(deploymentId)) {
      throw deployError(ErrorCode.Conflict, `cannot ${action}: deployment ${deploymentId} runs or is being deployed on this node (${this.options.nodeId})`, { deploymentId });
    }
  }

  /**
   * A redeploy of another commit: the app's folder is rebuilt in place, so (unlike the Docker
   * runtime) the old version stops first; its build is moved aside as a kept version. With
   * `fromKept`, a kept build of the requested commit is moved back and run: no clone, build or test.
   * When the new version fails (clone, build, test, start), the old one runs again from its kept
   * build, as it ran, so a failed redeploy leaves the app serving.
   */
  private async redeploy(existing: Supervisor, request: DeployRequest, log: Logger): Promise<DeployResult> {
    const { deploymentId } = request;
    const kept = this.keptBuilds(deploymentId, log);
    const previous = existing.state;
    const wasRunning = existing.running;
    if (wasRunning) log.info('redeploy: stopping the running process first', { pid: previous.pid });
    this.supervisors.delete(deploymentId);
    this.sizes.delete(deploymentId);
    await existing.stop(this.options.stopTimeoutMs);
    // only a version that once deployed successfully is in the list; anything else is cleared by the build
    if ((await kept.list()).some((version) => version.commit === previous.commit)) await kept.stash(previous.commit);
    try {
      return await this.deployVersion(request, kept, log, previous.hostPort);
    } catch (error) {
      if (wasRunning && !this.closing.signal.aborted) await this.bringBack(previous, request, kept, log);
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
      const supervisor = await this.runKept(wanted, kept, request, log);
      this.keep(supervisor, log);
      await kept.remember(supervisor.state, new Date(this.options.clock.now()));
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
  private async deployVersion(request: DeployRequest, kept: KeptBuilds, log: Logger, retiredPort?: number): Promise<DeployResult> {
    const wanted = request.fromKept === true && request.commit !== undefined ? await kept.find(request.commit) : undefined;
    let supervisor: Supervisor;
    if (wanted === undefined) {
      if (request.fromKept === true) log.info('no kept build of this commit on this node; building it again', { commit: request.commit });
      supervisor = await this.deployFresh(request, log);
    } else {
      supervisor = await this.runKept(wanted, kept, { ...request, ...(request.hostPort === undefined && retiredPort !== undefined ? { hostPort: retiredPort } : {}) }, log);
    }
    const deployed = this.keep(supervisor, log);
    await kept.remember(supervisor.state, new Date(this.options.clock.now()));
    return { ...deployed, ...(request.fromKept === true ? { fromKept: wanted !== undefined } : {}) };
  }

  /** Moves a kept build back into the deployment's folder and starts it as it ran (its command and what its build added to the environment). */
  private async runKept(wanted: KeptBuild, kept: KeptBuilds, request: DeployRequest, log: Logger): Promise<Supervisor> {
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

  private keptBuilds(deploymentId: string, log: Logger): KeptBuilds {
    return new KeptBuilds(deploymentPaths(this.options.dataDir, deploymentId), log);
  }

  /** The commits this node keeps a build of for a deployment, newest first (the running one included). */
  async keptCommits(deploymentId: string): Promise<string[]> {
    return (await this.keptBuilds(deploymentId, this.logger).list()).map((version) => version.commit);
  }

  /** Takes a deployed app into supervision, unless the deployer closed meanwhile. */
  private keep(supervisor: Supervisor, log: Logger): DeployResult {
    if (this.isClosed()) {
      // closed during the deploy: the app stays, for the next deployer on this folder to adopt
      supervisor.detach();
      return { ...this.describe(supervisor), reused: false };
    }
    this.supervisors.set(supervisor.state.deploymentId, supervisor);
    log.info('deployed', { pid: supervisor.state.pid, hostPort: supervisor.state.hostPort, commit: supervisor.state.commit });
    return { ...this.describe(supervisor), reused: false };
  }

  /**
   * A settings change: the app's folder holds the build of the requested commit, so the process
   * restarts from it with the new environment; no clone, install or test. The old process stops
   * first (as in every redeploy of this runtime); a new one that fails leaves nothing running.
   */
  private async restartFromBuild(existing: Supervisor, request: DeployRequest, log: Logger): Promise<Supervisor> {
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
      this.supervisors.delete(deploymentId);
      this.sizes.delete(deploymentId);
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

  private async deployFresh(request: DeployRequest, log: Logger): Promise<Supervisor> {
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
      const { signal } = this.closing;
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
    const ours = new Set([...this.supervisors.values()].map((supervisor) => supervisor.state.hostPort));
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
  private knownApps(): KnownApp[] {
    return [...this.supervisors.values()].map(({ state }) => ({ deploymentId: state.deploymentId, appName: state.appName, pgid: state.pid }));
  }

  /**
   * Stops the deployment's processes (SIGTERM, then SIGKILL after stopTimeout) and removes its
   * folder; NotFound when this node runs none, after removing the builds it kept of it (what a
   * failed redeploy leaves for a rollback).
   */
  async stop(deploymentId: string): Promise<void> {
    this.assertOpen();
    if (!this.supervisors.has(deploymentId) && !this.inFlight.has(deploymentId) && isDeploymentId(deploymentId)) {
      await rm(deploymentPaths(this.options.dataDir, deploymentId).dir, { recursive: true, force: true });
    }
    const supervisor = this.require(deploymentId, 'stop');
    await this.remove(deploymentId, supervisor);
    this.logger.info('stopped and removed', { deploymentId, pid: supervisor.state.pid });
  }

  /**
   * Stops a deployment's processes and keeps its folder (code, installed dependencies, logs, state)
   * for startApp to run it again without a build. Stopping a stopped one does nothing; NotFound
   * when this node holds none.
   */
  async stopApp(deploymentId: string): Promise<void> {
    this.assertOpen();
    const supervisor = this.require(deploymentId, 'stop');
    if (supervisor.stoppedOnRequest) return;
    this.supervisors.set(deploymentId, await supervisor.stopKeeping(this.options.stopTimeoutMs));
    this.logger.info('stopped; its folder kept', { deploymentId, pid: supervisor.state.pid });
  }

  /**
   * Runs a stopped deployment again from its folder, with the command, env and port it was built
   * with (no clone, no install, no test), and resolves when it answers. Starting a running one
   * returns it as it is; NotFound when this node holds none. A start that fails leaves it stopped.
   */
  async startApp(deploymentId: string): Promise<Deployment> {
    this.assertOpen();
    const stopped = this.require(deploymentId, 'start');
    if (!stopped.stoppedOnRequest) return this.describe(stopped);
    const log = this.logger.child({ deploymentId });
    const paths = deploymentPaths(this.options.dataDir, deploymentId);
    const { hostPort } = stopped.state;
    if (hostPort !== undefined) await assertHostPortFree(hostPort, deploymentId, this.knownApps());
    const supervisor = await Supervisor.launch(stopped.spec(), await this.contextFor(deploymentId, paths, stopped.state.limits));
    try {
      await waitServing(supervisor, {
        paths,
        manifestPort: hostPort,
        timeoutMs: this.options.readyTimeoutMs,
        errorTailLines: this.options.errorTailLines,
        logger: log,
        otherApps: () => this.knownApps().filter((app) => app.deploymentId !== deploymentId),
      });
      await supervisor.markReady();
    } catch (error) {
      this.supervisors.set(deploymentId, await supervisor.stopKeeping(0));
      throw error;
    }
    this.supervisors.set(deploymentId, supervisor);
    log.info('started again without a build', { pid: supervisor.state.pid, hostPort: supervisor.state.hostPort });
    return this.describe(supervisor);
  }

  private async remove(deploymentId: string, supervisor: Supervisor): Promise<void> {
    this.supervisors.delete(deploymentId);
    this.sizes.delete(deploymentId);
    await supervisor.stop(this.options.stopTimeoutMs);
    await this.cgroups?.remove(deploymentId).catch((error: unknown) => {
      this.logger.warn('could not remove the control group of a stopped deployment', { deploymentId, error });
    });
    const { dir } = deploymentPaths(this.options.dataDir, deploymentId);
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (error) {
      throw new KrakenError(ErrorCode.Internal, `stopped deployment ${deploymentId} but could not remove ${dir}: ${toKrakenError(error).message}`, {
        deploymentId,
        cause: error,
      });
    }
  }

  /** This node's deployments: running, or restarting after a crash. */
  async list(): Promise<Deployment[]> {
    this.assertOpen();
    await this.pollAll();
    return [...this.supervisors.values()].map((supervisor) => this.describe(supervisor));
  }

  /**
   * Follows a deployment's output from `since` (default: now), or right after the line whose
   * cursor is `after` (a byte offset in each log file, exact across an agent restart), until
   * stop() or the deployment is stopped. It carries on across restarts, since the app writes to
   * the same files. `onLine` exceptions are logged and ignored.
   */
  async followLogs(deploymentId: string, onLine: (line: LogLine) => void, options: FollowLogsOptions = {}): Promise<LogFollower> {
    this.assertOpen();
    this.require(deploymentId, 'follow the logs of');
    const follow = await LogFollow.start(onLine, {
      paths: deploymentPaths(this.options.dataDir, deploymentId),
      since: options.since,
      after: options.after,
      onSkipped: options.onSkipped,
      isFull: options.isFull,
      pollIntervalMs: this.options.logPollIntervalMs,
      clock: this.options.clock,
      logger: this.logger.child({ deploymentId }),
      stillDeployed: () => this.supervisors.has(deploymentId) && !this.closed,
      onEnd: () => this.follows.delete(follow),
    });
    this.follows.add(follow);
    return follow;
  }

  /**
   * One sample from /proc for the deployment's process group: cpu% since the previous sample (or
   * over `statsInterval` when there was none lately), resident memory now, and the size of its
   * folder (checkout and dependencies) as the image size. Every app asked for at once shares one
   * pass over /proc. A deployment waiting to restart reads 0 CPU and memory. `maxMemMb` is its
   * memory limit, or 0 ("no limit" in the contract) for an app without one. The peak use it once
   * reported there made every app look full.
   */
  async stats(deploymentId: string): Promise<StatsSample> {
    this.assertOpen();
    const supervisor = this.require(deploymentId, 'read the stats of');
    const usage = supervisor.running ? await this.sampler.usage(supervisor.state.pid) : { cpuPercent: 0, rssKb: 0 };
    return {
      cpuPercent: usage.cpuPercent,
      memMb: round2(usage.rssKb / 1024),
      maxMemMb: supervisor.state.limits?.memoryMb ?? NO_MEMORY_LIMIT,
      imageSizeMb: bytesToMb(await this.folderSize(deploymentId)),
    };
  }

  private async folderSize(deploymentId: string): Promise<number> {
    const cached = this.sizes.get(deploymentId);
    const now = this.options.clock.now();
    if (cached !== undefined && now - cached.atMs < SIZE_CACHE_MS) return cached.bytes;
    const paths = deploymentPaths(this.options.dataDir, deploymentId);
    const bytes = (await folderBytes(paths.app)) + (await folderBytes(paths.pythonDeps));
    this.sizes.set(deploymentId, { bytes, atMs: now });
    return bytes;
  }

  /**
   * Reports supervised apps ending and being restarted (the supervisor restarts them with backoff),
   * so the worker can tell a crash-looping app from a steady one. Ends with close().
   */
  watchRuns(listener: (event: AppRunEvent) => void): Promise<RunWatcher> {
    this.assertOpen();
    let end = (): void => undefined;
    const done = new Promise<void>((resolve) => {
      end = () => {
        this.runWatchers.delete(listener);
        resolve();
      };
    });
    this.runWatchers.set(listener, end);
    return Promise.resolve({ stop: end, done });
  }

  private emitRun(event: AppRunEvent): void {
    for (const listener of [...this.runWatchers.keys()]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn('run event listener threw; ignored', { deploymentId: event.deploymentId, error });
      }
    }
  }

  /**
   * Stops supervising and releases the data folder; the apps keep running for the next deployer
   * to adopt (an agent restart). Ends every log follow. Deploys in flight are cut short: their
   * install and test commands are terminated (nothing of theirs outlives the agent) and close()
   * waits, up to CLOSE_WAIT_MS, for them to clean up; the orchestrator sends such a deploy again.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.closing.abort();
    await settlesWithin(Promise.allSettled(this.deploys), CLOSE_WAIT_MS);
    for (const follow of [...this.follows]) follow.stop();
    for (const end of [...this.runWatchers.values()]) end();
    for (const supervisor of this.supervisors.values()) supervisor.detach();
    this.supervisors.clear();
    await this.cgroups?.close().catch((error: unknown) => {
      this.logger.warn("could not remove this agent's control group", { error });
    });
    await this.lock.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async adoptAll(): Promise<void> {
    const root = deploymentsDir(this.options.dataDir);
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const paths = deploymentPaths(this.options.dataDir, entry.name);
      let state;
      try {
        state = await readState(paths.state);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          // a deploy that ended before its process started (agent crash), or the kept builds a
          // failed redeploy left: nothing runs from it
          this.logger.info('removing the build of an unfinished deploy (builds kept for a rollback stay)', { dir: paths.dir });
          await discardBuild(paths);
        } else {
          this.logger.error('unreadable state file; leaving that deployment alone', { dir: paths.dir, error });
        }
        continue;
      }
      if (state.phase === 'starting') {
        // the deploy was cut short before the app was ready: its requester saw no success
        this.logger.info('removing an unfinished deploy', { deploymentId: state.deploymentId, pid: state.pid });
        await terminateAppGroup(state.pid, state.startTime, this.options.stopTimeoutMs);
        await discardBuild(paths);
        continue;
      }
      if (state.deploymentId !== entry.name) {
        this.logger.error('state file names another deployment than its folder; leaving it alone', { dir: paths.dir, deploymentId: state.deploymentId });
        continue;
      }
      if (state.phase === 'stopped') {
        // stopped on request: it stays stopped, whatever happened to the agent or the machine
        // (a start the agent did not see through is ended: nobody saw it answer)
        await terminateAppGroup(state.pid, state.startTime, this.options.stopTimeoutMs);
        this.supervisors.set(state.deploymentId, Supervisor.stopped(state, this.baseContext(paths)));
        continue;
      }
      this.supervisors.set(state.deploymentId, await Supervisor.adopt(state, await this.contextFor(state.deploymentId, paths, state.limits)));
    }
    if (this.supervisors.size > 0) this.logger.info('adopted deployments', { deployments: [...this.supervisors.keys()] });
  }

  private async pollAll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      for (const supervisor of this.supervisors.values()) {
        // one app's trouble must not stop the others' checks, nor escape the deployer
        await supervisor.poll().catch((error: unknown) => {
          this.logger.warn('supervision check failed', { deploymentId: supervisor.state.deploymentId, error });
        });
      }
    } finally {
      this.polling = false;
    }
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
  private async contextFor(deploymentId: string, paths: DeploymentPaths, limits: AppLimits | undefined): Promise<SupervisorContext> {
    const base = this.baseContext(paths);
    if (limits === undefined || this.cgroups === undefined) return base;
    const cgroup = await this.cgroups.ensure(deploymentId, limits);
    return { ...base, limits: { cgroup, memoryMb: limits.memoryMb } };
  }

  private baseContext(paths: DeploymentPaths): SupervisorContext {
    const { options } = this;
    return {
      paths,
      policy: options.restart,
      clock: options.clock,
      logger: this.logger,
      maxLogBytes: options.maxLogBytes,
      onRun: (event) => {
        this.emitRun(event);
      },
    };
  }

  private describe(supervisor: Supervisor): Deployment {
    const { state } = supervisor;
    return {
      deploymentId: state.deploymentId,
      // the process group id (its leader's pid) identifies what runs
      instanceId: String(state.pid),
      instanceName: instanceName(state.deploymentId, state.nodeId),
      artifact: `process:${state.lang}`,
      appName: state.appName,
      commit: state.commit,
      state: supervisor.status,
      port: state.hostPort,
      hostPort: state.hostPort,
    };
  }

  private require(deploymentId: string, action: string): Supervisor {
    const supervisor = this.supervisors.get(deploymentId);
    if (supervisor === undefined) {
      throw new KrakenError(ErrorCode.NotFound, `cannot ${action} deployment ${deploymentId}: this node (${this.options.nodeId}) runs no process for it`, {
        deploymentId,
        nodeId: this.options.nodeId,
      });
    }
    return supervisor;
  }

  /** A method rather than the field, because close() may run while a deploy awaits. */
  private isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed) throw new KrakenError(ErrorCode.Closed, 'this ProcessDeployer was closed; create a new one', { nodeId: this.options.nodeId });
  }
}
