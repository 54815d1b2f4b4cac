import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { BrokerUsers } from '@kraken/messages';
import type { BrokerClusterGrant } from '@kraken/messages';
import type { ClusterStatus } from '@kraken/rabbitmq';
import { LEADER_TOPIC, ROUTES_TOPIC } from '@kraken/orchestrator/follow';
import { RabbitServer, clusterStatus, ensureUser, growQuorumQueues, isForgottenByCluster, isListening, joinCluster, nodePermissions, refoundAlone, setPartitionHandling } from '@kraken/rabbitmq';
import type { BrokerNodeKeeper } from './broker-node-keeper.js';
import type { BrokerSecrets } from './broker-secrets.js';
import { BROKER_NODE_DIR, loadOrCreateBrokerSecrets, saveBrokerSecrets } from './broker-secrets.js';

/**
 * Connections to the agents' own RabbitMQ cluster beat every 2.5 s: a frozen or cut-off leader's
 * connection closes within ~10 s, which hands the lease to a standby (the 10 s default would take
 * ~20 s). They run on a LAN, where a missed beat this long means something is wrong.
 */
const HEARTBEAT = '?heartbeat=5';

const ADMIN_USER = 'kraken-admin';

export interface ManagedRabbitOptions {
  dataDir: string;
  nodeId: string;
  amqpPort: number;
  /**
   * This machine's IPv4 address on the LAN: it names the node (`kraken-<id>@<address>`), so nodes
   * on other machines reach it without name resolution. Changing it starts the node afresh.
   */
  address: string;
  logger: Logger;
  /** @default RabbitMQ's own script under /usr/lib/rabbitmq */
  serverScript?: string;
  /**
   * Keeps the node running between starts of the agent in one process: a start takes the node the
   * last one left, and `release` hands it back instead of stopping it. Without one, `release` stops it.
   */
  keeper?: BrokerNodeKeeper;
}

/** Restart delays after the node dies unexpectedly: quick at first, then no faster than every 30 s. */
const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** How long the leader waits for a node it let join to appear in the RabbitMQ cluster. */
const MEMBER_WAIT_MS = 180_000;
/** The members shown on the Platform page are read at most this often (each read runs rabbitmqctl). */
const STATUS_CACHE_MS = 10_000;
/** A host cut off is noticed in ~12 s instead of ~70 s (RabbitMQ's default of 60). Equal on every member. */
const ADVANCED_CONFIG = '[{kernel, [{net_ticktime, 10}]}].';

/**
 * The RabbitMQ node an agent runs for its cluster: its data under `<dataDir>/rabbitmq`, an admin of
 * its own (no guest), restarted when it dies, stopped with the agent. The leader's node founds the
 * cluster; agents that may lead join it with nodes of their own, and from three members on the
 * cluster survives losing one (quorum queues replicated on three nodes, pause_minority).
 */
export class ManagedRabbit {
  private stopping = false;
  private readonly supervised: Promise<void>;
  private status: { at: number; value: ClusterStatus } | undefined;
  /** rabbitmqctl runs for joining nodes go one at a time: machines joining together must not stall the leader. */
  private adminQueue: Promise<unknown> = Promise.resolve();
  private statusReading: Promise<void> | undefined;

  private constructor(
    private readonly server: RabbitServer,
    private readonly secrets: BrokerSecrets,
    private readonly logger: Logger,
    /** Where `release` hands the node, and under which key (see keyOf). */
    private readonly kept: { keeper: BrokerNodeKeeper; key: string } | undefined,
  ) {
    this.supervised = this.supervise();
  }

  /** What a kept node must match to serve another start: the same node name, port and cluster (cookie). */
  private static keyOf(options: ManagedRabbitOptions, cookie: string): string {
    return JSON.stringify([options.nodeId, options.address, options.amqpPort, cookie]);
  }

