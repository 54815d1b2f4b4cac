import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KrakenError } from '@kraken/common';

/** What the RabbitMQ node an agent runs needs to keep across restarts. */
export interface BrokerSecrets {
  /** Erlang cookie: rabbitmqctl (and, later, the other nodes of a RabbitMQ cluster) must present it. */
  cookie: string;
  /** The password of `kraken-admin`, the node's only user until nodes join. */
  adminPassword: string;
}

export const BROKER_SECRETS_FILE = 'broker-secrets.json';
/** The node's own data (its cluster membership among it), under the data dir. */
export const BROKER_NODE_DIR = 'rabbitmq';

/**
 * The node's secrets from `<dataDir>/broker-secrets.json` (0600), made on first start. Created
 * with O_EXCL, so two agents starting on one data dir at once agree on one set.
 */
export function loadOrCreateBrokerSecrets(dataDir: string): BrokerSecrets {
  const file = path.join(dataDir, BROKER_SECRETS_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const made: BrokerSecrets = { cookie: randomBytes(32).toString('hex'), adminPassword: randomBytes(24).toString('base64url') };
  try {
    writeFileSync(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return made;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KrakenError(ErrorCode.InvalidConfig, `${file} is not valid JSON: restore it, or remove it together with ${path.join(dataDir, BROKER_NODE_DIR)} (the node's broker data; joined machines then join again)`, { cause: error });
  }
  const { cookie, adminPassword } = (stored ?? {}) as Partial<BrokerSecrets>;
  if (typeof cookie !== 'string' || cookie.length < 20 || typeof adminPassword !== 'string' || adminPassword.length < 16) {
    throw new KrakenError(ErrorCode.InvalidConfig, `${file} lacks a cookie or an admin password: restore it, or remove it together with ${path.join(dataDir, BROKER_NODE_DIR)} (the node's broker data; joined machines then join again)`);
  }
  return { cookie, adminPassword };
}

/** A node that joins a RabbitMQ cluster takes the cluster's cookie and admin password, for good. */
export function saveBrokerSecrets(dataDir: string, secrets: BrokerSecrets): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dataDir, BROKER_SECRETS_FILE), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}
