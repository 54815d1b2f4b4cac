import { createHash } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Where apps' folders go when they run as the app user: outside the private data dir, which that user cannot enter. */
export const DEFAULT_APPS_ROOT = '/var/lib/kraken-apps';

export interface ProcessDirInput {
  /** The agent's data dir (0700: private to the agent). */
  dataDir: string;
  /** The unprivileged user apps should run as; undefined: --no-app-user. */
  appUser: string | undefined;
  /** Only root may run apps as another user: anyone else keeps them in the data dir. */
  isRoot: boolean;
  appsRoot: string;
  /** Whether `<dataDir>/process` holds deployments of an agent that ran apps as its own user. */
  olderApps: boolean;
}

export interface ProcessDir {
  dir: string;
  /** `<dataDir>/process`, as before apps ran as the app user; false: under the apps root. */
  inDataDir: boolean;
  /** Why apps stay in the data dir although they should run as the app user (for the log). */
  note?: string;
}

/**
 * The process runtime's folder. Apps that run as the app user must reach their checkouts, so
 * their folder is `<appsRoot>/<key of the data dir>` (agents sharing a machine keep apart), not
 * in the data dir (0700, often under /root). Apps deployed by an earlier agent, which ran them as
 * its own user, stay where they are and are adopted there (they run as before, and the note says
 * so): moving the folder would orphan them.
 */
export function processRuntimeDir(input: ProcessDirInput): ProcessDir {
  const inDataDir = path.join(input.dataDir, 'process');
  if (input.appUser === undefined || !input.isRoot) return { dir: inDataDir, inDataDir: true };
  if (input.olderApps) {
    return {
      dir: inDataDir,
      inDataDir: true,
      note: `apps deployed before apps ran as ${input.appUser} are in ${inDataDir}: they, and new ones, run as the agent's user until none is left there (destroy or move them)`,
    };
  }
  const key = createHash('sha256').update(path.resolve(input.dataDir)).digest('hex').slice(0, 12);
  return { dir: path.join(input.appsRoot, key), inDataDir: false };
}

/** Whether the process runtime's folder in the data dir holds any deployment. */
export async function hasDeployments(dataDir: string): Promise<boolean> {
  const entries = await readdir(path.join(dataDir, 'process', 'deployments')).catch(() => []);
  return entries.length > 0;
}

/**
 * After a clean stop: removes the runtime's folder outside the data dir when no deployment is left
 * in it (its home, npm's cache, goes with it), so an agent that ran no apps leaves nothing behind.
 */
export async function removeIfNoApps(dir: string): Promise<void> {
  const entries = await readdir(path.join(dir, 'deployments')).catch(() => undefined);
  if (entries?.length === 0) await rm(dir, { recursive: true, force: true });
}
