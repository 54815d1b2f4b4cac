import { copyFile, open, stat, truncate } from 'node:fs/promises';
import type { OutputStream } from '@kraken/docker-deployer';
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

  private constructor(
    private readonly file: string,
    private readonly stream: OutputStream,
    start: { offset: number; replayUntil: number; replayAt: Date | undefined },
  ) {
    this.offset = start.offset;
    this.replayUntil = start.replayUntil;
    this.replayAt = start.replayAt;
  }

  /**
   * Starts at the end of the file, or, when `since` is not after the file's last write, at most
   * MAX_REPLAY_BYTES before its end (at a line start), so lines written since `since` are replayed.
   */
  static async open(file: string, stream: OutputStream, since: Date | undefined): Promise<FileFollower> {
    const info = await stat(file).catch(() => undefined);
    if (info === undefined) return new FileFollower(file, stream, { offset: 0, replayUntil: 0, replayAt: undefined });
    if (since === undefined || since.getTime() > info.mtimeMs) {
      return new FileFollower(file, stream, { offset: info.size, replayUntil: 0, replayAt: undefined });
    }
    const offset = await lineStartAtOrAfter(file, Math.max(0, info.size - MAX_REPLAY_BYTES));
    return new FileFollower(file, stream, { offset, replayUntil: info.size, replayAt: new Date(info.mtimeMs) });
  }

  /** Reads what was appended since the last poll, up to MAX_POLL_BYTES; `now` stamps lines read live. */
  async poll(now: Date): Promise<FileLine[]> {
    const info = await stat(this.file).catch(() => undefined);
    if (info === undefined) return [];
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
        this.offset += bytesRead;
        const at = replayed && this.replayAt !== undefined ? this.replayAt : now;
        for (const text of this.splitter.push(buffer.subarray(0, bytesRead))) lines.push({ stream: this.stream, text, at });
      }
    } finally {
      await handle.close();
    }
    return lines;
  }

  /** The last line when it has no newline yet (call when following ends). */
  flush(now: Date): FileLine[] {
    return this.splitter.flush().map((text) => ({ stream: this.stream, text, at: now }));
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
