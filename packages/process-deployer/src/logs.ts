import { open } from 'node:fs/promises';
import { MAX_LOG_READ_LINES, MAX_LOG_RESUME_BYTES } from '@kraken/runtime';
import type { OutputStream } from '@kraken/runtime';
import { countLines, identityOf, lineStartAtOrAfter } from './log-bound.js';
import type { BoundedLog, LogCut } from './log-bound.js';
import { LineSplitter } from './lines.js';

/** How much of a log written before followLogs started is replayed at most. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

/**
 * How much one poll reads at most. An app keeps writing while the agent cannot read (paused,
 * starved, restarting): read at once, that backlog would become one array of line objects many
 * times its size, which grows the heap for good; read in steps of this size at the poll interval
 * (4 MiB/s at 250 ms), it is caught up with at a bounded cost.
 */
export const MAX_POLL_BYTES = 1024 * 1024;

export interface FileLine {
  stream: OutputStream;
  text: string;
  at: Date;
  /** The file offset just after this line's newline; absent on a piece of an over-long line. */
  end?: number;
  /** With `end`: the lines of the file up to and including this one (its line number). */
  line?: number;
}

/** A place in one log file: the file (so a replaced file is noticed), the offset in it, and the lines before it. */
export interface FilePosition {
  /** `<dev>-<inode>` of the file; '' when it did not exist. */
  file: string;
  offset: number;
  /** Lines before `offset`: how many a cut past it took away is told by the cut's count less this. */
  line: number;
}

export interface FileFollowerStart {
  /** Replay the lines written since then (at most MAX_REPLAY_BYTES). */
  since?: Date | undefined;
  /** Resume right after this position (at most MAX_LOG_RESUME_BYTES); takes precedence over since when it still names this file. */
  after?: FilePosition | undefined;
}

interface Start {
  offset: number;
  line: number;
  replayUntil: number;
  replayAt: Date | undefined;
  identity: string;
  skipped?: number;
}

/**
 * Follows one log file that an app appends to directly (its stdout or stderr is the file, so it
 * keeps writing when the agent is gone). Each poll reads what was appended since the last one.
 * The file is never truncated: its bound (BoundedLog) cuts its oldest part, and lines that were
 * cut before this follower read them are counted (takeSkipped), never lost unseen.
 *
 * Plain files carry no time per line: lines read live are stamped when read; lines replayed
 * from before the follow started are stamped with the file's modification time then.
 */
export class FileFollower {
  private offset: number;
  /** Lines before `offset`. */
  private line: number;
  /** Bytes before this offset were written before the follow started. */
  private replayUntil: number;
  private readonly replayAt: Date | undefined;
  private splitter = new LineSplitter();
  /** The identity of the file last read (see FilePosition.file). */
  private identity: string;
  /** Lines left out (bounded replay, cut before read) and not yet taken by the caller. */
  private skipped: number;

  private constructor(
    private readonly log: BoundedLog,
    private readonly stream: OutputStream,
    start: Start,
  ) {
    this.offset = start.offset;
    this.line = start.line;
    this.replayUntil = start.replayUntil;
    this.replayAt = start.replayAt;
    this.identity = start.identity;
    this.skipped = start.skipped ?? 0;
  }

  /**
   * Starts right after `start.after` when it names this file, replaying at most
   * MAX_LOG_RESUME_BYTES before the end; the lines left out, and those cut from the file since,
   * are counted (takeSkipped). A file that was replaced since is read from its start (its cut
   * counted), within the same bound. Else starts at the end of the file, or, when `since` is not
   * after the file's last write, at most MAX_REPLAY_BYTES before its end (at a line start, and
   * never before the cut), so lines written since `since` are replayed.
   */
  static async open(log: BoundedLog, stream: OutputStream, start: FileFollowerStart = {}): Promise<FileFollower> {
    return log.exclusive(async () => {
      const found = await log.enforce();
      if (found === undefined) return new FileFollower(log, stream, { offset: 0, line: 0, replayUntil: 0, replayAt: undefined, identity: '' });
      const { info, cut } = found;
      const identity = identityOf(info);
      const { after, since } = start;
      if (after !== undefined) {
        // another file than the cursor's was made after it: all of it is new
        const resumed = after.file === identity && after.offset <= info.size ? after : { offset: 0, line: 0 };
        const cutAway = resumed.offset < cut.offset ? Math.max(0, cut.lines - resumed.line) : 0;
        const from = resumed.offset < cut.offset ? { offset: cut.offset, line: cut.lines } : resumed;
        const offset =
          info.size - from.offset > MAX_LOG_RESUME_BYTES ? await lineStartAfterCut(log.file, cut, info.size - MAX_LOG_RESUME_BYTES, info.size) : from.offset;
        const leftOut = await countLines(log.file, from.offset, offset);
        return new FileFollower(log, stream, {
          offset,
          line: from.line + leftOut,
          replayUntil: info.size,
          replayAt: new Date(info.mtimeMs),
          identity,
          skipped: cutAway + leftOut,
        });
      }
      if (since === undefined || since.getTime() > info.mtimeMs) {
        const line = cut.lines + (await countLines(log.file, cut.offset, info.size));
        return new FileFollower(log, stream, { offset: info.size, line, replayUntil: 0, replayAt: undefined, identity });
      }
      const offset = await lineStartAfterCut(log.file, cut, info.size - MAX_REPLAY_BYTES, info.size);
      const line = cut.lines + (await countLines(log.file, cut.offset, offset));
      return new FileFollower(log, stream, { offset, line, replayUntil: info.size, replayAt: new Date(info.mtimeMs), identity });
    });
  }

