import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/agent-config.js';
import { readLedCluster } from '../client/credentials.js';
import { STORE_FILE } from '@kraken/orchestrator/follow';
import { BROKER_NODE_DIR, BROKER_SECRETS_FILE } from './broker-secrets.js';

/**
 * Whether this machine could lead its cluster from what its data dir holds, asking nobody: it may
 * lead, it runs a RabbitMQ node of the cluster's (the node's data and the cluster's cookie), and it
 * keeps the cluster's secrets and a store (a leader's own, or the copy a standby keeps beside them).
 * Such a machine that finds no leader competes for the lease rather than waiting for ever; one that
 * lacks any of these would found a new, empty cluster instead, so it only ever joins.
 */
export function keepsMembership(config: Pick<AgentConfig, 'dataDir' | 'priority' | 'managedBroker' | 'brokerUrl'>): boolean {
  const { dataDir } = config;
  return (
    config.priority < 2 &&
    config.managedBroker &&
    config.brokerUrl === undefined &&
    readLedCluster(dataDir) !== undefined &&
    existsSync(path.join(dataDir, BROKER_SECRETS_FILE)) &&
    existsSync(path.join(dataDir, BROKER_NODE_DIR)) &&
    existsSync(path.join(dataDir, STORE_FILE))
  );
}
