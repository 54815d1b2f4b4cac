import type { Logger } from '@kraken/common';
import type { BrokerClusterGrant } from '@kraken/messages';
import { DataKey, loadOrCreateSecrets } from '@kraken/orchestrator';

// the lead and standby paths load this module lazily, and take the cluster's secrets (and the data
// key a standby is granted) from here with it
export { DataKey, loadOrCreateSecrets };
import type { AgentConfig } from '../config/agent-config.js';
import { AnnounceExecutor } from '../executors/announce-executor.js';
import { OrchestratorExecutor } from '../executors/orchestrator-executor.js';
import { mdnsInterfaceAddress } from './finders.js';
import { certificateNames } from './agent-tls.js';
import { brokerService } from './broker-health.js';
import { failoverService } from './failover-health.js';
import type { OpenedBroker } from './open-broker.js';

export interface LeaderPartsInput {
  config: AgentConfig;
  nodeId: string;
  opened: OpenedBroker;
  logger: Logger;
  onLeading?: ConstructorParameters<typeof OrchestratorExecutor>[0]['onListening'];
  /** Whether this agent still holds the lease (where standbys may take over). */
  mayAct?: () => boolean;
  /** Runs just before the API listens (a standby taking over frees the port it forwarded on). */
  beforeListen?: () => Promise<void>;
  /** The cluster's data key from a standby's membership grant (a leader reads its own from the secrets file). */
  dataKey?: DataKey | undefined;
  /** This start made the cluster's secrets (before the orchestrator: the announcement names the cluster). */
  secretsCreated?: boolean;
}

/** The orchestrator a leading agent runs beside its broker: store, control loop, API (and the UI). */
export function orchestratorFor(input: LeaderPartsInput): OrchestratorExecutor {
  const { config, nodeId, opened, logger } = input;
  return new OrchestratorExecutor({
    broker: opened.broker,
    nodeId,
    dataDir: config.dataDir,
    apiPort: config.apiPort,
    apiHost: config.apiHost,
    logger,
    brokerUrlFor: joinBrokerUrls(opened, config),
    replicate: opened.kind !== 'memory',
    ...(opened.managed === undefined
      ? {}
      : { brokerClusterFor: grantMembership(opened), brokerEndpoints: () => opened.managed?.endpoints() ?? Promise.resolve([]) }),
    insecureNoAuth: config.insecureNoAuth,
    tls: config.insecureNoTls ? undefined : { names: certificateNames(config.publicHost) },
    joinToken: config.joinToken,
    webhookUrl: config.webhookUrl,
    removedRetentionMs: config.removedRetention,
    platformServices: () => {
      const members = opened.managed?.members();
      const broker = brokerService(opened, opened.broker.stats(), members);
      return opened.managed === undefined ? [broker] : [broker, failoverService(nodeId, members)];
    },
    // with the in-process broker no other agent can follow this one
    beacon:
      opened.kind === 'memory'
        ? undefined
        : { apiUrl: (listening) => advertisedApiUrl(listening, config), brokerEndpoints: () => opened.managed?.lastKnownEndpoints() },
    beforeListen: input.beforeListen,
    dataKey: input.dataKey,
    ...(input.secretsCreated === undefined ? {} : { secretsCreated: input.secretsCreated }),
    ...(input.onLeading === undefined ? {} : { onListening: input.onLeading }),
    ...(input.mayAct === undefined ? {} : { mayAct: input.mayAct }),
  });
}

/**
 * The API URL other machines reach: an API bound to every interface is named by --public-host,
 * else by the LAN interface's address (the one mDNS announces); one bound to an address, by it.
 */
export function advertisedApiUrl(listeningUrl: string, config: Pick<AgentConfig, 'publicHost' | 'interface'>): string {
  const url = new URL(listeningUrl);
  const wildcard = (hostname: string) => hostname === '0.0.0.0' || hostname === '[::]';
  if (!wildcard(url.hostname)) return url.origin;
  // URL ignores a host name it cannot hold (a --public-host with spaces): the next choice is taken
  for (const host of [config.publicHost, mdnsInterfaceAddress(config), '127.0.0.1']) {
    if (host === undefined) continue;
    url.hostname = host;
    if (!wildcard(url.hostname)) break;
  }
  return url.origin;
}

/**
 * Tells the LAN (mDNS) that this agent leads; undefined without mDNS or a network. `apiUrl` is read
 * when it announces: before the API listens, the configured port is announced.
 */
export function announcerFor(config: AgentConfig, nodeId: string, logger: Logger, apiUrl: () => string | undefined): AnnounceExecutor | undefined {
  const interfaceAddress = config.mdns ? mdnsInterfaceAddress(config) : undefined;
  if (interfaceAddress === undefined) return undefined;
  return new AnnounceExecutor({
    nodeId,
    interfaceAddress,
    apiPort: () => Number(new URL(apiUrl() ?? `http://x:${config.apiPort}`).port),
    clusterId: () => loadOrCreateSecrets(config.dataDir).clusterId,
    priority: config.priority,
    logger,
  });
}

/**
 * What a joining node connects with: a user of its own on this agent's RabbitMQ node; the operator's
 * --advertise-broker-url or external URL as given; nothing where no other machine can reach the broker.
 */
function joinBrokerUrls(opened: OpenedBroker, config: AgentConfig): ((nodeId: string) => Promise<string>) | undefined {
  const { managed } = opened;
  if (config.advertiseBrokerUrl !== undefined) {
    const advertised = config.advertiseBrokerUrl;
    return () => Promise.resolve(advertised);
  }
  if (managed !== undefined) {
    const host = config.publicHost ?? mdnsInterfaceAddress(config);
    return host === undefined ? undefined : (nodeId) => managed.urlFor(nodeId, host);
  }
  const external = opened.url;
  return external === undefined || isLoopbackUrl(external) ? undefined : () => Promise.resolve(external);
}

/** Joining nodes that may lead get a member of this RabbitMQ cluster; the rest stay clients. */
function grantMembership(opened: OpenedBroker): (nodeId: string) => Promise<BrokerClusterGrant> {
  return (nodeId) => {
    if (opened.managed === undefined) return Promise.reject(new Error('no RabbitMQ node of this agent'));
    return opened.managed.grantMembership(nodeId);
  };
}

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}
