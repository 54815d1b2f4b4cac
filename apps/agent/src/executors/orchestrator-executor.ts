import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import type { BrokerClusterGrant } from '@kraken/messages';
import type { ListeningApi, PlatformServiceInfo } from '@kraken/orchestrator';
import {
  LeaderBeacon,
  Orchestrator,
  OrchestratorStore,
  PulseListener,
  RoutePublisher,
  StatePublisher,
  WebhookNotifier,
  adoptSecrets,
  shownWebhookUrl,
  createApiServer,
  loadOrCreateSecrets,
  pulseKeyFor,
  withClusterCa,
} from '@kraken/orchestrator';
import { caDigest, issueCertificate } from '@kraken/trust';
import type { ClusterCa, ServedIdentity } from '@kraken/trust';
import type { AgentTls } from '../run/agent-tls.js';
import { keepAgentTls, printableJoinToken, servedIdentity } from '../run/agent-tls.js';
import type { ApiServer, DataKey } from '@kraken/orchestrator';
import { uiMiddleware } from '@kraken/ui-host';
import type { Executor } from '../run/executor.js';

export interface OrchestratorExecutorOptions {
  broker: Broker;
  nodeId: string;
  dataDir: string;
  apiPort: number;
  apiHost: string;
  logger: Logger;
  /** The broker URL (with credentials) a joining agent gets; undefined when no other machine can reach this broker. */
  brokerUrlFor: ((nodeId: string) => Promise<string>) | undefined;
  /** What a joining node that may lead needs to run a member of the cluster's RabbitMQ cluster (leader runs its own node). */
  brokerClusterFor?: ((nodeId: string) => Promise<BrokerClusterGrant>) | undefined;
  /** Standbys may follow the store through this broker (false for the in-process broker: nobody can). @default false */
  replicate?: boolean;
  /** Every node of the cluster's broker, handed to joining nodes to fall back on. */
  brokerEndpoints?: (() => Promise<string[]>) | undefined;
  insecureNoAuth: boolean;
  /** Where notifications are POSTed (checked at config load); none without it. */
  webhookUrl?: string | undefined;
  /** How long a removed deployment and its log stay readable by id. @default the orchestrator's */
  removedRetentionMs?: number | undefined;
  /** A join token from the configuration (the same file on every machine) instead of the generated one. */
  joinToken?: string | undefined;
  /** What getPlatformServices adds about the services the agent runs (the broker). */
  platformServices?: () => readonly PlatformServiceInfo[];
  /** Whether this agent still holds the lease to lead (where standbys may take over). @default always */
  mayAct?: () => boolean;
  /**
   * What the leader's beacon tells every agent, set where other agents may follow this leader (they
   * forward API requests to it): where other machines reach the API, given the URL it listens on,
   * and where the broker's nodes are.
   */
  beacon?: { apiUrl: (listeningUrl: string) => string; brokerEndpoints?: () => readonly string[] | undefined } | undefined;
  /** Runs just before the API listens: a standby taking over frees the port it forwarded on. */
  beforeListen?: (() => Promise<void>) | undefined;
  /**
   * Whether this start made the cluster's secrets. The agent makes them before the orchestrator
   * runs (its announcement names the cluster), so the secrets file alone cannot say. @default what
   * loading the secrets file says
   */
  secretsCreated?: boolean;
  /**
   * The cluster's data key, for a standby taking over (from its membership grant; it becomes this
   * data dir's). @default the one in the secrets file, made with the cluster's secrets
   */
  dataKey?: DataKey | undefined;
  /**
   * Serve the API over TLS with a certificate from the cluster CA (made on the first such start)
   * for these names, and issue joiners theirs. Undefined: plain HTTP (`--insecure-no-tls`).
   */
  tls?: { names: readonly string[] } | undefined;
  /** Told once the API listens: the URL to print, the token when it was just created, and whether others can join. */
  onListening?: (info: { url: string; apiToken: string; joinToken: string; clusterId: string; secretsCreated: boolean; joinable: boolean }) => void;
}

/** The leader's jobs: durable state, the control loop, and the API (which serves the UI). */
export class OrchestratorExecutor implements Executor {
  readonly name = 'orchestrator';
  private store: OrchestratorStore | undefined;
  private orchestrator: Orchestrator | undefined;
  private api: ApiServer | undefined;
  private listening: ListeningApi | undefined;
  private clusterIdValue: string | undefined;
  private publisher: StatePublisher | undefined;
  private beacon: LeaderBeacon | undefined;
  private pulses: PulseListener | undefined;
  private routes: RoutePublisher | undefined;
  private webhook: WebhookNotifier | undefined;

  constructor(private readonly options: OrchestratorExecutorOptions) {}

  /** The API's URL once it listens. */
  get url(): string | undefined {
    return this.listening?.url;
  }

