import type Database from 'better-sqlite3';
import { ErrorCode, KrakenError } from '@kraken/common';
import type { DataKey } from '../data-key.js';
import { isSealed } from '../data-key.js';

/**
 * Which column a sealed value belongs to (bound into it: a value copied into another column does
 * not open there).
 */
export const SealContext = {
  env: 'deployments.env',
  srcCredentials: 'deployments.src_credentials',
  clusterSecrets: 'settings.cluster_secrets',
} as const;

/** `scheme://user:password@` or `scheme://token@` at the start of a URL, as redactCredentials reads them. */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^\s/@]+)@/i;

/**
 * A git URL as stored: without its credentials, which are kept apart (sealed), so the URL column
 * holds nothing secret. `git@host:x.git` (scp-like, no scheme) has no credentials to keep.
 */
export function splitCredentials(url: string): { url: string; credentials: string | null } {
  const match = URL_CREDENTIALS.exec(url);
  if (match === null) return { url, credentials: null };
  const [whole, scheme = '', credentials = ''] = match;
  return { url: scheme + url.slice(whole.length), credentials };
}

/** The URL a clone needs: the stored one with its credentials put back. */
export function joinCredentials(url: string, credentials: string | null): string {
  if (credentials === null) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  return `${scheme}${credentials}@${url.slice(scheme.length)}`;
}

/** The secret columns of a deployment as stored. */
export interface SealedDeploymentColumns {
  src_url: string;
  src_credentials: string | null;
  env: string;
}

export function sealDeployment(key: DataKey, srcUrl: string, env: Record<string, string>): SealedDeploymentColumns {
  const { url, credentials } = splitCredentials(srcUrl);
  return {
    src_url: url,
    src_credentials: credentials === null ? null : key.seal(credentials, SealContext.srcCredentials),
    env: sealEnv(key, env),
  };
}

export function sealEnv(key: DataKey, env: Record<string, string>): string {
  return key.seal(JSON.stringify(env), SealContext.env);
}

/** The clone URL and environment of a stored deployment (rows from before sealing are read as they are). */
export function openDeployment(key: DataKey, row: SealedDeploymentColumns): { srcUrl: string; env: Record<string, string> } {
  const credentials = row.src_credentials === null ? null : key.open(row.src_credentials, SealContext.srcCredentials);
  return {
    srcUrl: joinCredentials(row.src_url, credentials),
    env: JSON.parse(key.open(row.env, SealContext.env)) as Record<string, string>,
  };
}

/**
 * Refuses a key that does not open what the store holds, at open, naming both files: otherwise
 * the first read of a deployment would fail, far from the cause. One sealed value is enough to
 * tell (every value is sealed with the cluster's one key).
 */
export function checkDataKey(db: Database.Database, key: DataKey, file: string, clusterSecretsKey: string): void {
  const secrets = db.prepare('SELECT value FROM settings WHERE key = ?').get(clusterSecretsKey) as { value: string } | undefined;
  const env = db.prepare(`SELECT env FROM deployments WHERE env LIKE 'enc:v1:%' LIMIT 1`).get() as { env: string } | undefined;
  try {
    if (secrets !== undefined && isSealed(secrets.value)) key.open(secrets.value, SealContext.clusterSecrets);
    else if (env !== undefined) key.open(env.env, SealContext.env);
  } catch (error) {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `the secrets in ${file} do not open with the data key in ${key.source}: that file is not the one kept with this database. Restore the secrets file backed up with it; without it the sealed env values, git credentials and tokens are lost (move ${file} aside to start with an empty state: apps the nodes report running are adopted)`,
      { cause: error, details: { file, keyFile: key.source } },
    );
  }
}