  /** The file this follower reads, for positions of the lines it delivers. */
  get fileIdentity(): string {
    return this.identity;
  }

  /** Where the next read starts: before the first poll, where this follower resumes or starts. */
  get position(): FilePosition {
    return { file: this.identity, offset: this.offset, line: this.line };
  }

  /** Lines left out since the last call (at open: the bounded replay; later: cut before they were read). */
  takeSkipped(): number {
    const skipped = this.skipped;
    this.skipped = 0;
    return skipped;
  }

  /**
   * Reads what was appended since the last poll, up to MAX_POLL_BYTES and `maxLines` whole lines
   * (the rest is read by the next poll); `now` stamps lines read live. Keeps the file within its
   * bound first, so a flood is cut (and counted) at the rate this follower reads, too.
   */
  async poll(now: Date, maxLines = MAX_LOG_READ_LINES): Promise<FileLine[]> {
    return this.log.exclusive(async () => {
      const found = await this.log.enforce();
      if (found === undefined) return [];
      const { info, cut } = found;
      const identity = identityOf(info);
      if (identity !== this.identity || info.size < this.offset) {
        // another file (the deployment was made again), or one someone else truncated: all of it is new
        this.identity = identity;
        this.replayUntil = 0;
        this.restartAt(0, 0);
      }
      if (this.offset < cut.offset) {
        this.skipped += Math.max(0, cut.lines - this.line);
        this.restartAt(cut.offset, cut.lines);
      }
      if (info.size === this.offset) return [];
      return this.read(now, Math.min(info.size, this.offset + MAX_POLL_BYTES), maxLines);
    });
  }

  private restartAt(offset: number, line: number): void {
    this.offset = offset;
    this.line = line;
    this.splitter = new LineSplitter();
  }

  private async read(now: Date, limit: number, maxLines: number): Promise<FileLine[]> {
    const handle = await open(this.log.file, 'r');
    const lines: FileLine[] = [];
    try {
      const buffer = Buffer.alloc(64 * 1024);
      while (this.offset < limit) {
        // the replayed part is read on its own, so no chunk mixes old lines with live ones
        const replayed = this.offset < this.replayUntil;
        const end = replayed ? Math.min(this.replayUntil, limit) : limit;
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - this.offset), this.offset);
        if (bytesRead === 0) break;
        const at = replayed && this.replayAt !== undefined ? this.replayAt : now;
        this.split(buffer.subarray(0, bytesRead), at, lines);
        if (lines.length >= maxLines && this.keepFirst(lines, maxLines)) break;
      }
    } finally {
      await handle.close();
    }
    return lines;
  }

  /**
   * Splits a chunk read at `this.offset` into lines, each whole line carrying the offset after its
   * newline and its line number, and moves the offset past the chunk. The splitter returns the
   * chunk's whole lines first, one per newline in it, then any pieces of an over-long unfinished line.
   */
  private split(chunk: Buffer, at: Date, into: FileLine[]): void {
    const texts = this.splitter.push(chunk);
    let newline = chunk.indexOf(0x0a);
    for (const text of texts) {
      if (newline < 0) {
        into.push({ stream: this.stream, text, at });
        continue;
      }
      this.line += 1;
      into.push({ stream: this.stream, text, at, end: this.offset + newline + 1, line: this.line });
      newline = chunk.indexOf(0x0a, newline + 1);
    }
    this.offset += chunk.length;
  }

  /**
   * Keeps the lines up to the last whole one among the first `count`, and reads on after it next
   * time; false when there is none to cut after (pieces of one over-long line).
   */
  private keepFirst(lines: FileLine[], count: number): boolean {
    for (let index = count - 1; index >= 0; index--) {
      const { end, line } = lines[index] ?? {};
      if (end === undefined || line === undefined) continue;
      lines.length = index + 1;
      this.offset = end;
      this.line = line;
      // the cut is at a line's end, where the splitter holds nothing of value
      this.splitter = new LineSplitter();
      return true;
    }
    return false;
  }

  /** The last line when it has no newline yet (call when following ends). */
  flush(now: Date): FileLine[] {
    return this.splitter.flush().map((text) => ({ stream: this.stream, text, at: now }));
  }
}

/** The first line start at or after `position`, and never before the cut (the bytes before it are a hole). */
async function lineStartAfterCut(file: string, cut: LogCut, position: number, end: number): Promise<number> {
  return position <= cut.offset ? cut.offset : lineStartAtOrAfter(file, position, end);
}

/** The last `count` lines of a file (reading at most its last 64 KiB); [] when it does not exist. */
export async function lastLines(file: string, count: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').map((line) => line.replace(/\r$/, ''));
    // the first one is probably cut, or, after a hole (a cut of the file's bound), the end of a line
    if (size > length || buffer[0] === 0) lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}
