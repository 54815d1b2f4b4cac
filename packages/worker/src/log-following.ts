import { ErrorCode, toKrakenError } from '@kraken/common';
import type { DeployLogBody } from '@kraken/messages';
import { DeploymentStatus, MessageType } from '@kraken/messages';
import { MAX_LOG_READ_LINES } from '@kraken/runtime';
import type { LogFollower } from '@kraken/runtime';
import type { Background } from './background.js';
import type { Deployer } from './deployer.js';
import { LogBatcher } from './log-batcher.js';
import type { LogCursorStore } from './log-cursors.js';
import type { CompiledWorkerOptions } from './options.js';
import type { StatusOutbox } from './status-outbox.js';
import type { Tracked, TrackedDeployments } from './tracked.js';
import type { WorkerPart } from './worker-events.js';

export interface LogFollowingOptions extends WorkerPart {
  deployer: Pick<Deployer, 'followLogs'>;
  settings: Pick<CompiledWorkerOptions, 'logFlushLines' | 'logFlushIntervalMs' | 'logBufferLines' | 'logBatchBytes' | 'logRefollowDelayMs'>;
  outbox: Pick<StatusOutbox, 'publish' | 'telemetry'>;
  deployments: Pick<TrackedDeployments, 'stillRunning' | 'untrack'>;
  logCursors: Pick<LogCursorStore, 'record'>;
  background: Pick<Background, 'run' | 'later'>;
  stopped: () => boolean;
}

/**
 * Carries each running app's log to the orchestrator: follows it from the runtime (again after the
 * app restarts, from where it left off), batches its lines and sends them as deploy.log.
 */
export class LogFollowing {
  /** A log follow reads on while its batcher has room for one more read (at most half its buffer). */
  private readonly readRoom: number;

  constructor(private readonly options: LogFollowingOptions) {
    this.readRoom = Math.min(MAX_LOG_READ_LINES, Math.ceil(options.settings.logBufferLines / 2));
  }

  /** The batcher of a deployment just taken on: its lines go out as deploy.log, its confirmed cursor is remembered. */
  open(deploymentId: string): LogBatcher {
    const { settings, logCursors, report } = this.options;
    return new LogBatcher({
      deploymentId,
      flushLines: settings.logFlushLines,
      flushIntervalMs: settings.logFlushIntervalMs,
      bufferLines: settings.logBufferLines,
      batchBytes: settings.logBatchBytes,
      send: (body) => this.sendLogBatch(body),
      onSendError: (error) => {
        report.fail(error, 'publish deploy.log', deploymentId);
      },
      onConfirmed: (cursor) => {
        logCursors.record(deploymentId, cursor);
      },
    });
  }

  async follow(t: Tracked, since: Date): Promise<void> {
    const { deployer, deployments, outbox, report, background, settings } = this.options;
    if (this.options.stopped() || t.phase !== 'running') return;
    let follower: LogFollower;
    try {
      follower = await deployer.followLogs(
        t.deploymentId,
        (line) => {
          if (line.cursor !== undefined) t.lastCursor = line.cursor;
          t.logs.push(line.stream, line.text, line.at, line.cursor);
        },
        {
          since,
          ...(t.lastCursor === undefined ? {} : { after: t.lastCursor }),
          onSkipped: (lines) => {
            this.logsSkipped(t, lines);
          },
          // the lines wait in the runtime's log rather than be dropped from a full buffer
          isFull: () => t.logs.room() < this.readRoom,
        },
      );
    } catch (error) {
      const failure = toKrakenError(error);
      if (!deployments.stillRunning(t)) return;
      if (failure.code === ErrorCode.NotFound) {
        outbox.publish(t, DeploymentStatus.Errored, { message: `the container of ${t.deploymentId} is gone from node ${this.options.nodeId}` });
        await deployments.untrack(t);
        return;
      }
      report.fail(failure, 'follow logs', t.deploymentId);
      background.later(() => this.follow(t, since), settings.logRefollowDelayMs);
      return;
    }
    if (!deployments.stillRunning(t)) {
      follower.stop();
      return;
    }
    t.follower = follower;
    background.run(
      follower.done.then(() => {
        if (this.options.stopped() || t.phase !== 'running' || t.follower !== follower) return;
        // the stream ends when the container stops (a crash it restarts from): follow it again
        t.follower = undefined;
        const resumeAt = new Date(this.options.clock.now());
        background.later(() => this.follow(t, resumeAt), settings.logRefollowDelayMs);
      }),
      'follow logs',
      t.deploymentId,
    );
  }

  /** Lines the runtime's log lost before they were read (a bounded resume, a log's size bound): counted as dropped, so the gap shows. */
  private logsSkipped(t: Tracked, lines: number): void {
    t.logs.countDropped(lines);
    this.options.report.counters.logLinesDropped += lines;
    this.options.report.emit('logs-dropped', { deploymentId: t.deploymentId, lines, reason: "lost from the runtime's log before they were read: beyond what a resume replays, or cut by the log's size bound" });
  }

  /**
   * deploy.log is durable: this resolves once RabbitMQ confirmed the batch, waiting out a broker
   * outage (the batcher buffers new lines meanwhile). A batch refused for good (a full queue, an
   * outage longer than the publish timeout) counts as dropped.
   */
  private async sendLogBatch(body: DeployLogBody): Promise<boolean> {
    const { report } = this.options;
    try {
      await this.options.outbox.telemetry(MessageType.DeployLog, body);
    } catch (error) {
      report.counters.logLinesDropped += body.lines.length;
      report.emit('logs-dropped', { deploymentId: body.deploymentId, lines: body.lines.length, reason: toKrakenError(error).message });
      report.fail(error, 'publish deploy.log', body.deploymentId);
      return false;
    }
    report.counters.logBatchesSent++;
    return true;
  }
}