  /** The node the agent's previous start left running with these settings, if any (see ManagedRabbitOptions.keeper). */
  private static async takeKept(options: ManagedRabbitOptions, cookie: string): Promise<ManagedRabbit | undefined> {
    const node = await options.keeper?.take(ManagedRabbit.keyOf(options, cookie));
    if (node !== undefined) options.logger.info('this agent\'s RabbitMQ node runs on from its previous start', { node: node.nodeName, port: node.port });
    return node;
  }

  /** Starts this agent's node with its own secrets (made on first start): a cluster of one. */
  static async start(options: ManagedRabbitOptions): Promise<ManagedRabbit> {
    const secrets = loadOrCreateBrokerSecrets(options.dataDir);
    const kept = await ManagedRabbit.takeKept(options, secrets.cookie);
    if (kept !== undefined) return kept;
    try {
      return await ManagedRabbit.launch(options, secrets);
    } catch (error) {
      const forgotten = isForgottenByCluster(error);
      if (forgotten === undefined) throw error;
      throw new KrakenError(
        ErrorCode.Conflict,
        `this machine's RabbitMQ node was left out of its cluster (\`kraken promote\` made ${forgotten.by} lead without it): the cluster goes on there. Start this agent with --join <that machine's API URL> (it joins again as a standby and takes its state from there)`,
        { cause: error },
      );
    }
  }

  /**
   * Starts a node with the cluster's secrets and makes it a member of the cluster `grant` names. A
   * node the cluster left out (a standby was promoted while this machine was away) starts afresh:
   * as a member, all it holds comes from the cluster anyway.
   */
  static async startMember(options: ManagedRabbitOptions, grant: BrokerClusterGrant): Promise<ManagedRabbit> {
    const secrets = { cookie: grant.cookie, adminPassword: grant.adminPassword };
    saveBrokerSecrets(options.dataDir, secrets);
    let node: ManagedRabbit;
    try {
      // a member kept from the last start is in the cluster already: joining it again changes nothing
      node = (await ManagedRabbit.takeKept(options, secrets.cookie)) ?? (await ManagedRabbit.launch(options, secrets));
    } catch (error) {
      const forgotten = isForgottenByCluster(error);
      if (forgotten === undefined) throw error;
      const kept = path.join(options.dataDir, 'rabbitmq.left-out');
      options.logger.warn('this machine\'s RabbitMQ node was left out of its cluster while it was away: starting it afresh to join again', { by: forgotten.by, oldDataKeptIn: kept });
      await rm(kept, { recursive: true, force: true });
      await rename(path.join(options.dataDir, BROKER_NODE_DIR), kept);
      node = await ManagedRabbit.launch(options, secrets);
    }
    try {
      options.logger.info('joining the RabbitMQ cluster', { seed: grant.seedNode });
      await joinCluster(node.server, grant.seedNode, { logger: options.logger });
      options.logger.info('this RabbitMQ node is a member of the cluster', { seed: grant.seedNode });
      await node.keepPartitionHandling();
    } catch (error) {
      await node.stop();
      throw error;
    }
    return node;
  }

  private static async launch(options: ManagedRabbitOptions, secrets: BrokerSecrets): Promise<ManagedRabbit> {
    const { dataDir, nodeId, amqpPort, address, logger } = options;
    if (await isListening(amqpPort)) {
      throw new KrakenError(
        ErrorCode.Conflict,
        `cannot run this agent's RabbitMQ node on port ${amqpPort}: something listens there already (another agent?). Give --broker-port, or --no-managed-broker`,
      );
    }
    logger.info('starting this agent\'s RabbitMQ node (the first start takes a few seconds)', { port: amqpPort });
    const started = Date.now();
    const server = await RabbitServer.start({
      dir: path.join(dataDir, BROKER_NODE_DIR),
      nodeName: `kraken-${nodeId}@${address}`,
      longNames: true,
      distAddress: address,
      amqpPort,
      config: [`default_user = ${ADMIN_USER}`, `default_pass = ${secrets.adminPassword}`, 'default_user_tags.administrator = true'],
      advancedConfig: ADVANCED_CONFIG,
      cookie: secrets.cookie,
      readyUser: { user: ADMIN_USER, password: secrets.adminPassword },
      ...(options.serverScript === undefined ? {} : { serverScript: options.serverScript }),
    });
    logger.info('RabbitMQ node ready', { node: server.nodeName, port: amqpPort, startMs: Date.now() - started });
    const node = new ManagedRabbit(server, secrets, logger, options.keeper === undefined ? undefined : { keeper: options.keeper, key: ManagedRabbit.keyOf(options, secrets.cookie) });
    await node.keepPartitionHandling();
    return node;
  }

