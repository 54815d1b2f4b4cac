import type { Clock, Logger } from '@kraken/common';
import type { LogFollower, LogLine } from '@kraken/docker-deployer';
import type { DeploymentPaths } from './layout.js';
import { FileFollower } from './logs.js';
import type { FileLine } from './logs.js';

/** How many times the poll interval a quiet app's logs wait at most between polls (250 ms -> 2 s). */
const QUIET_POLL_FACTOR = 8;

export interface FollowOptions {
  paths: DeploymentPaths;
  since: Date | undefined;
  pollIntervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Asked after each poll: false ends the follow (the deployment was stopped). */
  stillDeployed: () => boolean;
  /** Called once when the follow ends, however it ends. */
  onEnd: () => void;
}

/** Tails a deployment's stdout and stderr files together until stop() or the deployment is gone. */
export class LogFollow implements LogFollower {
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  /** The wait before the next poll: pollIntervalMs after output, longer while the app is quiet. */
  private delayMs: number;

  private constructor(
    private readonly files: readonly FileFollower[],
    private readonly onLine: (line: LogLine) => void,
    private readonly options: FollowOptions,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.delayMs = options.pollIntervalMs;
  }

  static async start(onLine: (line: LogLine) => void, options: FollowOptions): Promise<LogFollow> {
    const files = await Promise.all([
      FileFollower.open(options.paths.stdout, 'stdout', options.since),
      FileFollower.open(options.paths.stderr, 'stderr', options.since),
    ]);
    const follow = new LogFollow(files, onLine, options);
    void follow.poll();
    return follow;
  }

  stop(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const now = new Date(this.options.clock.now());
    for (const file of this.files) this.deliver(file.flush(now));
    this.options.onEnd();
    this.resolveDone();
  }

  private isEnded(): boolean {
    return this.ended;
  }

  private async poll(): Promise<void> {
    try {
      const now = new Date(this.options.clock.now());
      let delivered = 0;
      for (const file of this.files) delivered += this.deliver(await file.poll(now));
      // an idle app is polled less and less often (up to QUIET_POLL_FACTOR times the interval), so
      // many quiet apps cost next to nothing; its next line is read at the interval again
      const { pollIntervalMs } = this.options;
      this.delayMs = delivered > 0 ? pollIntervalMs : Math.min(this.delayMs * 2, pollIntervalMs * QUIET_POLL_FACTOR);
    } catch (error) {
      this.options.logger.debug('reading the log files failed; ending the follow', { error });
      this.stop();
      return;
    }
    if (this.isEnded()) return;
    if (!this.options.stillDeployed()) {
      this.stop();
      return;
    }
    this.timer = setTimeout(() => void this.poll(), this.delayMs);
    this.timer.unref();
  }

  /** Hands `lines` to the listener; returns how many there were. */
  private deliver(lines: readonly FileLine[]): number {
    if (lines.length === 0) return 0;
    for (const line of lines) {
      try {
        this.onLine(line);
      } catch (error) {
        this.options.logger.warn('log listener threw; ignored', { error });
      }
    }
    return lines.length;
  }
}
