import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { DEFAULT_API_PORT } from '../config/agent-config.js';
import { readClusterCa } from '../run/agent-tls.js';

/**
 * The orchestrator's secrets file (SECRETS_FILE of @kraken/orchestrator), named here so that client
 * verbs do not load the orchestrator package just to find the token.
 */
export const SECRETS_FILE = 'secrets.json';

export interface ClientTarget {
  url: string;
  token: string | undefined;
  /** The cluster CA (PEM) an https API is trusted by; undefined: the system's CAs. */
  ca: string | undefined;
}

/**
 * Where client verbs send their calls: flags, then KRAKEN_API / KRAKEN_TOKEN, then the local
 * agent (its default port, and the token in its data dir, which only the user running it can read).
 */
export function resolveClientTarget(
  flags: { api?: string | undefined; token?: string | undefined; dataDir?: string | undefined; ca?: string | undefined },
  env: Readonly<Record<string, string | undefined>>,
): ClientTarget {
  const url = flags.api ?? nonEmpty(env['KRAKEN_API']) ?? `http://127.0.0.1:${DEFAULT_API_PORT}`;
  const token = flags.token ?? nonEmpty(env['KRAKEN_TOKEN']) ?? readLocalToken(localDataDir(flags, env));
  return { url, token, ca: clusterCa(flags, env) };
}

/**
 * The cluster CA a client trusts: the file --ca or KRAKEN_CA names (a file that cannot be read is
 * an error: the user asked for it), else the one the local agent keeps (`<data dir>/tls/ca.pem`).
 */
function clusterCa(flags: { dataDir?: string | undefined; ca?: string | undefined }, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const named = flags.ca ?? nonEmpty(env['KRAKEN_CA']);
  if (named !== undefined) {
    try {
      return fs.readFileSync(named, 'utf8');
    } catch (error) {
      throw new KrakenError(ErrorCode.InvalidConfig, `cannot read the cluster CA ${named}: ${(error as Error).message} (kraken ca prints it on a machine of the cluster)`, { cause: error });
    }
  }
  return readClusterCa(localDataDir(flags, env));
}

/** The local agent's data dir: the flag, then KRAKEN_DATA_DIR, then the agent's default. */
export function localDataDir(flags: { dataDir?: string | undefined }, env: Readonly<Record<string, string | undefined>>): string {
  return flags.dataDir ?? nonEmpty(env['KRAKEN_DATA_DIR']) ?? path.join(os.homedir(), '.kraken');
}

function readLocalToken(dataDir: string): string | undefined {
  return readLocalSecrets(dataDir)?.apiToken;
}

/**
 * The cluster this machine led, as its secrets file says (written when it first led): undefined
 * when it never led or the file cannot be read.
 */
export function readLedCluster(dataDir: string): { clusterId: string; joinToken: string } | undefined {
  const { clusterId, joinToken } = readLocalSecrets(dataDir) ?? {};
  return clusterId === undefined || joinToken === undefined ? undefined : { clusterId, joinToken };
}

function readLocalSecrets(dataDir: string): { apiToken: string | undefined; joinToken: string | undefined; clusterId: string | undefined } | undefined {
  try {
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, SECRETS_FILE), 'utf8')) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    return { apiToken: text(secrets['apiToken']), joinToken: text(secrets['joinToken']), clusterId: text(secrets['clusterId']) };
  } catch {
    return undefined;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