  /**
   * A node that (re)starts reads its partition handling from its config, which says `ignore`: in a
   * cluster of three or more it must pause on the minority side like the other members, or a split
   * would leave it running (and its queues' replicas answering) on its own.
   */
  private async keepPartitionHandling(): Promise<void> {
    try {
      const { members } = await this.readStatus();
      if (members.length < 3) return;
      await setPartitionHandling(this.server, [this.server.nodeName], 'pause_minority');
      this.logger.info('this RabbitMQ node pauses on the minority side of a split, as the other members do', { members: members.length });
    } catch (error) {
      this.logger.warn('could not set this RabbitMQ node\'s partition handling; a split may leave it running alone', { error });
    }
  }

  /** How this agent itself connects (over loopback, as the admin). */
  get adminUrl(): string {
    return `amqp://${ADMIN_USER}:${encodeURIComponent(this.secrets.adminPassword)}@127.0.0.1:${this.server.amqpPort}${HEARTBEAT}`;
  }

  get port(): number {
    return this.server.amqpPort;
  }

  get nodeName(): string {
    return this.server.nodeName;
  }

  /**
   * A broker URL for a node that joins: a user of its own (made now, or given a new password when
   * it joins again), allowed only its own queue. `host` is how that node reaches this machine.
   */
  async urlFor(nodeId: string, host: string): Promise<string> {
    const user = BrokerUsers.ofNode(nodeId);
    const password = randomBytes(24).toString('base64url');
    await this.oneAtATime(() => ensureUser(this.server, user, password, nodePermissions(nodeId, [LEADER_TOPIC, ROUTES_TOPIC])));
    this.logger.info('made a broker user for a joining node', { nodeId, user });
    return `amqp://${encodeURIComponent(user)}:${password}@${host}:${this.server.amqpPort}${HEARTBEAT}`;
  }

  /**
   * What node `nodeId` needs to join this RabbitMQ cluster. Once it shows up as a member, the
   * cluster is made to survive losing a member if it now has three (in the background).
   */
  grantMembership(nodeId: string): Promise<BrokerClusterGrant> {
    void this.absorb(nodeId).catch((error: unknown) => {
      this.logger.warn('a node that was let join the RabbitMQ cluster did not complete it', { nodeId, error });
    });
    return Promise.resolve({
      cookie: this.secrets.cookie,
      adminPassword: this.secrets.adminPassword,
      seedNode: this.server.nodeName,
    });
  }

  /** Every running member's AMQP endpoint (`host:port`; every agent uses the same --broker-port). */
  async endpoints(): Promise<string[]> {
    const { running } = this.members() ?? (await this.oneAtATime(() => this.readStatus()));
    return running.map((node) => this.endpointOf(node));
  }

  /**
   * The running nodes' AMQP endpoints as last read, without reading again (each read starts an
   * Erlang VM): a member that joins is read as it joins; undefined before the first read.
   */
  lastKnownEndpoints(): string[] | undefined {
    return this.status?.value.running.map((node) => this.endpointOf(node));
  }

  /** `kraken-<id>@<address>` -> `<address>:<AMQP port>` (every member listens on the same port). */
  private endpointOf(node: string): string {
    return `${node.slice(node.indexOf('@') + 1)}:${this.server.amqpPort}`;
  }

