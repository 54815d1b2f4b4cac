import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock, Logger } from '@kraken/common';
import { ErrorCode, KrakenError, parseDuration, systemClock, toKrakenError } from '@kraken/common';

/**
 * Remembers, per deployment this node runs, how far the broker confirmed its log: the cursor
 * (LogLine.cursor, opaque here) of the last line of the last confirmed deploy.log batch. A worker
 * started after a crash resumes each app's log right there, so the lines written while no agent
 * read them arrive, and the confirmed ones are not sent again.
 */
export interface LogCursorStore {
  /** The cursors an earlier run of this node's worker recorded, by deployment. */
  load(): Promise<Map<string, string>>;
  /** The broker confirmed the deployment's log up to `cursor`. Returns at once: writes are paced. */
  record(deploymentId: string, cursor: string): void;
  /** The deployment left this node (or its log starts afresh): its cursor goes. */
  forget(deploymentId: string): Promise<void>;
  /** Writes every cursor still waiting to be written (a clean stop). */
  flush(): Promise<void>;
}

/** For a worker without a place to keep state: it follows the logs of apps it takes over from the moment it starts. */
export const noLogCursors: LogCursorStore = {
  load: () => Promise.resolve(new Map()),
  record: () => undefined,
  forget: () => Promise.resolve(),
  flush: () => Promise.resolve(),
};

export interface FileLogCursorStoreOptions {
  /** A folder of the agent's data dir, made when missing; one small file per deployment. */
  dir: string;
  logger: Logger;
  /**
   * A deployment's cursor is written at most this often: the last one confirmed in between waits
   * for the next write. After a crash, the lines confirmed since the last write are sent again
   * (never lost); a clean stop writes them all. 0 writes after every confirmed batch.
   * @default '1s'
   */
  writeInterval?: number | string;
  /** @default systemClock */
  clock?: Clock;
}

interface Entry {
  /** The newest cursor not yet written. */
  waiting: string | undefined;
  lastWriteAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Writes and removals of one deployment's file, one after another. */
  chain: Promise<void>;
}

/** Nothing waits to be written (a function, as `forget` asks across an await). */
function isIdle(entry: Entry): boolean {
  return entry.waiting === undefined && entry.timer === undefined;
}

const SUFFIX = '.cursor';
/** The ids the protocol allows (messages' deployment id), so a file name is never a path. */
const FILE_NAME = /^([A-Za-z0-9._-]{1,64})\.cursor$/;

/**
 * Keeps each cursor in `<dir>/<deploymentId>.cursor`, replaced atomically (written beside it,
 * then renamed over it), so a crash mid-write leaves the previous cursor, never half of one. No
 * fsync: the files must outlive the agent's process, which the page cache does; after a power
 * loss a stale or missing cursor means lines sent twice or followed from the restart, as before.
 */
export class FileLogCursorStore implements LogCursorStore {
  private readonly entries = new Map<string, Entry>();
  private readonly writeIntervalMs: number;
  private readonly clock: Clock;

  private constructor(private readonly options: FileLogCursorStoreOptions) {
    const interval = options.writeInterval ?? '1s';
    try {
      this.writeIntervalMs = parseDuration(interval);
    } catch (error) {
      throw new KrakenError(ErrorCode.InvalidConfig, `log cursor writeInterval: ${toKrakenError(error).message}`, {
        cause: error,
      });
    }
    this.clock = options.clock ?? systemClock;
  }

  static async open(options: FileLogCursorStoreOptions): Promise<FileLogCursorStore> {
    const store = new FileLogCursorStore(options);
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    return store;
  }

  async load(): Promise<Map<string, string>> {
    const cursors = new Map<string, string>();
    for (const name of await readdir(this.options.dir)) {
      const deploymentId = FILE_NAME.exec(name)?.[1];
      if (deploymentId === undefined) continue;
      try {
        const { cursor } = JSON.parse(await readFile(path.join(this.options.dir, name), 'utf8')) as { cursor?: unknown };
        if (typeof cursor === 'string') cursors.set(deploymentId, cursor);
      } catch (error) {
        // one unreadable cursor costs that app's lines from the outage, not the takeover
        this.options.logger.warn('ignoring an unreadable log cursor', { deploymentId, error });
      }
    }
    return cursors;
  }

  record(deploymentId: string, cursor: string): void {
    const entry = this.entryOf(deploymentId);
    entry.waiting = cursor;
    this.schedule(deploymentId, entry);
  }

  async forget(deploymentId: string): Promise<void> {
    const entry = this.entries.get(deploymentId);
    if (entry === undefined) {
      await this.remove(deploymentId);
      return;
    }
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.waiting = undefined;
    entry.chain = entry.chain.then(() => this.remove(deploymentId));
    const chain = entry.chain;
    await chain;
    // a record that came in meanwhile chained after the removal and keeps the entry
    if (entry.chain === chain && isIdle(entry)) this.entries.delete(deploymentId);
  }

  async flush(): Promise<void> {
    for (const [deploymentId, entry] of this.entries) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      if (entry.waiting !== undefined) this.write(deploymentId, entry);
    }
    await Promise.all([...this.entries.values()].map((entry) => entry.chain));
  }

  private entryOf(deploymentId: string): Entry {
    let entry = this.entries.get(deploymentId);
    if (entry === undefined) {
      entry = { waiting: undefined, lastWriteAt: Number.NEGATIVE_INFINITY, timer: undefined, chain: Promise.resolve() };
      this.entries.set(deploymentId, entry);
    }
    return entry;
  }

  private schedule(deploymentId: string, entry: Entry): void {
    if (entry.timer !== undefined) return;
    const delay = entry.lastWriteAt + this.writeIntervalMs - this.clock.now();
    if (delay <= 0) {
      this.write(deploymentId, entry);
      return;
    }
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.waiting !== undefined) this.write(deploymentId, entry);
    }, delay);
    entry.timer.unref();
  }

  /** Chains the write of the waiting cursor; each write takes the newest cursor when its turn comes. */
  private write(deploymentId: string, entry: Entry): void {
    entry.lastWriteAt = this.clock.now();
    entry.chain = entry.chain.then(async () => {
      const cursor = entry.waiting;
      if (cursor === undefined) return;
      entry.waiting = undefined;
      try {
        const file = this.fileOf(deploymentId);
        await writeFile(`${file}.tmp`, `${JSON.stringify({ cursor })}\n`, { mode: 0o600 });
        await rename(`${file}.tmp`, file);
      } catch (error) {
        this.options.logger.warn('could not write a log cursor; after a crash its app may send lines twice', {
          deploymentId,
          error,
        });
      }
    });
  }

  private async remove(deploymentId: string): Promise<void> {
    try {
      const file = this.fileOf(deploymentId);
      await rm(file, { force: true });
      await rm(`${file}.tmp`, { force: true });
    } catch (error) {
      this.options.logger.warn('could not remove a log cursor', { deploymentId, error });
    }
  }

  private fileOf(deploymentId: string): string {
    if (!FILE_NAME.test(`${deploymentId}${SUFFIX}`)) {
      throw new KrakenError(
        ErrorCode.InvalidInput,
        `expected a deployment id of 1-64 characters from [A-Za-z0-9._-], got ${JSON.stringify(deploymentId)}`,
        { deploymentId },
      );
    }
    return path.join(this.options.dir, `${deploymentId}${SUFFIX}`);
  }
}
