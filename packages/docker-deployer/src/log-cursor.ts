import { MAX_LOG_RESUME_BYTES } from '@kraken/runtime';

/**
 * Docker's log cursor: the time the engine stamped on a line (`timestamps: true`), to the
 * nanosecond. Resuming after it skips the lines stamped at or before it, so it is exact unless two
 * lines share a nanosecond, and it survives the agent: the engine keeps the log.
 */

/** The version of the format: a cursor of another version (another runtime's) is not recognised. */
const PREFIX = 'd1:';
/** RFC 3339 in UTC as the engine writes it, the fraction of a second without trailing zeros. */
const ENGINE_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;
const CURSOR = /^d1:(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)$/;

/**
 * The engine time of a line as a fixed-width text (nine fraction digits), so two of them compare
 * as strings; undefined for a time the engine would not write.
 */
export function engineTimeKey(time: string): string | undefined {
  const match = ENGINE_TIME.exec(time);
  if (match === null) return undefined;
  return `${match[1] ?? ''}.${(match[2] ?? '').padEnd(9, '0')}Z`;
}

export function formatDockerCursor(timeKey: string): string {
  return `${PREFIX}${timeKey}`;
}

/** The time key a cursor names, and the whole second to ask the engine for lines `since`; undefined for a cursor this runtime did not make. */
export function parseDockerCursor(cursor: string): { timeKey: string; sinceSeconds: number } | undefined {
  const timeKey = CURSOR.exec(cursor)?.[1];
  if (timeKey === undefined) return undefined;
  const seconds = Date.parse(`${timeKey.slice(0, 19)}Z`) / 1000;
  return Number.isFinite(seconds) ? { timeKey, sinceSeconds: seconds } : undefined;
}

export type ResumeVerdict = 'deliver' | 'confirmed' | 'beyond-bound';

/**
 * Decides, line by line, what a follow resumed after a cursor delivers: nothing stamped at or
 * before the cursor (the broker has it), and of the backlog (stamped before the follow started)
 * at most `maxBytes`; the backlog beyond that is skipped, and counted by the caller.
 */
export class ResumeFilter {
  private backlogBytes = 0;
  private last: ResumeVerdict = 'deliver';

  constructor(
    private readonly afterKey: string,
    private readonly startKey: string,
    private readonly maxBytes = MAX_LOG_RESUME_BYTES,
  ) {}

  /** `timeKey` undefined: a piece of a long line, which goes where the line's start went. */
  judge(timeKey: string | undefined, bytes: number): ResumeVerdict {
    if (timeKey === undefined) return this.last;
    if (timeKey <= this.afterKey) this.last = 'confirmed';
    else if (timeKey >= this.startKey) this.last = 'deliver';
    else {
      this.backlogBytes += bytes;
      this.last = this.backlogBytes > this.maxBytes ? 'beyond-bound' : 'deliver';
    }
    return this.last;
  }
}
