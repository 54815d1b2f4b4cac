import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, open, rm } from 'node:fs/promises';
import { ErrorCode, KrakenError, hasExited, isoTime, readProcStat, toKrakenError } from '@kraken/common';
import type { Clock, Logger } from '@kraken/common';
import { memoryLimitCause } from '@kraken/runtime';
import type { AppRunEvent } from '@kraken/runtime';
import { nextRestartDelay } from './backoff.js';
import { joinCgroupScript } from './cgroups.js';
import type { AppCgroup } from './cgroups.js';
import type { RunAs } from './commands.js';
import type { DeploymentPaths } from './layout.js';
import type { BoundedLog } from './log-bound.js';
import type { RestartPolicy } from './options.js';
import { signalGroup, waitGroupGone } from './proc.js';
import { writeState } from './state.js';
import type { ProcessState } from './state.js';

/** What a deployment runs; the rest of ProcessState says which process runs it now. */
export type ProcessSpec = Omit<ProcessState, 'pid' | 'startTime' | 'startedAt' | 'restarts'>;

export interface ExitInfo {
  /** Unknown (null) for a process this deployer did not start: only its parent learns how it ended. */
  code: number | null;
  signal: NodeJS.Signals | null;
  atMs: number;
}

export interface SupervisorContext {
  paths: DeploymentPaths;
  policy: RestartPolicy;
  clock: Clock;
  logger: Logger;
  /** The app's log files, which poll() keeps within their bound. */
  logs: { stdout: BoundedLog; stderr: BoundedLog };
  /** Hears the app end and start again while it is supervised (not the deploy's start, not stop()). */
  onRun?: ((event: AppRunEvent) => void) | undefined;
  /** The control group that holds the app to its limits; undefined for an app with none. */
  limits?: { cgroup: AppCgroup; memoryMb?: number | undefined } | undefined;
}

interface Current {
  pid: number;
  startTime: number;
  startedAtMs: number;
  /** Set when this deployer started the process: its exit event is then the death notice. */
  child: ChildProcess | undefined;
  /** The group's OOM kills before this run started: one more means the kernel ended it at its memory limit. */
  oomKillsBefore?: number;
}

/**
 * Keeps one deployment's process running: restarts it with backoff when it ends, until stop().
 * The process leads its own process group (detached) and writes straight to the deployment's log
 * files, so it outlives the agent; a later deployer adopts it from the state file and watches it
 * by polling /proc, since only a parent hears of its child's exit.
 */
export class Supervisor {
  private current: Current | undefined;
  private generation = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarting: Promise<void> | undefined;
  private lastDelayMs: number | undefined;
  /** Restarts apply once the deploy has seen the app ready: a crash at start is the deploy's error, not a restart. */
  private supervising = false;
  /** stop() or detach(): never start the process again. */
  private ended = false;
  private readonly logger: Logger;
  lastExit: ExitInfo | undefined;

  private constructor(
    public state: ProcessState,
    /** Not readonly: a version started beside the serving one moves to the deployment's state file when it takes over. */
    private context: SupervisorContext,
  ) {
    this.logger = context.logger.child({ deploymentId: state.deploymentId });
  }

  /** Starts the deployment's process (not yet restarted on exit: see markReady) and writes its state file. */
  static async launch(spec: ProcessSpec, context: SupervisorContext): Promise<Supervisor> {
    const now = isoTime(context.clock);
    const supervisor = new Supervisor({ ...spec, pid: 1, startTime: 0, startedAt: now, restarts: 0 }, context);
    await supervisor.spawnProcess();
    try {
      await supervisor.save();
    } catch (error) {
      // untracked, it would run on with nobody to stop it
      await supervisor.stop(0);
      throw error;
    }
    return supervisor;
  }