  /** The RabbitMQ cluster as last read (at most STATUS_CACHE_MS old; a read starts in the background). */
  members(): ClusterStatus | undefined {
    if (this.status === undefined || Date.now() - this.status.at > STATUS_CACHE_MS) {
      this.statusReading ??= this.readStatus()
        .then(() => undefined, () => undefined)
        .finally(() => {
          this.statusReading = undefined;
        });
    }
    return this.status?.value;
  }

  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const result = this.adminQueue.then(work, work);
    this.adminQueue = result.catch(() => undefined);
    return result;
  }

  /** The RabbitMQ cluster as it is now (runs rabbitmqctl). */
  readMembers(): Promise<ClusterStatus> {
    return this.oneAtATime(() => this.readStatus());
  }

  /**
   * Makes this node a cluster of one without the members it cannot reach (refoundAlone): users and
   * queues stay, messages go. Only for a survivor that has no majority left; returns who was left out.
   */
  async refoundAlone(): Promise<string[]> {
    const leftOut = await this.oneAtATime(async () => {
      const members = await refoundAlone(this.server);
      await this.readStatus();
      return members;
    });
    this.logger.warn('this RabbitMQ node is now a cluster of one', { leftOut });
    return leftOut;
  }

  /**
   * What a start does with its node when it ends: hands it to the keeper, which keeps it running
   * for the next start (or stops it if the agent exits); without a keeper, stops it.
   */
  release(): Promise<void> {
    return this.kept === undefined ? this.stop() : this.kept.keeper.release(this, this.kept.key);
  }

  /** Stops the node gracefully; no restart follows. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.server.stop();
    await this.supervised;
  }

  private async readStatus(): Promise<ClusterStatus> {
    const value = await clusterStatus(this.server);
    this.status = { at: Date.now(), value };
    return value;
  }

  /**
   * Waits for the new member, then, with three or more running: every quorum queue gets a replica on
   * every member, and a partition pauses the minority side (with two, each side is half: `ignore`
   * keeps a lone survivor running).
   */
  private async absorb(nodeId: string): Promise<void> {
    const prefix = `kraken-${nodeId}@`;
    const deadline = Date.now() + MEMBER_WAIT_MS;
    let status = await this.readStatus();
    while (!status.running.some((node) => node.startsWith(prefix))) {
      if (Date.now() >= deadline || this.isStopping()) throw new KrakenError(ErrorCode.Timeout, `${prefix}... did not join the RabbitMQ cluster within ${MEMBER_WAIT_MS} ms`);
      await sleep(2_000);
      status = await this.readStatus();
    }
    this.logger.info('a node joined the RabbitMQ cluster', { nodeId, running: status.running });
    if (status.running.length < 3) return;
    await setPartitionHandling(this.server, status.running, 'pause_minority');
    for (const node of status.running) {
      if (node !== this.server.nodeName) await growQuorumQueues(this.server, node);
    }
    this.logger.info('the RabbitMQ cluster now survives losing a node: quorum queues on every member, pause_minority', { members: status.running });
  }

  /** A method, not the field, so checks after an await are not narrowed away by the compiler. */
  private isStopping(): boolean {
    return this.stopping;
  }

  /** Restarts the node whenever it exits on its own; clients reconnect by themselves meanwhile. */
  private async supervise(): Promise<void> {
    for (let crashes = 0; ; crashes++) {
      await this.server.exited;
      if (this.isStopping()) return;
      const delay = RESTART_DELAYS_MS[Math.min(crashes, RESTART_DELAYS_MS.length - 1)] ?? 30_000;
      this.logger.warn('this agent\'s RabbitMQ node exited; restarting it', { restartInMs: delay, crashes: crashes + 1 });
      await sleep(delay);
      if (this.isStopping()) return;
      try {
        await this.server.launch();
        this.logger.info('RabbitMQ node restarted', { port: this.server.amqpPort });
        await this.keepPartitionHandling();
      } catch (error) {
        this.logger.error('could not restart this agent\'s RabbitMQ node; trying again', { error });
      }
    }
  }
}
