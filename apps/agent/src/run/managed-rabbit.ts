import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { BrokerUsers } from '@kraken/messages';
import { RabbitServer, ensureUser, isListening, nodePermissions } from '@kraken/rabbitmq';
import { loadOrCreateBrokerSecrets } from './broker-secrets.js';

export const ADMIN_USER = 'kraken-admin';

export interface ManagedRabbitOptions {
  dataDir: string;
  nodeId: string;
  amqpPort: number;
  logger: Logger;
  /** @default RabbitMQ's own script under /usr/lib/rabbitmq */
  serverScript?: string;
}

/** Restart delays after the node dies unexpectedly: quick at first, then no faster than every 30 s. */
const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * The RabbitMQ node an agent runs for its cluster: its data under `<dataDir>/rabbitmq`, an admin of
 * its own (no guest), restarted when it dies, stopped with the agent. Joining nodes get users of
 * their own, allowed only what a worker does.
 */
export class ManagedRabbit {
  private stopping = false;
  private readonly supervised: Promise<void>;

  private constructor(
    private readonly server: RabbitServer,
    private readonly adminPassword: string,
    private readonly logger: Logger,
  ) {
    this.supervised = this.supervise();
  }

  static async start(options: ManagedRabbitOptions): Promise<ManagedRabbit> {
    const { dataDir, nodeId, amqpPort, logger } = options;
    if (await isListening(amqpPort)) {
      throw new KrakenError(
        ErrorCode.Conflict,
        `cannot run this agent's RabbitMQ node on port ${amqpPort}: something listens there already (another agent?). Give --broker-port, or --no-managed-broker`,
      );
    }
    const secrets = loadOrCreateBrokerSecrets(dataDir);
    logger.info('starting this agent\'s RabbitMQ node (the first start takes a few seconds)', { port: amqpPort });
    const started = Date.now();
    const server = await RabbitServer.start({
      dir: path.join(dataDir, 'rabbitmq'),
      // unique on the machine (nodes share epmd), stable across restarts (it names the data)
      nodeName: `kraken-${nodeId}@localhost`,
      amqpPort,
      config: [`default_user = ${ADMIN_USER}`, `default_pass = ${secrets.adminPassword}`, 'default_user_tags.administrator = true'],
      cookie: secrets.cookie,
      readyUser: { user: ADMIN_USER, password: secrets.adminPassword },
      ...(options.serverScript === undefined ? {} : { serverScript: options.serverScript }),
    });
    logger.info('RabbitMQ node ready', { port: amqpPort, startMs: Date.now() - started });
    return new ManagedRabbit(server, secrets.adminPassword, logger);
  }

  /** How this agent itself connects (over loopback, as the admin). */
  get adminUrl(): string {
    return `amqp://${ADMIN_USER}:${encodeURIComponent(this.adminPassword)}@127.0.0.1:${this.server.amqpPort}`;
  }

  get port(): number {
    return this.server.amqpPort;
  }

  /**
   * A broker URL for a node that joins: a user of its own (made now, or given a new password when
   * it joins again), allowed only its own queue. `host` is how that node reaches this machine.
   */
  async urlFor(nodeId: string, host: string): Promise<string> {
    const user = BrokerUsers.ofNode(nodeId);
    const password = randomBytes(24).toString('base64url');
    await ensureUser(this.server, user, password, nodePermissions(nodeId));
    this.logger.info('made a broker user for a joining node', { nodeId, user });
    return `amqp://${encodeURIComponent(user)}:${password}@${host}:${this.server.amqpPort}`;
  }

  /** Stops the node gracefully; no restart follows. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.server.stop();
    await this.supervised;
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
      } catch (error) {
        this.logger.error('could not restart this agent\'s RabbitMQ node; trying again', { error });
      }
    }
  }
}
