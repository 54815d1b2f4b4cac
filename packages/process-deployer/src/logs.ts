import { copyFile, open, stat, truncate } from 'node:fs/promises';
import { MAX_LOG_READ_LINES, MAX_LOG_RESUME_BYTES } from '@kraken/runtime';
import type { OutputStream } from '@kraken/runtime';
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
}

/** A place in one log file: the file (so a replaced file is noticed) and the offset in it. */
export interface FilePosition {
  /** `<dev>-<inode>` of the file; '' when it did not exist. */
  file: string;
  offset: number;
}

export interface FileFollowerStart {
  /** Replay the lines written since then (at most MAX_REPLAY_BYTES). */
  since?: Date | undefined;
  /** Resume right after this position (at most MAX_LOG_RESUME_BYTES); takes precedence over since when it still names this file. */
  after?: FilePosition | undefined;
}

/**
 * Follows one log file that an app appends to directly (its stdout or stderr is the file, so it
 * keeps writing when the agent is gone). Each poll reads what was appended since the last one.
 * A file that got shorter was rotated (copied away and truncated): reading starts again at 0.
 *
 * Plain files carry no time per line: lines read live are stamped when read; lines replayed
 * from before the follow started are stamped with the file's modification time then.
 */
export class FileFollower {
  private offset: number;
  /** Bytes before this offset were written before the follow started. */
  private replayUntil: number;
  private readonly replayAt: Date | undefined;
  private splitter = new LineSplitter();
  /** The identity of the file last read (see FilePosition.file). */
  private identity: string;
  /** Lines replay left out (MAX_LOG_RESUME_BYTES); read once by the caller. */
  readonly skippedLines: number;

  private constructor(
    private readonly file: string,
    private readonly stream: OutputStream,
    start: { offset: number; replayUntil: number; replayAt: Date | undefined; identity: string; skippedLines?: number },
  ) {
    this.offset = start.offset;
    this.replayUntil = start.replayUntil;
    this.replayAt = start.replayAt;
    this.identity = start.identity;
    this.skippedLines = start.skippedLines ?? 0;
  }

  /**
   * Starts right after `start.after` when it names this file (the same file, not shorter than
   * the offset), replaying at most MAX_LOG_RESUME_BYTES before the end and counting the lines left
   * out; a file that was replaced since is read from its start, within the same bound. Else
   * starts at the end of the file, or, when `since` is not after the file's last write, at most
   * MAX_REPLAY_BYTES before its end (at a line start), so lines written since `since` are replayed.
   */
  static async open(file: string, stream: OutputStream, start: FileFollowerStart = {}): Promise<FileFollower> {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined) return new FileFollower(file, stream, { offset: 0, replayUntil: 0, replayAt: undefined, identity: '' });
    const identity = identityOf(info);
    const { after, since } = start;
    if (after !== undefined) {
      // another file than the cursor's was made after it: all of it is new
      const from = after.file === identity && after.offset <= info.size ? after.offset : 0;
      const offset = info.size - from > MAX_LOG_RESUME_BYTES ? await lineStartAtOrAfter(file, info.size - MAX_LOG_RESUME_BYTES) : from;
      let skippedLines = offset > from ? await countLines(file, from, offset) : 0;
      // shorter than the cursor: rotated since, and what was unread of it is in <file>.1
      if (after.file === identity && after.offset > info.size) skippedLines += await countRotatedLines(`${file}.1`, after.offset);
      return new FileFollower(file, stream, { offset, replayUntil: info.size, replayAt: new Date(info.mtimeMs), identity, skippedLines });
    }
    if (since === undefined || since.getTime() > info.mtimeMs) {
      return new FileFollower(file, stream, { offset: info.size, replayUntil: 0, replayAt: undefined, identity });
    }
    const offset = await lineStartAtOrAfter(file, Math.max(0, info.size - MAX_REPLAY_BYTES));
    return new FileFollower(file, stream, { offset, replayUntil: info.size, replayAt: new Date(info.mtimeMs), identity });
  }

  /** The file this follower reads, for positions of the lines it delivers. */
  get fileIdentity(): string {
    return this.identity;
  }

  /** Where the next read starts: before the first poll, where this follower resumes or starts. */
  get position(): FilePosition {
    return { file: this.identity, offset: this.offset };
  }

  /**
   * Reads what was appended since the last poll, up to MAX_POLL_BYTES and `maxLines` whole lines
   * (the rest is read by the next poll); `now` stamps lines read live.
   */
  async poll(now: Date, maxLines = MAX_LOG_READ_LINES): Promise<FileLine[]> {
    const info = await stat(this.file).catch(() => undefined);
    if (info === undefined) return [];
    this.identity = identityOf(info);
    if (info.size < this.offset) {
      // rotated: whatever was left unread of the old content went to <file>.1
      this.offset = 0;
      this.replayUntil = 0;
      this.splitter = new LineSplitter();
    }
    if (info.size === this.offset) return [];
    const handle = await open(this.file, 'r');
    const lines: FileLine[] = [];
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const limit = Math.min(info.size, this.offset + MAX_POLL_BYTES);
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
   * newline, and moves the offset past the chunk. The splitter returns the chunk's whole lines
   * first, one per newline in it, then any pieces of an over-long unfinished line.
   */
  private split(chunk: Buffer, at: Date, into: FileLine[]): void {
    const texts = this.splitter.push(chunk);
    let newline = chunk.indexOf(0x0a);
    for (const text of texts) {
      if (newline < 0) {
        into.push({ stream: this.stream, text, at });
        continue;
      }
      into.push({ stream: this.stream, text, at, end: this.offset + newline + 1 });
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
      const end = lines[index]?.end;
      if (end === undefined) continue;
      lines.length = index + 1;
      this.offset = end;
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

function identityOf(info: { dev: number; ino: number }): string {
  return `${String(info.dev)}-${String(info.ino)}`;
}

/** Lines of a rotated-away file after `from`, which a resume cannot read: counted as skipped. */
async function countRotatedLines(rotated: string, from: number): Promise<number> {
  const info = await stat(rotated).catch(() => undefined);
  return info !== undefined && info.size > from ? countLines(rotated, from, info.size) : 0;
}

/** Newlines in [from, to) of a file, read in 1 MiB steps. */
async function countLines(file: string, from: number, to: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(MAX_POLL_BYTES, to - from));
    let lines = 0;
    for (let at = from; at < to; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, to - at), at);
      if (bytesRead === 0) break;
      for (let index = buffer.indexOf(0x0a); index >= 0 && index < bytesRead; index = buffer.indexOf(0x0a, index + 1)) lines++;
      at += bytesRead;
    }
    return lines;
  } finally {
    await handle.close();
  }
}

async function lineStartAtOrAfter(file: string, position: number): Promise<number> {
  if (position === 0) return 0;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    let at = position - 1;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
      if (bytesRead === 0) return at;
      const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (newline >= 0) return at + newline + 1;
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
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
    if (size > length) lines.shift(); // the first one is probably cut
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

/**
 * Keeps a log file under `maxBytes`: copies it to `<file>.1` (replacing the previous one) and
 * truncates it. The app holds the file open for appending, so it keeps writing at the new end;
 * lines written between the copy and the truncation are lost, as with logrotate's copytruncate.
 */
export async function rotateIfLarge(file: string, maxBytes: number): Promise<boolean> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined || info.size <= maxBytes) return false;
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}
