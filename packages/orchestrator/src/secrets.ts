import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';
import { ID_PATTERN } from '@kraken/messages';
import { DataKey } from './data-key.js';
import type { ClusterCa } from '@kraken/trust';
import { createClusterCa, parseCertificate } from '@kraken/trust';

/** What a cluster's first orchestrator makes up once and keeps in its data directory. */
export interface ClusterSecrets {
  /** For API clients (`Authorization: Bearer <apiToken>`). */
  apiToken: string;
  /** For nodes joining the cluster (`POST /join`). */
  joinToken: string;
  /** Names the cluster (in `/ping` and join answers). */
  clusterId: string;
  /**
   * The cluster's certificate authority: it issues every agent's certificate, and join tokens carry
   * its digest. Absent until the first start that serves TLS makes it (see withClusterCa).
   */
  ca?: ClusterCa | undefined;
}

export interface LoadedSecrets extends ClusterSecrets {
  /**
   * Seals the secrets the store keeps. Only in this file (and, in memory, on standbys, from their
   * membership grant): never in the store, whose copies and backups must not open themselves.
   */
  dataKey: DataKey;
  /** True on the start that made them: the one time to print the tokens. */
  created: boolean;
  /** Where they are kept. */
  file: string;
}

export const SECRETS_FILE = 'secrets.json';
const MIN_TOKEN_LENGTH = 32;

/**
 * The cluster's secrets from `<dataDir>/secrets.json`, made on first start. Tokens are 256 random
 * bits (base64url). The file is written whole under a temporary name and then linked into place,
 * so two processes starting at once agree on one set of secrets and a crash never leaves half a
 * file. It is readable by its owner only (0600); a file found readable by others is tightened.
 * Synchronous: it runs once, before anything else can start.
 */
export function loadOrCreateSecrets(dataDir: string): LoadedSecrets {
  const file = path.join(dataDir, SECRETS_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const existing = readSecrets(file);
  if (existing === undefined) return createSecrets(file);
  // a file from before the data key existed gets one (the store seals what it holds in clear with it)
  const dataKey = existing.dataKey ?? writeSecrets(file, existing, DataKey.generate(file));
  return { ...existing, dataKey, created: false, file };
}

/**
 * Makes new secrets and links them into place as `file`, unless another process got there first:
 * then theirs are returned (and are the cluster's). Exported for tests, which cannot start two
 * processes between a read and a link.
 */
export function createSecrets(file: string): LoadedSecrets {
  const secrets: ClusterSecrets = {
    apiToken: randomBytes(32).toString('base64url'),
    joinToken: randomBytes(32).toString('base64url'),
    clusterId: `kraken-${randomBytes(6).toString('hex')}`,
  };
  const dataKey = DataKey.generate(file);
  const temporary = writeTemporary(file, secrets, dataKey);
  try {
    linkSync(temporary, file);
  } catch (error) {
    // another process made them first: theirs are the cluster's
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const theirs = readSecrets(file);
    if (theirs?.dataKey === undefined) throw error;
    return { ...theirs, dataKey: theirs.dataKey, created: false, file };
  } finally {
    unlinkSync(temporary);
  }
  return { ...secrets, dataKey, created: true, file };
}

/**
 * Makes `secrets` and `dataKey` this data dir's (a standby taking over keeps the cluster's tokens
 * and id, which came sealed in its copy of the store, and the data key of its membership grant),
 * replacing whatever was there.
 */
export function adoptSecrets(dataDir: string, secrets: ClusterSecrets, dataKey: DataKey): void {
  const file = path.join(dataDir, SECRETS_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeSecrets(file, secrets, dataKey);
}

/** Replaces `file` whole (written aside, then renamed into place) and returns the key it now holds. */
function writeSecrets(file: string, secrets: ClusterSecrets, dataKey: DataKey): DataKey {
  renameSync(writeTemporary(file, secrets, dataKey), file);
  return dataKey.keptIn(file);
}

/** Writes the secrets to a new temporary file beside `file` (0600, synced) and returns its name. */
function writeTemporary(file: string, secrets: ClusterSecrets, dataKey: DataKey): string {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    const kept = {
      apiToken: secrets.apiToken,
      joinToken: secrets.joinToken,
      clusterId: secrets.clusterId,
      dataKey: dataKey.toText(),
      ...(secrets.ca === undefined ? {} : { caCert: secrets.ca.certPem, caKey: secrets.ca.keyPem }),
    };
    writeSync(fd, `${JSON.stringify(kept, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temporary;
}

/** The secrets in `file` (without a data key when the file is from before it existed), or undefined when there is no such file. */
function readSecrets(file: string): (ClusterSecrets & { dataKey: DataKey | undefined }) | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KrakenError(ErrorCode.InvalidConfig, `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const secrets = parseSecrets(file, text);
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return secrets;
}

function parseSecrets(file: string, text: string): ClusterSecrets & { dataKey: DataKey | undefined } {
  const invalid = (what: string): KrakenError =>
    new KrakenError(
      ErrorCode.InvalidConfig,
      `${file}: ${what}; fix it, or remove the file to make new secrets (API clients and nodes then need the new tokens)`,
      { details: { file } },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('expected a JSON object');
  const { apiToken, joinToken, clusterId, dataKey, caCert, caKey } = parsed as Record<string, unknown>;
  const token = (field: string, value: unknown): string => {
    if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH)
      throw invalid(`${field}: expected a string of at least ${MIN_TOKEN_LENGTH} characters`);
    return value;
  };
  if (typeof clusterId !== 'string' || !ID_PATTERN.test(clusterId))
    throw invalid('clusterId: expected an id of 1-64 characters from [A-Za-z0-9._-]');
  let key: DataKey | undefined;
  try {
    key = dataKey === undefined ? undefined : DataKey.fromText(dataKey, file);
  } catch {
    // the store's secrets open with this key only: a new one would not do
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `${file}: dataKey: expected 32 bytes in base64url (43 characters); restore the file from a backup: the secrets in the orchestrator's database open with this key only`,
      { details: { file } },
    );
  }
  let ca: ClusterCa | undefined;
  if (caCert !== undefined || caKey !== undefined) {
    if (typeof caCert !== 'string' || typeof caKey !== 'string' || !caKey.includes('PRIVATE KEY')) throw invalid('caCert and caKey: expected the cluster CA\'s PEM certificate and key, both');
    parseCertificate(caCert, `${file}: caCert`);
    ca = { certPem: caCert, keyPem: caKey };
  }
  return { apiToken: token('apiToken', apiToken), joinToken: token('joinToken', joinToken), clusterId, dataKey: key, ...(ca === undefined ? {} : { ca }) };
}

/**
 * The secrets with the cluster's CA, made now (and kept in the secrets file) when they have none:
 * a cluster founded before TLS, or its first start. The caller keeps the secrets in the store
 * afterwards, so standbys take the same CA over.
 */
export async function withClusterCa(dataDir: string, secrets: LoadedSecrets): Promise<LoadedSecrets> {
  if (secrets.ca !== undefined) return secrets;
  const ca = await createClusterCa(secrets.clusterId);
  const file = path.join(dataDir, SECRETS_FILE);
  const dataKey = writeSecrets(file, { ...secrets, ca }, secrets.dataKey);
  return { ...secrets, ca, dataKey };
}
