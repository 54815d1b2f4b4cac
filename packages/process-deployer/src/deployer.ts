import { mkdir, rm } from 'node:fs/promises';
import { ErrorCode, KrakenError, settlesWithin, toKrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';
import { PreparesInFlight, deployError, guardDeploy, instanceName, isDeploymentId } from '@kraken/runtime';
import type { AppRunEvent, DeployRequest, DeployResult, Deployment, FollowLogsOptions, LogFollower, LogLine, PrepareRequest, PrepareResult, RunWatcher, StatsSample } from '@kraken/runtime';
import { adoptDeployments } from './adopt.js';
import { setUpAppUser } from './app-user.js';
import type { AppAccount } from './app-user.js';
import { probeCgroups } from './cgroups.js';
import type { Cgroups } from './cgroups.js';
import { buildForFailover } from './failover-build.js';
import { deploymentPaths, deploymentsDir } from './layout.js';
import { assertHostPortFree } from './listen-port.js';
import { AppLauncher } from './launcher.js';
import { cgroupOf } from './placement.js';
import { VersionSwitch } from './versions.js';
import { lockDataDir } from './lock.js';
import type { DataDirLock } from './lock.js';
import { BoundedLogs } from './log-bound.js';
import { LogFollow } from './follow.js';
import { KeptBuilds } from './kept-builds.js';
import { compileProcessOptions } from './options.js';
import type { CompiledProcessOptions, ProcessDeployerOptions } from './options.js';
import { waitServing } from './ready.js';
import { validatePrepareRequest, validateRequest } from './validate.js';
import { Supervisor } from './supervisor.js';
import { AppUsage } from './app-usage.js';

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
  private readonly follows = new Set<LogFollow>();
  private readonly logs: BoundedLogs;
  /** watchRuns() listeners, each with the resolver of its watcher's `done`. */
  private readonly runWatchers = new Map<(event: AppRunEvent) => void, () => void>();
  private readonly usage: AppUsage;
  private readonly launcher: AppLauncher;
  private readonly versions: VersionSwitch;
  private readonly logger: Logger;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  /** Aborted by close(): ends the install and test commands of deploys in flight. */
  private readonly closing = new AbortController();
  /** Deploys in flight and the drains of replaced versions, which close() waits for once their commands are ended. */
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
    this.usage = new AppUsage(options);
    this.logs = new BoundedLogs(options.maxLogBytes, this.logger);
    this.launcher = new AppLauncher({
      options,
      account,
      cgroups,
      supervised: () => this.supervisors.values(),
      signal: this.closing.signal,
      onRun: (event) => {
        this.emitRun(event);
      },
      logs: this.logs,
      logger: this.logger,
    });
    this.versions = new VersionSwitch({
      launcher: this.launcher,
      options,
      signal: this.closing.signal,
      release: (deploymentId) => {
        this.release(deploymentId);
      },
      keep: (supervisor, log) => this.keep(supervisor, log),
      track: (work) => {
        void this.tracked(work);
      },
    });
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
      for (const [deploymentId, supervisor] of await adoptDeployments(deployer.launcher, { options: effective, logger: deployer.logger })) deployer.supervisors.set(deploymentId, supervisor);
      if (deployer.supervisors.size > 0) deployer.logger.info('adopted deployments', { deployments: [...deployer.supervisors.keys()] });
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
   * id that already runs here resolves to it (`reused`), unless `replace` asks for the new version:
   * that one starts beside the running one, on a port of its own, and replaces it once ready (see
   * VersionSwitch). Rejects with a KrakenError carrying the deploymentId and `details.step`; nothing
   * of the new version is left running or on disk, a version that ran before serves on, and the
   * builds kept of earlier versions stay (for a rollback).
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
        if (request.replace === true) return await this.versions.redeploy(existing, request, this.keptBuilds(deploymentId, log), log);
        // a crash-looping leftover: a fresh deploy replaces it
        await this.remove(deploymentId, existing);
      }
      return await this.versions.deploy(request, this.keptBuilds(deploymentId, log), log);
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
    await this.versions.endDrains(deploymentId);
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
    if (hostPort !== undefined) await assertHostPortFree(hostPort, deploymentId, this.launcher.knownApps());
    const supervisor = await Supervisor.launch(stopped.spec(), await this.launcher.contextFor(cgroupOf(stopped.state), paths, stopped.state.limits));
    try {
      await waitServing(supervisor, {
        paths,
        manifestPort: hostPort,
        timeoutMs: this.options.readyTimeoutMs,
        errorTailLines: this.options.errorTailLines,
        logger: log,
        otherApps: () => this.launcher.knownApps().filter((app) => app.deploymentId !== deploymentId),
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

  /** No longer supervised here (stopped, or replaced by another version). */
  private release(deploymentId: string): void {
    this.supervisors.delete(deploymentId);
    this.usage.forget(deploymentId);
  }

  private async remove(deploymentId: string, supervisor: Supervisor): Promise<void> {
    this.release(deploymentId);
    await supervisor.stop(this.options.stopTimeoutMs);
    await this.launcher.releaseGroup(cgroupOf(supervisor.state), this.logger.child({ deploymentId }));
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
    const paths = deploymentPaths(this.options.dataDir, deploymentId);
    const follow = await LogFollow.start(onLine, {
      logs: { stdout: this.logs.of(paths.stdout), stderr: this.logs.of(paths.stderr) },
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

  /** CPU, memory and folder size of a deployment's processes now (see AppUsage). */
  async stats(deploymentId: string): Promise<StatsSample> {
    this.assertOpen();
    return await this.usage.sample(this.require(deploymentId, 'read the stats of'));
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
