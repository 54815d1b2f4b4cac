import { noopLogger } from '@kraken/common';
import { ConnectionKeeper } from './connection-keeper.js';

/**
 * A keeper whose every connection attempt is refused, recording which endpoint each one tried; after
 * `closeAfter` attempts it is closed, which ends start() however fast or slow the machine is.
 */
function refusingKeeper(urls: string[], closeAfter = Number.POSITIVE_INFINITY): { keeper: ConnectionKeeper; tried: string[] } {
  const tried: string[] = [];
  const keeper: ConnectionKeeper = new ConnectionKeeper({
    urls,
    connect: (url) => {
      tried.push(url);
      if (tried.length >= closeAfter) void keeper.close(100);
      return Promise.reject(new Error('connect ECONNREFUSED'));
    },
    connectTimeoutMs: 1_000,
    reconnectInitialDelayMs: 1,
    reconnectFactor: 1,
    reconnectMaxDelayMs: 1,
    logger: noopLogger,
    setup: () => Promise.resolve(() => undefined),
    onLost: () => undefined,
    onConnected: () => undefined,
    onDisconnected: () => undefined,
    onReconnectFailed: () => undefined,
  });
  return { keeper, tried };
}

describe('ConnectionKeeper.useUrls', () => {
  it('goes round the endpoints it is given later, as a RabbitMQ cluster gains nodes', async () => {
    const { keeper, tried } = refusingKeeper(['amqp://u:p@a:5673'], 4);
    keeper.useUrls(['amqp://u:p@a:5673', 'amqp://u:p@b:5673', 'amqp://u:p@c:5673']);
    await expect(keeper.start(60_000)).rejects.toThrow('cannot reach RabbitMQ at amqp://u:***@a:5673 or amqp://u:***@b:5673 or amqp://u:***@c:5673');
    expect(tried).toEqual(['amqp://u:p@a:5673', 'amqp://u:p@b:5673', 'amqp://u:p@c:5673', 'amqp://u:p@a:5673']);
  });

  it('tries next the endpoint it would have tried, when that one is still listed', async () => {
    const urls = ['amqp://u:p@a:5673', 'amqp://u:p@b:5673'];
    const { keeper, tried } = refusingKeeper(urls);
    await expect(keeper.start(1)).rejects.toThrow();
    // attempts go round in order: after n failures the next is urls[n % 2]
    const next = urls[tried.length % urls.length];
    keeper.useUrls(['amqp://u:p@c:5673', next ?? '']);
    tried.length = 0;
    await expect(keeper.start(1)).rejects.toThrow();
    expect(tried[0]).toBe(next);
    await keeper.close(100);
  });
});
