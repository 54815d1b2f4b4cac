import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';

/** The store's file in a data dir: a leader's own, or the copy a standby keeps of it. */
export const STORE_FILE = 'orchestrator.db';

/** SQLite's own verdict that a file is not (or no longer) a database it can read. */
export function isDamaged(error: unknown): boolean {
  // not instanceof Error: the native module's errors may come from another realm (jest's sandbox)
  for (let current = error as { code?: unknown; cause?: unknown } | null | undefined, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    if (current.code === 'SQLITE_NOTADB' || current.code === 'SQLITE_CORRUPT') return true;
    current = current.cause as typeof current;
  }
  return false;
}

/** Renames the database and its WAL and shared-memory files to `<file>.damaged-<time>[-wal|-shm]`; returns the new name. */
export function moveAside(file: string, at: string): string {
  const aside = `${file}.damaged-${at.replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(`${file}${suffix}`)) renameSync(`${file}${suffix}`, `${aside}${suffix}`);
  }
  return aside;
}

/**
 * The database holds the cluster's state (its secrets sealed, the rest in clear): only its owner may
 * read it. SQLite gives the -wal and -shm files the main file's mode, so the file is made (or made)
 * 0600 before SQLite opens it.
 */
export function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function resolveFile(options: { file?: string | undefined; dataDir?: string | undefined }): string {
  if (options.file !== undefined) return options.file;
  if (options.dataDir === undefined) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      'OrchestratorStore.open needs dataDir (a directory) or file (the database file)',
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  return path.join(options.dataDir, STORE_FILE);
}
