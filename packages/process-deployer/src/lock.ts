import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KrakenError, hasExited, readProcStat } from '@kraken/common';

/** Data folders held by deployers of this process; the owner file alone cannot tell two of them apart. */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Makes this deployer the only one supervising `dataDir`: two would both restart a crashed app and
 * run it twice. `<dataDir>/owner.json` names the owning process (pid + start time); an owner that
 * is no longer running (the agent crashed) is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = path.join(dataDir, 'owner.json');
  if (heldHere.has(dataDir)) throw inUse(dataDir, 'another ProcessDeployer in this process');
  const owner = await readOwner(file);
  if (owner !== undefined && owner.pid !== process.pid) {
    const stat = await readProcStat(owner.pid);
    if (stat !== undefined && !hasExited(stat) && stat.startTime === owner.startTime) throw inUse(dataDir, `process ${owner.pid}`);
  }
  const self = await readProcStat(process.pid);
  heldHere.add(dataDir);
  await writeFile(file, `${JSON.stringify({ pid: process.pid, startTime: self?.startTime ?? 0 })}\n`);
  return {
    release: async () => {
      heldHere.delete(dataDir);
      const current = await readOwner(file);
      if (current?.pid === process.pid) await rm(file, { force: true });
    },
  };
}

async function readOwner(file: string): Promise<{ pid: number; startTime: number } | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; startTime?: unknown };
    return typeof parsed.pid === 'number' && typeof parsed.startTime === 'number' ? { pid: parsed.pid, startTime: parsed.startTime } : undefined;
  } catch {
    return undefined; // none, or unreadable: nobody holds it in a way we can check
  }
}

function inUse(dataDir: string, by: string): KrakenError {
  return new KrakenError(ErrorCode.Conflict, `process-deployer data folder ${dataDir} is in use by ${by}; one deployer per folder, or apps would be supervised twice`, {
    details: { field: 'dataDir', dataDir },
  });
}
