import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '@kraken/common';
import { DeployStep } from '@kraken/runtime';
import type { FollowLogsOptions, LogFollower, LogLine, OutputStream } from '@kraken/runtime';
import { OutputLines, splitTimestamp } from './demux.js';
import { mapEngineError } from './errors.js';
import { ResumeFilter, engineTimeKey, formatDockerCursor, parseDockerCursor } from './log-cursor.js';

/** How often a log follow held by a full consumer asks again whether it has room. */
const FULL_RECHECK_MS = 100;

/**
 * Follows a container's output from `since` (default: now), or right after the line whose cursor
 * is `after` (the engine's nanosecond time stamp of that line), until stopped or the container
 * ends. A resume replays at most MAX_LOG_RESUME_BYTES of the lines written before it started and
 * counts the rest in `onSkipped`. `onLine` exceptions are logged and ignored.
 */
export async function followContainerLogs(
  container: Docker.Container,
  { deploymentId, onLine, options, logger }: { deploymentId: string; onLine: (line: LogLine) => void; options: FollowLogsOptions; logger: Logger },
): Promise<LogFollower> {
  const after = options.after === undefined ? undefined : parseDockerCursor(options.after);
  // the engine takes whole seconds here: the lines of the cursor's second up to it are skipped below
  const since = after?.sinceSeconds ?? Math.floor((options.since ?? new Date()).getTime() / 1000);
  const resume = after === undefined ? undefined : new ResumeFilter(after.timeKey, engineTimeKey(new Date().toISOString()) ?? '');
  let stream: Readable;
  try {
    stream = (await container.logs({ follow: true, stdout: true, stderr: true, timestamps: true, since })) as unknown as Readable;
  } catch (error) {
    throw mapEngineError(error, { deploymentId, step: DeployStep.Run, action: 'read the container logs' });
  }
  const output = new OutputLines();
  const deliver = (lines: { stream: OutputStream; text: string }[]): void => {
    let skipped = 0;
    for (const line of lines) {
      const { at, text, time } = splitTimestamp(line.text);
      const timeKey = time === undefined ? undefined : engineTimeKey(time);
      const verdict = resume?.judge(timeKey, line.text.length) ?? 'deliver';
      if (verdict === 'beyond-bound') skipped++;
      if (verdict !== 'deliver') continue;
      try {
        onLine({ stream: line.stream, text, at: at ?? new Date(), ...(timeKey === undefined ? {} : { cursor: formatDockerCursor(timeKey) }) });
      } catch (error) {
        logger.warn('log listener threw; ignored', { deploymentId, error });
      }
    }
    if (skipped > 0) options.onSkipped?.(skipped);
  };
  // a consumer that is full holds the stream: the engine keeps the lines meanwhile (a chunk, each
  // line with its 31-character time and 8-byte frame header, is far below MAX_LOG_READ_LINES)
  let holding: NodeJS.Timeout | undefined;
  const holdWhileFull = (): void => {
    if (options.isFull?.() !== true) return;
    stream.pause();
    holding = setInterval(() => {
      if (options.isFull?.() === true) return;
      clearInterval(holding);
      holding = undefined;
      stream.resume();
    }, FULL_RECHECK_MS);
  };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      deliver(output.push(chunk));
      holdWhileFull();
    });
    const end = (): void => {
      clearInterval(holding);
      deliver(output.flush());
      resolve();
    };
    stream.once('end', end);
    stream.once('close', end);
    stream.once('error', (error) => {
      logger.debug('log stream ended with an error', { deploymentId, error });
      end();
    });
  });
  return {
    stop: () => {
      stream.destroy();
    },
    done,
  };
}
