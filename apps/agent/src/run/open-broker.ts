import net from 'node:net';
import type { Broker } from '@kraken/broker';
import { AmqpBroker, MemoryBroker, redactUrl } from '@kraken/broker';
import type { Logger } from '@kraken/common';

export const LOCAL_RABBIT_URL = 'amqp://guest:guest@127.0.0.1:5672';

export interface OpenedBroker {
  broker: Broker;
  /** 'memory' = in-process: a single-node cluster that no other machine can join. */
  kind: 'amqp' | 'memory';
  url?: string;
}

/**
 * An explicit URL must work (its failure is the user's to fix); without one, a local RabbitMQ is
 * used when it answers, else the in-process broker, so the first command works on any laptop.
 */
export async function openBroker(options: { url?: string | undefined; logger: Logger; localUrl?: string }): Promise<OpenedBroker> {
  const { url, logger } = options;
  if (url !== undefined) {
    logger.info('connecting to RabbitMQ', { url: redactUrl(url) });
    return { broker: await AmqpBroker.create({ url, logger }), kind: 'amqp', url };
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
  logger.info('no RabbitMQ given or found: using the in-process broker (single-node cluster)');
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
