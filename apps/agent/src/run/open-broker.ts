import net from 'node:net';
import type { Broker } from '@kraken/broker';
import { AmqpBroker, MemoryBroker, redactUrl } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { rabbitInstalled } from '@kraken/rabbitmq';
import type { BrokerNodeKeeper } from './broker-node-keeper.js';
import { ManagedRabbit } from './managed-rabbit.js';

const LOCAL_RABBIT_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface OpenedBroker {
  broker: Broker;
  /**
   * 'managed' = a RabbitMQ node this agent runs itself; 'amqp' = an external (or local) RabbitMQ;
   * 'memory' = in-process: a single-node cluster that no other machine can join.
   */
  kind: 'managed' | 'amqp' | 'memory';
  url?: string;
  /** Set for 'managed': the node, to stop with the agent and to make users for joining nodes. */
  managed?: ManagedRabbit;
}

export interface OpenBrokerOptions {
  url?: string | undefined;
  logger: Logger;
  /** Run a RabbitMQ node of its own where RabbitMQ is installed. */
  managed?: { dataDir: string; nodeId: string; port: number; address: string; serverScript?: string; keeper?: BrokerNodeKeeper } | undefined;
  localUrl?: string;
}

/**
 * An explicit URL must work (its failure is the user's to fix). Without one the agent runs its own
 * RabbitMQ node where rabbitmq-server is installed, so other machines can join with nothing set up
 * by hand; else a local RabbitMQ when it answers; else the in-process broker, so the first command
 * works on any laptop.
 */
export async function openBroker(options: OpenBrokerOptions): Promise<OpenedBroker> {
  const { url, logger } = options;
  if (url !== undefined) {
    logger.info('connecting to RabbitMQ', { url: redactUrl(url) });
    return { broker: await AmqpBroker.create({ url, logger }), kind: 'amqp', url };
  }
  if (options.managed !== undefined && (await rabbitInstalled(options.managed.serverScript))) {
    const { serverScript, ...managed } = options.managed;
    const node = await ManagedRabbit.start({ ...managed, amqpPort: managed.port, logger, ...(serverScript === undefined ? {} : { serverScript }) });
    try {
      // its RabbitMQ cluster may grow: telemetry must survive this node too
      return { broker: await AmqpBroker.create({ url: node.adminUrl, quorumTelemetry: true, logger }), kind: 'managed', url: node.adminUrl, managed: node };
    } catch (error) {
      await node.release();
      throw error;
    }
  }
  const localUrl = options.localUrl ?? LOCAL_RABBIT_URL;
  if (await acceptsTcp(localUrl, 500)) {
    try {
      const broker = await AmqpBroker.create({ url: localUrl, logger, initialConnectTimeoutMs: 3_000 });
      logger.info('using the local RabbitMQ', { url: redactUrl(localUrl) });
      return { broker, kind: 'amqp', url: localUrl };
    } catch (error) {
      logger.warn('a local RabbitMQ port answers but AMQP does not; using the in-process broker', { error });
    }
  }
  logger.info(
    'using the in-process broker (single-node cluster): to let other machines join, install RabbitMQ (apt-get install rabbitmq-server) and start again, or give --broker-url',
  );
  return { broker: new MemoryBroker(), kind: 'memory' };
}

function acceptsTcp(amqpUrl: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(amqpUrl);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5672), timeout: timeoutMs });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => {
      done(true);
    });
    socket.once('timeout', () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}