  /** Takes over a deployed app from its state file: watches it if it still runs, restarts it if not. */
  static async adopt(state: ProcessState, context: SupervisorContext): Promise<Supervisor> {
    const supervisor = new Supervisor(state, context);
    supervisor.supervising = true;
    supervisor.current = { pid: state.pid, startTime: state.startTime, startedAtMs: Date.parse(state.startedAt) || context.clock.now(), child: undefined };
    const stat = await readProcStat(state.pid);
    if (stat !== undefined && !hasExited(stat) && stat.startTime === state.startTime) {
      supervisor.logger.info('adopted a running app', { pid: state.pid });
    } else {
      supervisor.logger.warn('app was no longer running when adopted; restarting it', { pid: state.pid });
      supervisor.handleExit(supervisor.generation, { code: null, signal: null, atMs: context.clock.now() });
    }
    return supervisor;
  }

  /** A deployment stopped on request: nothing runs and nothing is restarted until a start launches it again. */
  static stopped(state: ProcessState, context: SupervisorContext): Supervisor {
    const supervisor = new Supervisor({ ...state, phase: 'stopped' }, context);
    supervisor.ended = true;
    return supervisor;
  }

  /**
   * Ends supervision and the process group like stop(), and records the deployment as stopped on
   * request, so a restarted agent leaves it stopped; its folder stays for a start without a build.
   * Returns the stopped supervisor that stands for it from now on.
   */
  async stopKeeping(graceMs: number): Promise<Supervisor> {
    await this.stop(graceMs);
    const stopped = Supervisor.stopped(this.state, this.context);
    await writeState(this.context.paths.state, stopped.state);
    return stopped;
  }

  /**
   * What a start runs again: the command, env and port this deployment was built with. It stays
   * `stopped` until markReady, so an agent that dies mid-start keeps the folder and the stop.
   */
  spec(): ProcessSpec {
    const { pid: _pid, startTime: _startTime, startedAt: _startedAt, restarts: _restarts, ...spec } = this.state;
    return { ...spec, phase: 'stopped' };
  }

