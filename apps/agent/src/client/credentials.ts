import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_API_PORT } from '../config/agent-config.js';

/**
 * The orchestrator's secrets file (SECRETS_FILE of @kraken/orchestrator), named here so that client
 * verbs do not load the orchestrator package just to find the token.
 */
export const SECRETS_FILE = 'secrets.json';

export interface ClientTarget {
  url: string;
  token: string | undefined;
}

/**
 * Where client verbs send their calls: flags, then KRAKEN_API / KRAKEN_TOKEN, then the local
 * agent (its default port, and the token in its data dir, which only the user running it can read).
 */
export function resolveClientTarget(
  flags: { api?: string | undefined; token?: string | undefined; dataDir?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ClientTarget {
  const url = flags.api ?? nonEmpty(env['KRAKEN_API']) ?? `http://127.0.0.1:${DEFAULT_API_PORT}`;
  const token = flags.token ?? nonEmpty(env['KRAKEN_TOKEN']) ?? readLocalToken(flags.dataDir ?? nonEmpty(env['KRAKEN_DATA_DIR']) ?? path.join(os.homedir(), '.kraken'));
  return { url, token };
}

function readLocalToken(dataDir: string): string | undefined {
  try {
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, SECRETS_FILE), 'utf8')) as { apiToken?: unknown };
    return typeof secrets.apiToken === 'string' ? secrets.apiToken : undefined;
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
