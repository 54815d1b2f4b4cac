import type { Clock, Logger } from '@kraken/common';
import { MAX_LOG_READ_LINES } from '@kraken/runtime';
import type { LogFollower, LogLine } from '@kraken/runtime';
import type { BoundedLog } from './log-bound.js';
import { formatLogCursor, parseLogCursor } from './log-cursor.js';
import type { LogPosition } from './log-cursor.js';
import { FileFollower } from './logs.js';
import type { FileLine } from './logs.js';

/** How many times the poll interval a quiet app's logs wait at most between polls (250 ms -> 2 s). */
const QUIET_POLL_FACTOR = 8;

export interface FollowOptions {
  /** The deployment's stdout and stderr files. */
  logs: { stdout: BoundedLog; stderr: BoundedLog };
  since: Date | undefined;
  /** A cursor of a line delivered earlier (LogLine.cursor): resume right after it. */
  after: string | undefined;
  /** Lines left out: by the bounded replay after `after`, or cut from a file (its bound) before they were read. */
  onSkipped: ((lines: number) => void) | undefined;
  /** While true, the files are not read (FollowLogsOptions.isFull). */
  isFull: (() => boolean) | undefined;
  pollIntervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Asked after each poll: false ends the follow (the deployment was stopped). */
  stillDeployed: () => boolean;
  /** Called once when the follow ends, however it ends. */
  onEnd: () => void;
}

/**
 * Tails a deployment's stdout and stderr files together until stop() or the deployment is gone.
 * Each whole line carries a cursor naming how far both files were delivered, so a later follow
 * (after an agent restart) resumes exactly there.
 */
export class LogFollow implements LogFollower {
  readonly done: Promise<void>;
  private resolveDone: () => void = () => undefined;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  /** The wait before the next poll: pollIntervalMs after output, longer while the app is quiet. */
  private delayMs: number;
  /** How far each file was delivered, as the next line's cursor says it. */
  private readonly position: LogPosition;

  private constructor(
    private readonly files: readonly FileFollower[],
    private readonly onLine: (line: LogLine) => void,
    private readonly options: FollowOptions,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    this.delayMs = options.pollIntervalMs;
    const [stdout, stderr] = files;
    const nowhere = { file: '', offset: 0, line: 0 };
    this.position = { stdout: stdout?.position ?? nowhere, stderr: stderr?.position ?? nowhere };
  }

  static async start(onLine: (line: LogLine) => void, options: FollowOptions): Promise<LogFollow> {
    const after = options.after === undefined ? undefined : parseLogCursor(options.after);
    const files = await Promise.all([
      FileFollower.open(options.logs.stdout, 'stdout', { since: options.since, after: after?.stdout }),
      FileFollower.open(options.logs.stderr, 'stderr', { since: options.since, after: after?.stderr }),
    ]);
    const skipped = files.reduce((sum, file) => sum + file.takeSkipped(), 0);
    if (skipped > 0) {
      options.logger.warn(
        'lines written while the agent was away are skipped: beyond what a resume replays, or cut by the log file bound',
        { lines: skipped },
      );
      options.onSkipped?.(skipped);
    }
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
      let behind = false;
      // a full consumer is asked again at the interval; the lines wait in the files meanwhile
      for (const file of this.files) {
        if (this.options.isFull?.() === true) continue;
        const lines = await file.poll(now);
        // stopped while reading: stop() flushed the unfinished line the read went on from, so the
        // read's first line would be its tail; it stays unread, for a resume from the last cursor
        if (this.isEnded()) return;
        // the gap comes before the lines read after it, so the consumer sees it where it is
        this.reportCut(file.takeSkipped());
        behind ||= lines.length >= MAX_LOG_READ_LINES;
        delivered += this.deliver(lines);
      }
      // an idle app is polled less and less often (up to QUIET_POLL_FACTOR times the interval), so
      // many quiet apps cost next to nothing; its next line is read at the interval again. A read
      // that stopped at the line limit goes on at once, unless the consumer is full by now.
      const { pollIntervalMs } = this.options;
      const full = this.options.isFull?.() === true;
      if (behind && !full) this.delayMs = 0;
      else if (delivered > 0 || full) this.delayMs = pollIntervalMs;
      else this.delayMs = Math.min(Math.max(this.delayMs, pollIntervalMs / 2) * 2, pollIntervalMs * QUIET_POLL_FACTOR);
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

  /** Lines the file's bound cut before they were read: a flood outran this follow (or its consumer). */
  private reportCut(lines: number): void {
    if (lines === 0) return;
    this.options.logger.debug('log lines were cut by the log file bound before they were read', { lines });
    try {
      this.options.onSkipped?.(lines);
    } catch (error) {
      this.options.logger.warn('log listener threw; ignored', { error });
    }
  }

  private fileOf(stream: FileLine['stream']): string {
    return (stream === 'stderr' ? this.files[1] : this.files[0])?.fileIdentity ?? '';
  }

  /** Hands `lines` to the listener; returns how many there were. */
  private deliver(lines: readonly FileLine[]): number {
    if (lines.length === 0) return 0;
    for (const line of lines) {
      let cursor: string | undefined;
      if (line.end !== undefined) {
        this.position[line.stream] = { file: this.fileOf(line.stream), offset: line.end, line: line.line ?? 0 };
        cursor = formatLogCursor(this.position);
      }
      try {
        this.onLine(
          cursor === undefined
            ? { stream: line.stream, text: line.text, at: line.at }
            : { stream: line.stream, text: line.text, at: line.at, cursor },
        );
      } catch (error) {
        this.options.logger.warn('log listener threw; ignored', { error });
      }
    }
    return lines.length;
  }
}
