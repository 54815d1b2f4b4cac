import type { Clock, Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import type { AppRunEvent, RunWatcher } from '@kraken/runtime';
import type { Deployer } from './deployer.js';
import { RestartCounter } from './restarts.js';
import type { CrashLoopPolicy, RestartVerdict } from './restarts.js';

export interface CrashWatchOptions {
  deployer: Deployer;
  policy: CrashLoopPolicy;
  clock: Clock;
  logger: Logger;
  /** Wait before watching the runtime's events again after the stream ended (an engine restart). */
  rewatchDelayMs: number;
  /** Called for each verdict about a deployment the worker said is running. */
  onVerdict: (deploymentId: string, verdict: RestartVerdict) => void;
  onError: (error: unknown, during: string) => void;
}

/**
 * Counts the restarts the runtime makes of each running app (Docker's restart policy, the process
 * supervisor's backoff) and tells the worker when an app is crash-looping, has recovered, or should
 * be given up on. Runtimes without `watchRuns` report no restarts.
 */
export class CrashWatch {
  private readonly counters = new Map<string, RestartCounter>();
  private readonly steadyTimers = new Map<string, NodeJS.Timeout>();
  private watcher: RunWatcher | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The runtime's events could not be read last time: an engine that stays down is reported once, not every retry. */
  private failing = false;

  constructor(private readonly options: CrashWatchOptions) {}

  /** Starts watching; a runtime whose events cannot be read now is tried again later. */
  async start(): Promise<void> {
    const { deployer } = this.options;
    if (deployer.watchRuns === undefined || this.stopped) return;
    let watcher: RunWatcher;
    try {
      watcher = await deployer.watchRuns((event) => {
        this.onEvent(event);
      });
    } catch (error) {
      if (!this.failing) this.options.onError(toKrakenError(error), 'watch app restarts');
      this.failing = true;
      this.rewatch();
      return;
    }
    this.failing = false;
    if (this.isStopped()) {
      watcher.stop();
      return;
    }
    this.watcher = watcher;
    void watcher.done.then(() => {
      if (this.watcher !== watcher || this.stopped) return;
      this.watcher = undefined;
      this.rewatch();
    });
  }

  /** A deployment now runs (deployed, redeployed or taken over): its count starts from zero. */
  running(deploymentId: string): void {
    this.forget(deploymentId);
    this.counters.set(deploymentId, new RestartCounter(this.options.policy, this.options.clock.now()));
  }

  /** It no longer runs here, or the worker is redeploying or stopping it: its events mean nothing. */
  forget(deploymentId: string): void {
    this.counters.delete(deploymentId);
    clearTimeout(this.steadyTimers.get(deploymentId));
    this.steadyTimers.delete(deploymentId);
  }

  /** What to report with a Running status; undefined for a deployment not counted. */
  restartsOf(deploymentId: string): ReturnType<RestartCounter['snapshot']> | undefined {
    return this.counters.get(deploymentId)?.snapshot();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
    this.watcher = undefined;
    clearTimeout(this.retryTimer);
    for (const id of [...this.counters.keys()]) this.forget(id);
  }

  // a method, so the compiler does not keep the field narrowed across the await in start()
  private isStopped(): boolean {
    return this.stopped;
  }

  private onEvent(event: AppRunEvent): void {
    const counter = this.counters.get(event.deploymentId);
    // a container the deploy replaced (another port, an older version) may die just before it ran
    if (counter === undefined || event.at.getTime() < counter.sinceMs) return;
    const verdict = event.kind === 'exit' ? counter.exit({ atMs: event.at.getTime(), code: event.code, signal: event.signal, cause: event.cause }) : counter.start(event.at.getTime());
    if (verdict === undefined) return;
    if (verdict.kind === 'give-up') this.forget(event.deploymentId);
    else if (event.kind === 'start') this.checkSteadyLater(event.deploymentId, counter);
    this.options.onVerdict(event.deploymentId, verdict);
  }

  private checkSteadyLater(deploymentId: string, counter: RestartCounter): void {
    clearTimeout(this.steadyTimers.get(deploymentId));
    const timer = setTimeout(
      () => {
        this.steadyTimers.delete(deploymentId);
        if (this.counters.get(deploymentId) !== counter) return;
        const verdict = counter.steady(this.options.clock.now());
        if (verdict !== undefined) this.options.onVerdict(deploymentId, verdict);
      },
      // the event's time may lag the clock a little: never check before the run is due to be steady
      Math.max(0, counter.steadyAtMs() - this.options.clock.now()) + 50,
    );
    timer.unref();
    this.steadyTimers.set(deploymentId, timer);
  }

  private rewatch(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.start();
    }, this.options.rewatchDelayMs);
    this.retryTimer.unref();
  }
}