  /** Stopped on request (stopKeeping, or found so after a restart): nothing runs until a start. */
  get stoppedOnRequest(): boolean {
    return this.ended && this.state.phase === 'stopped';
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** running, restarting (waiting for the next start) or exited (ended and not restarted), in Docker's words. */
  get status(): 'running' | 'restarting' | 'exited' {
    if (this.current !== undefined) return 'running';
    return this.ended || !this.supervising ? 'exited' : 'restarting';
  }

  /** A method rather than the field, because stop() may set it while an async step awaits. */
  private hasEnded(): boolean {
    return this.ended;
  }

  /**
   * The app answers on `port`, not the one it was given in $PORT (a port fixed in its code): it
   * is the app's port from now on, saved with the state at markReady.
   */
  listensOn(port: number): void {
    this.state = { ...this.state, hostPort: port };
  }

  /**
   * The version started beside the serving one (its state in `paths.candidateState`) becomes the
   * one that serves: its state goes to `stateFile`, which a restarted agent adopts, and the
   * candidate's file is removed.
   */
  async takeOver(stateFile: string): Promise<void> {
    const candidateFile = this.context.paths.state;
    this.context = { ...this.context, paths: { ...this.context.paths, state: stateFile } };
    await this.save();
    await rm(candidateFile, { force: true });
  }

  /** From now on an exit means a restart. */
  async markReady(): Promise<void> {
    this.state = { ...this.state, phase: 'running' };
    this.supervising = true;
    await this.save();
    // it may have ended between the ready answer and now, when exits did not yet mean restarts
    if (this.current === undefined && !this.ended) this.scheduleRestart('ended right after it was ready', 0);
  }

  /**
   * Periodic check: keeps the log files within their bound and, for a process this deployer did not start,
   * notices its death (gone, a zombie, or its pid now another process).
   */
  async poll(): Promise<void> {
    if (this.ended) return;
    for (const log of [this.context.logs.stdout, this.context.logs.stderr]) {
      // a log that cannot be bounded must not keep the app's death from being noticed
      await log.keepWithinBound().catch((error: unknown) => {
        this.logger.warn('could not keep a log file within its bound', { file: log.file, error });
      });
    }
    const current = this.current;
    if (current === undefined || current.child !== undefined) return;
    const stat = await readProcStat(current.pid);
    if (stat === undefined || hasExited(stat) || stat.startTime !== current.startTime) {
      this.handleExit(this.generation, { code: null, signal: null, atMs: this.context.clock.now() });
    }
  }

  /** Ends supervision and the process group: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.detach();
    await this.restarting;
    const current = this.current;
    if (current !== undefined) await terminateAppGroup(current.pid, current.startTime, graceMs);
  }

  /** Ends supervision and leaves the process running (agent shutdown: a later deployer adopts it). */
  detach(): void {
    this.ended = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private async spawnProcess(): Promise<void> {
    const { paths } = this.context;
    const [program, ...args] = this.state.command;
    if (program === undefined) throw new KrakenError(ErrorCode.Internal, 'the deployment has no command to run', { deploymentId: this.state.deploymentId });
    const limits = this.context.limits;
    const oomKillsBefore = await limits?.cgroup.oomKills();
    const user = this.state.user;
    // within limits, a shell joins the group first and then becomes the app: nothing runs outside it.
    // Only root may move a process into a group, so an app of its own user is dropped to it after the move.
    const dropped = user === undefined ? [program, ...args] : ['setpriv', `--reuid=${String(user.uid)}`, `--regid=${String(user.gid)}`, '--clear-groups', '--', program, ...args];
    const command: [string, string[], RunAs | undefined] =
      limits === undefined
        ? [program, args, user]
        : ['/bin/sh', ['-c', joinCgroupScript(limits.cgroup.procsFiles), 'kraken-limits', ...limits.cgroup.procsFiles, ...dropped], undefined];
    const stdout = await open(paths.stdout, 'a', 0o600);
    const stderr = await open(paths.stderr, 'a', 0o600);
    let child: ChildProcess;
    try {
      // detached: its own process group and session, so the agent's terminal signals and exit do not reach it
      const [file, argv, runAs] = command;
      child = spawn(file, argv, {
        cwd: this.state.cwd,
        env: { ...this.state.env },
        detached: true,
        stdio: ['ignore', stdout.fd, stderr.fd],
        ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      });
    } finally {
      await stdout.close();
      await stderr.close();
    }
    const pid = child.pid;
    if (pid === undefined) {
      const [error] = (await once(child, 'error')) as [Error];
      throw new KrakenError(ErrorCode.Internal, `could not start ${program} in ${this.state.cwd}: ${error.message}`, {
        deploymentId: this.state.deploymentId,
        cause: error,
      });
    }
    this.generation += 1;
    const generation = this.generation;
    child.once('exit', (code, signal) => {
      this.handleExit(generation, { code, signal, atMs: this.context.clock.now() });
    });
    child.on('error', (error) => {
      this.logger.warn('app process error', { error, pid });
    });
    // the agent may exit while the app runs on
    child.unref();
    const startedAtMs = this.context.clock.now();
    // a process that already ended still reads as a zombie here until node reaps it
    const startTime = (await readProcStat(pid))?.startTime ?? 0;
    this.current = { pid, startTime, startedAtMs, child, ...(oomKillsBefore === undefined ? {} : { oomKillsBefore }) };
    this.state = { ...this.state, pid, startTime, startedAt: new Date(startedAtMs).toISOString() };
  }

  private handleExit(generation: number, exit: ExitInfo): void {
    const current = this.current;
    if (generation !== this.generation || current === undefined) return;
    this.current = undefined;
    this.lastExit = exit;
    // whatever the app left in its group (npm's child node, a worker) would hold its port
    void terminateAppGroup(current.pid, current.startTime, 0).catch((error: unknown) => {
      this.logger.warn('could not clean up the app process group', { error, pid: current.pid });
    });
    if (this.ended || !this.supervising) return;
    if (this.context.limits === undefined) this.reportExit(current, exit, undefined);
    else
      void this.memoryLimitCause(current).then((cause) => {
        if (!this.ended) this.reportExit(current, exit, cause);
      });
  }

  /** Why the kernel ended the run, when it was the memory limit; undefined otherwise. */
  private async memoryLimitCause(run: Current): Promise<string | undefined> {
    const limits = this.context.limits;
    if (limits === undefined || run.oomKillsBefore === undefined) return undefined;
    const kills = await limits.cgroup.oomKills();
    if (kills <= run.oomKillsBefore) return undefined;
    return memoryLimitCause(limits.memoryMb);
  }

  private reportExit(run: Current, exit: ExitInfo, cause: string | undefined): void {
    this.context.onRun?.({
      kind: 'exit',
      deploymentId: this.state.deploymentId,
      at: new Date(exit.atMs),
      ...(exit.code === null ? {} : { code: exit.code }),
      ...(exit.signal === null ? {} : { signal: exit.signal }),
      ...(cause === undefined ? {} : { cause }),
    });
    const what = cause === undefined ? describeExit(exit) : `${describeExit(exit)}: ${cause}`;
    this.scheduleRestart(`${what} after ${seconds(exit.atMs - run.startedAtMs)}`, exit.atMs - run.startedAtMs);
  }

  private scheduleRestart(what: string, ranForMs: number): void {
    const delayMs = nextRestartDelay(this.lastDelayMs, ranForMs, this.context.policy);
    this.lastDelayMs = delayMs;
    this.logger.warn('app ended; restarting', { what, ranForMs, delayMs });
    // in the app's own log, so whoever reads it sees why it started again
    void appendFile(this.context.paths.stderr, `kraken: the app ${what}; restarting in ${seconds(delayMs)}\n`).catch(() => undefined);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarting = this.restart().finally(() => {
        this.restarting = undefined;
      });
    }, delayMs);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.ended) return;
    try {
      await this.spawnProcess();
    } catch (error) {
      this.logger.error('could not restart the app; trying again later', { error });
      this.scheduleRestart(`could not be started (${toKrakenError(error).message})`, 0);
      return;
    }
    if (this.hasEnded()) {
      // stop() came while it started
      const current = this.current;
      if (current !== undefined) await terminateAppGroup(current.pid, current.startTime, 0);
      return;
    }
    this.state = { ...this.state, restarts: this.state.restarts + 1 };
    const current = this.current;
    if (current !== undefined) this.context.onRun?.({ kind: 'start', deploymentId: this.state.deploymentId, at: new Date(current.startedAtMs) });
    await this.save().catch((error: unknown) => {
      this.logger.error('could not write the state file; a restarted agent may not find this app', { error });
    });
    this.logger.info('app restarted', { pid: this.state.pid, restarts: this.state.restarts });
  }

  private async save(): Promise<void> {
    try {
      await writeState(this.context.paths.state, this.state);
    } catch (error) {
      if (this.ended) return; // stop() removed the folder
      throw error;
    }
  }
}

/**
 * SIGTERM to the group, SIGKILL to what is left after `graceMs`. The group is only signalled while
 * it can still be ours: pid numbers are reused, but not one a live group still uses as its id, so
 * the only foreign owner of the id would be a new process leading a group of its own, with another
 * start time.
 */
export async function terminateAppGroup(pgid: number, startTime: number, graceMs: number): Promise<void> {
  const leader = await readProcStat(pgid);
  if (leader !== undefined && !hasExited(leader) && leader.startTime !== startTime && leader.pgrp === pgid) return;
  if (graceMs > 0) {
    signalGroup(pgid, 'SIGTERM');
    if (await waitGroupGone(pgid, graceMs)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 5000);
}

function describeExit(exit: ExitInfo): string {
  if (exit.code !== null) return `exited with code ${exit.code}`;
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return 'stopped running';
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
