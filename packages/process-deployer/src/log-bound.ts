import { execFile } from 'node:child_process';
import { open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { promisify } from 'node:util';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { Logger } from '@kraken/common';

const run = promisify(execFile);

/** Holes are punched in whole blocks of this size; the part of a block before the cut stays on disk. */
const PUNCH_ALIGN = 4096;

/** How much one read of the counting steps takes: a large cut yields to the event loop between steps. */
const COUNT_STEP_BYTES = 1024 * 1024;

/**
 * What was cut from the front of one log file: every byte before `offset` (a line start) is gone
 * (a hole), and those bytes held `lines` lines. Offsets past it stay what they were, since the file
 * is never truncated nor moved.
 */
export interface LogCut {
  offset: number;
  lines: number;
}

const NOTHING_CUT: LogCut = { offset: 0, lines: 0 };

/** `<dev>-<inode>`: a file replaced (the deployment made again) is another file. */
export function identityOf(info: { dev: number; ino: number }): string {
  return `${String(info.dev)}-${String(info.ino)}`;
}

/**
 * Keeps one log file that an app appends to within `maxBytes` of data, without ever losing a
 * line uncounted. Copy-and-truncate lost what the app wrote between the two steps, and what no
 * follower had read of the copy; here the oldest part is counted (its newlines) and then punched
 * out as a hole (fallocate), so disk use is bounded while every offset stays valid. A follower
 * behind the cut counts `cut.lines - its line number` as skipped and goes on at `cut.offset`.
 *
 * The cut is recorded in `<file>.cut` before the hole is punched, so a later deployer (an agent
 * restart) knows how many lines the hole held. Followers and the bound run one at a time
 * (exclusive), so no read sees a range while it is punched.
 */
export class BoundedLog {
  /** Which file `cut` is of: its identity and birth time (see birthOf). */
  private birth = '';
  private cut: LogCut = NOTHING_CUT;
  private turn: Promise<unknown> = Promise.resolve();
  /** A failed punch is said once per file, not at every poll. */
  private punchFailed = false;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  /** Cuts the file down to its bound when it holds more (see enforce). */
  async keepWithinBound(): Promise<void> {
    await this.exclusive(() => this.enforce());
  }

  /** Runs `task` when no other task of this log runs. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.turn.then(task);
    this.turn = result.catch(() => undefined);
    return result;
  }

  /** The cut of the file `info` describes; a file seen for the first time reads its record. */
  private async cutOf(info: Stats): Promise<LogCut> {
    const birth = birthOf(info);
    if (birth !== this.birth) {
      this.birth = birth;
      this.cut = await readCut(this.cutFile, birth);
    }
    // shorter than its cut: truncated by someone else (an admin, a host's logrotate), so all of it is new
    if (this.cut.offset > info.size) this.cut = NOTHING_CUT;
    return this.cut;
  }

  /**
   * Cuts the file down to its newest `maxBytes` (from the first line start among them) when it
   * holds more; returns the file as found and the cut then in force, undefined when there is no
   * file. Call within exclusive.
   */
  async enforce(): Promise<{ info: Stats; cut: LogCut } | undefined> {
    const info = await stat(this.file).catch(() => undefined);
    if (info === undefined) return undefined;
    const cut = await this.cutOf(info);
    if (info.size - cut.offset <= this.maxBytes) return { info, cut };
    const offset = await lineStartAtOrAfter(this.file, info.size - this.maxBytes, info.size);
    const next = { offset, lines: cut.lines + (await countLines(this.file, cut.offset, offset)) };
    // recorded first: a crash between the two leaves bytes on disk that count as cut, never a hole that is not counted
    await writeCut(this.cutFile, this.birth, next);
    this.cut = next;
    try {
      await punchHole(this.file, offset - (offset % PUNCH_ALIGN));
    } catch (error) {
      // the cut is in force all the same (followers skip it, counted): only the disk space stays taken
      if (!this.punchFailed) this.logger.warn('a log file over its bound keeps its disk space', { file: this.file, error });
      this.punchFailed = true;
    }
    return { info, cut: next };
  }

  private get cutFile(): string {
    return `${this.file}.cut`;
  }
}

/** The bounded logs of one deployer, one per file, so its supervisors and followers share each. */
export class BoundedLogs {
  private readonly logs = new Map<string, BoundedLog>();

  constructor(
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  of(file: string): BoundedLog {
    let log = this.logs.get(file);
    if (log === undefined) {
      log = new BoundedLog(file, this.maxBytes, this.logger);
      this.logs.set(file, log);
    }
    return log;
  }
}

/**
 * The identity of a file and its birth time: a file made where a removed one was (a deployment
 * made again) may get the same inode, and must not inherit its cut. Where the file system keeps
 * no birth time, the identity alone.
 */
function birthOf(info: Stats): string {
  return `${identityOf(info)}@${String(info.birthtimeMs)}`;
}

async function readCut(cutFile: string, birth: string): Promise<LogCut> {
  let text: string;
  try {
    text = await readFile(cutFile, 'utf8');
  } catch {
    return NOTHING_CUT;
  }
  const record = JSON.parse(text) as { file?: unknown; offset?: unknown; lines?: unknown };
  // a record of a file replaced since says nothing about this one
  if (record.file !== birth || typeof record.offset !== 'number' || typeof record.lines !== 'number') return NOTHING_CUT;
  return { offset: record.offset, lines: record.lines };
}

async function writeCut(cutFile: string, birth: string, cut: LogCut): Promise<void> {
  const temporary = `${cutFile}.tmp`;
  await writeFile(temporary, JSON.stringify({ file: birth, ...cut }), { mode: 0o600 });
  await rename(temporary, cutFile);
}

/** Frees the first `length` bytes of `file` on disk; its size and later offsets stay. */
async function punchHole(file: string, length: number): Promise<void> {
  if (length <= 0) return;
  try {
    // from 0 each time: punching a hole again costs next to nothing, and it mends a punch a crash missed
    await run('fallocate', ['--punch-hole', '--offset', '0', '--length', String(length), file]);
  } catch (error) {
    throw new KrakenError(
      ErrorCode.Internal,
      `could not free the cut part of ${file} (fallocate --punch-hole, util-linux): the file system may not support holes; its lines are counted as cut, but the file keeps its disk space`,
      { cause: error },
    );
  }
}

/** Newlines in [from, to) of a file, read in COUNT_STEP_BYTES steps. */
export async function countLines(file: string, from: number, to: number): Promise<number> {
  if (to <= from) return 0;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(COUNT_STEP_BYTES, to - from));
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

/** The first line start at or after `position`, or `end` when no line starts before it. */
export async function lineStartAtOrAfter(file: string, position: number, end: number): Promise<number> {
  if (position <= 0) return 0;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let at = position - 1; at < end; ) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - at), at);
      if (bytesRead === 0) break;
      const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (newline >= 0) return at + newline + 1;
      at += bytesRead;
    }
    return end;
  } finally {
    await handle.close();
  }
}