  get clusterId(): string | undefined {
    return this.clusterIdValue;
  }

  /** Whether anyone looks at the cluster through the API; until it runs, as if someone did. */
  watched(): boolean {
    return this.api?.watched() ?? true;
  }

  async setup(): Promise<void> {
    const { broker, nodeId, dataDir, logger, brokerUrlFor } = this.options;
    // a standby taking over opens its copy with the key of its grant; a leader, with its own
    const dataKey = this.options.dataKey ?? loadOrCreateSecrets(dataDir).dataKey;
    const store = OrchestratorStore.open({ dataDir, dataKey, logger });
    this.store = store;
    // the term a change is published in is the store's own, so its bump to a new epoch is the first change of that term;
    // attached before anything is written: standbys get every change after their snapshot
    const publisher = this.options.replicate === true ? new StatePublisher({ broker, store, nodeId, epoch: () => store.currentEpoch(), logger }) : undefined;
    this.publisher = publisher;
    // a standby taking over has the cluster's secrets in its copy of the store: the same tokens go on working
    const inherited = this.store.clusterSecrets();
    if (inherited !== undefined) adoptSecrets(dataDir, inherited, dataKey);
    const loaded = loadOrCreateSecrets(dataDir);
    // kept in the store below with the rest, so that a standby takes the same CA over
    const withCa = this.options.tls === undefined ? loaded : await withClusterCa(dataDir, loaded);
    const stored = { ...withCa, created: this.options.secretsCreated ?? loaded.created };
    // this machine led the cluster before (its secrets are here), yet its store knows nothing: the
    // database was deleted, emptied or replaced. Say so loudly: nothing else would
    if (inherited === undefined && !stored.created && store.deployments.list().length === 0 && store.nodes.list().length === 0) {
      logger.error(
        `the orchestrator's state is gone: ${store.file} is empty although this agent led this cluster before (its secrets are in ${stored.file}). Apps the nodes report running are adopted (listed, and can be cancelled); everything else recorded before is lost`,
      );
    }
    const secrets = { ...stored, joinToken: this.options.joinToken ?? stored.joinToken };
    this.store.keepClusterSecrets(secrets);
    // a store from before sealing existed: sealed now, by statements the standbys' copies run too
    const sealed = this.store.deployments.sealClearSecrets();
    if (sealed > 0) logger.info('sealed the env values and git credentials kept in clear before', { deployments: sealed, keyFile: stored.file });
    this.clusterIdValue = secrets.clusterId;
    const orchestrator = await Orchestrator.create({
      broker,
      store,
      nodeId,
      logger,
      ...(this.options.removedRetentionMs === undefined ? {} : { options: { removedRetentionMs: this.options.removedRetentionMs } }),
      ...(this.options.mayAct === undefined ? {} : { mayAct: this.options.mayAct }),
      ...(publisher === undefined ? {} : { replicated: () => publisher.settled() }),
    });
    this.orchestrator = orchestrator;
    // every agent's ingress routes by the tables this sends: a move or a redeploy reaches them at once
    const routes = RoutePublisher.start({
      broker,
      nodeId,
      epoch: orchestrator.epoch,
      deployments: () => orchestrator.listDeployments(),
      ...(this.options.mayAct === undefined ? {} : { mayAct: this.options.mayAct }),
      logger,
    });
    this.routes = routes;
    orchestrator.on('deploymentChanged', () => {
      routes.changed();
    });
    const webhook = this.webhookFor(secrets.clusterId);
    this.webhook = webhook;
    if (this.options.insecureNoAuth) {
      logger.warn('--insecure-no-auth: the API accepts every request without a token. Use this only on a network you trust completely.');
    }
    if (brokerUrlFor === undefined) {
      logger.warn(
        'other machines cannot join: this orchestrator has no broker they can reach. Install RabbitMQ (apt-get install rabbitmq-server) so the agent runs its own, or start it with --broker-url amqp://user:password@<this-address>:5672 (RabbitMQ\'s guest user only works over loopback)',
      );
    }
    const trust = await this.trustFor(stored.ca);
    this.api = await createApiServer({
      ...(publisher === undefined ? {} : { durableWrites: () => publisher.durable() }),
      orchestrator: this.orchestrator,
      store: this.store,
      token: secrets.apiToken,
      logger,
      insecureNoAuth: this.options.insecureNoAuth,
      // the web UI at /, from @kraken/ui-host's bundle
      mountUi: (app) => app.use(uiMiddleware()),
      platformServices: () => [
        ...(this.options.platformServices?.() ?? []),
        { name: 'api', status: 'up', detail: this.listening?.url ?? 'starting' },
        ...(webhook === undefined ? [] : [webhook.service()]),
      ],
      ...(brokerUrlFor === undefined
        ? {}
        : {
            join: {
              token: secrets.joinToken,
              clusterId: secrets.clusterId,
              brokerUrlFor,
              brokerClusterFor: this.options.brokerClusterFor,
              dataKey,
              brokerEndpoints: this.options.brokerEndpoints,
              issueCertificate: trust?.issue,
            },
          }),
    });
    await this.options.beforeListen?.();
    this.listening = await this.api.listen(this.options.apiPort, this.options.apiHost, trust?.identity);
    const { beacon } = this.options;
    if (beacon !== undefined) {
      this.pulses = await this.listenForPulses(dataKey, orchestrator);
      this.beacon = LeaderBeacon.start({
        broker,
        nodeId,
        apiUrl: beacon.apiUrl(this.listening.url),
        epoch: this.orchestrator.epoch,
        ...(beacon.brokerEndpoints === undefined ? {} : { brokerEndpoints: beacon.brokerEndpoints }),
        // every worker paces its stats by it
        watched: () => this.watched(),
        pulsePort: this.pulses?.port,
        ...(this.options.mayAct === undefined ? {} : { mayAct: this.options.mayAct }),
        logger,
      });
    }
    this.options.onListening?.({
      url: this.listening.url,
      apiToken: secrets.apiToken,
      joinToken: stored.ca === undefined ? secrets.joinToken : printableJoinToken(secrets.joinToken, stored.ca.certPem),
      clusterId: secrets.clusterId,
      secretsCreated: secrets.created,
      joinable: brokerUrlFor !== undefined,
    });
  }

