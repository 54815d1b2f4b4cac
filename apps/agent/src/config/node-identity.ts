import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NODE_ID_FILE = 'node-id';

/** A readable, stable id: the host name (cleaned) plus a short random suffix, since lab machines often share names. */
export function generateNodeId(hostname = os.hostname()): string {
  const base =
    hostname
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 40) || 'node';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

/**
 * The node id kept in the data dir, so a restarted agent is the same node to the cluster
 * (it finds its apps again, and the orchestrator does not count it as a new machine).
 */
export function loadOrCreateNodeId(dataDir: string, explicit?: string): string {
  makePrivateDataDir(dataDir);
  const file = path.join(dataDir, NODE_ID_FILE);
  if (explicit !== undefined) {
    fs.writeFileSync(file, `${explicit}\n`, { mode: 0o600 });
    return explicit;
  }
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored !== '') return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = generateNodeId();
  fs.writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/**
 * The data dir holds the cluster's tokens, the broker's cookie and the apps' environment: only the
 * agent's user may enter it, from the first thing the agent writes there (mode 0700, also when it
 * existed with a looser one).
 */
function makePrivateDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
}
