import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KEPT_VERSIONS, KrakenError } from '@kraken/common';

/** One kept version: what a runtime needs to run it again is its own business (`T`). */
export interface KeptVersion {
  /** The full commit sha. */
  commit: string;
  /** ISO time it was last deployed. */
  keptAt: string;
}

/**
 * `entry` becomes the newest; an older entry of the same commit is replaced, and beyond `max` the
 * oldest are dropped (the caller frees what they hold).
 */
export function keepNewest<T extends KeptVersion>(list: readonly T[], entry: T, max = KEPT_VERSIONS): { kept: T[]; dropped: T[] } {
  const others = list.filter((version) => version.commit !== entry.commit);
  const all = [entry, ...others];
  return { kept: all.slice(0, max), dropped: all.slice(max) };
}

/** The kept version whose commit is `commit` or starts with it (an abbreviation). */
export function findKept<T extends KeptVersion>(list: readonly T[], commit: string): T | undefined {
  const wanted = commit.toLowerCase();
  return list.find((version) => version.commit.toLowerCase().startsWith(wanted));
}

/**
 * One JSON file per deployment listing its kept versions, newest first. A missing file is an empty
 * list; a damaged one is reported (InvalidInput naming the file) rather than guessed at.
 */
export class KeptFile<T extends KeptVersion> {
  constructor(private readonly file: string) {}

  async read(): Promise<T[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (cause) {
      throw new KrakenError(ErrorCode.InvalidInput, `kept versions file ${this.file} is not JSON (${(cause as Error).message})`, { details: { file: this.file }, cause });
    }
    const versions = (doc as { v?: unknown; versions?: unknown } | null)?.versions;
    if ((doc as { v?: unknown }).v !== 1 || !Array.isArray(versions) || !versions.every((entry) => typeof (entry as KeptVersion | null)?.commit === 'string')) {
      throw new KrakenError(ErrorCode.InvalidInput, `kept versions file ${this.file} must hold {"v": 1, "versions": [{"commit": ...}, ...]}`, { details: { file: this.file } });
    }
    return versions as T[];
  }

  /** Written to a temporary name and renamed, so a crash mid-write never leaves half a file; owner-only, as it may hold an app's settings. */
  async write(versions: readonly T[]): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ v: 1, versions }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
  }

  async remove(): Promise<void> {
    await rm(this.file, { force: true });
  }
}