  /**
   * This agent's own certificate from the cluster CA (kept in its data dir, where the local
   * `kraken` command finds the CA) and how joiners get theirs; undefined without TLS.
   */
  private async trustFor(ca: ClusterCa | undefined): Promise<{ identity: ServedIdentity; issue: (nodeId: string, names: readonly string[]) => Promise<AgentTls> } | undefined> {
    const { tls, nodeId, dataDir, logger } = this.options;
    if (tls === undefined || ca === undefined) {
      logger.warn('--insecure-no-tls: the API, the UI and joins cross the network in clear, the API token and the broker credentials with them. Use this only on a network you trust completely.');
      return undefined;
    }
    const issue = async (node: string, names: readonly string[]): Promise<AgentTls> => {
      const issued = await issueCertificate(ca, { commonName: node, names });
      return { caCert: ca.certPem, cert: issued.certPem, key: issued.keyPem };
    };
    const own = await issue(nodeId, tls.names);
    keepAgentTls(dataDir, own);
    logger.info('the API serves TLS with a certificate from the cluster CA', { caDigest: caDigest(ca.certPem), names: tls.names.length });
    return { identity: servedIdentity(own), issue };
  }

  /**
   * Takes the agents' pulses on the API's host, at the API's port number where it is free. Without
   * them (the port cannot be bound) the cluster still works: a node on a stalled link is then judged
   * by its heartbeats and the broker alone, as before pulses existed.
   */
  private async listenForPulses(dataKey: DataKey, orchestrator: Orchestrator): Promise<PulseListener | undefined> {
    const { logger } = this.options;
    const apiPort = Number(new URL(this.listening?.url ?? 'http://x:0').port);
    try {
      const listener = await PulseListener.listen({
        host: this.options.apiHost,
        port: apiPort,
        keyFor: (nodeId) => pulseKeyFor(dataKey, nodeId),
        onPulse: (nodeId) => orchestrator.pulse(nodeId),
        logger,
      });
      logger.info('taking pulses from the agents', { udpPort: listener.port });
      return listener;
    } catch (error) {
      logger.warn(`no pulses: UDP port ${String(apiPort)} on ${this.options.apiHost} cannot be bound (${toKrakenError(error).message}); a node whose broker link stalls may then be declared dead while it runs`);
      return undefined;
    }
  }

  /** Sends each notification of this term to the configured webhook, in the background. */
  private webhookFor(clusterId: string): WebhookNotifier | undefined {
    const { webhookUrl, nodeId, logger } = this.options;
    const orchestrator = this.orchestrator;
    if (webhookUrl === undefined || orchestrator === undefined) return undefined;
    const webhook = new WebhookNotifier({ url: webhookUrl, cluster: { id: clusterId, leader: nodeId }, logger });
    // what the term's start raised already (apps moved off nodes found dead on taking over), oldest first
    for (const raised of orchestrator.notifications.recent().reverse()) webhook.send(raised);
    orchestrator.notifications.on('raised', (notification) => {
      webhook.send(notification);
    });
    logger.info(`notifications are POSTed to ${shownWebhookUrl(webhook.url)}`);
    return webhook;
  }

  async stop(): Promise<void> {
    this.beacon?.stop();
    await this.pulses?.close();
    this.routes?.stop();
    await this.webhook?.close();
    await this.api?.close();
    await this.orchestrator?.close();
    await this.publisher?.close();
    this.store?.close();
  }
}
