import net from 'node:net';
import { ErrorCode } from '@kraken/common';
import { DeliveryClass } from '@kraken/messages';
import type { RabbitNode } from '@kraken/testing';
import { eventually, startRabbitNode, uniqueName } from '@kraken/testing';
import { expectClosedWithin } from '../../test/close-bound.js';
import { markerOf, statusMessage } from '../../test/messages.js';
import { AmqpBroker } from './amqp-broker.js';

// No step of connecting may wait forever: an attempt against something that accepts TCP and never
// speaks AMQP is abandoned at its deadline (socket destroyed) and the next one follows.

const connectTimeoutMs = 1_000;
const closeTimeoutMs = 2_000;

/** A TCP listener on `port` that accepts every connection and never sends a byte. */
async function silentListener(port: number) {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
    // read (and ignore) what the client sends, so its close is noticed: a paused socket never sees the end
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    get accepted() {
      return accepted;
    },
    get open() {
      return open.size;
    },
    async close(): Promise<void> {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

describe('AmqpBroker connection deadlines', () => {
  let node: RabbitNode;

  beforeAll(async () => {
    node = await startRabbitNode();
  }, 120_000);

  afterAll(async () => {
    await node[Symbol.asyncDispose]();
  });

  it('abandons attempts against a listener that never speaks AMQP at their deadline, then connects when RabbitMQ answers on that port', async () => {
    const broker = await AmqpBroker.create({ url: node.url, connectTimeoutMs, reconnectMaxDelayMs: 200, closeTimeoutMs });
    const failures: { attempt: number; code: string; message: string }[] = [];
    broker.on('reconnect-failed', ({ attempt, error }) => failures.push({ attempt, code: error.code, message: error.message }));
    const disconnects: string[] = [];
    broker.on('disconnected', (error) => disconnects.push(error.message));
    const reconnected: (number | undefined)[] = [];
    broker.on('connected', ({ disconnectedMs }) => reconnected.push(disconnectedMs));
    try {
      const queue = uniqueName('test.silent');
      await broker.declareQueue(queue);
      await node.flush();
      const received: string[] = [];
      await broker.consume(queue, (delivery) => {
        received.push(markerOf(delivery.message));
      });

      await node.stop();
      const silent = await silentListener(node.port);
      try {
        await eventually(() => failures.filter((failure) => failure.code === ErrorCode.Timeout).length >= 2, 30_000, 'two attempts abandoned at their deadline');
        expect(failures.find((failure) => failure.code === ErrorCode.Timeout)?.message).toBe(
          `connection attempt abandoned after ${connectTimeoutMs} ms: no answer during TCP connect and AMQP handshake`,
        );
        // abandoned means closed on our side: no socket of an abandoned attempt stays open
        await eventually(() => silent.accepted >= 2 && silent.open <= 1, 10_000, 'sockets of abandoned attempts closed');
        const stats = broker.stats();
        expect(stats.connected).toBe(false);
        expect(stats.reconnectAttempts).toBeGreaterThanOrEqual(2);
        expect(stats.disconnectedMs).toBeGreaterThan(0);
        expect(Date.parse(stats.disconnectedSince ?? '')).toBeLessThanOrEqual(Date.now());
        expect(stats.lastError).toMatch(/abandoned after 1000 ms|ECONNREFUSED/);
        expect(disconnects).toHaveLength(1);
      } finally {
        await silent.close();
      }

      await node.restart();
      await eventually(() => broker.stats().connected, 30_000, 'connected to the restarted RabbitMQ');
      expect(reconnected).toHaveLength(1);
      expect(reconnected[0]).toBeGreaterThan(0);
      expect(broker.stats()).toMatchObject({ reconnects: 1, reconnectAttempts: 0 });
      expect(broker.stats().lastError).toBeUndefined();
      await broker.publish(queue, statusMessage('after the silence'));
      await eventually(() => received.includes('after the silence'), 10_000, 'a message through the new connection');
    } finally {
      await expectClosedWithin(broker, closeTimeoutMs);
    }
  }, 120_000);

  it('close() returns within its bound while an attempt hangs, failing what it could not send', async () => {
    const broker = await AmqpBroker.create({ url: node.url, connectTimeoutMs: 60_000, reconnectMaxDelayMs: 200, closeTimeoutMs });
    const queue = uniqueName('test.hang');
    await broker.declareQueue(queue);
    await node.stop();
    const silent = await silentListener(node.port);
    try {
      // an attempt is now waiting for a handshake that never comes (its deadline is a minute away)
      await eventually(() => silent.open >= 1, 10_000, 'an attempt holding a socket to the silent listener');
      const unsent = broker.publish(queue, statusMessage('never confirmed'));
      const declaring = broker.declareQueue(uniqueName('test.never'));
      await expectClosedWithin(broker, closeTimeoutMs);
      await expect(unsent).rejects.toMatchObject({ code: ErrorCode.Closed, message: 'broker closed before the message was confirmed' });
      await expect(declaring).rejects.toMatchObject({ code: ErrorCode.Closed });
      await eventually(() => silent.open === 0, 10_000, 'the hanging attempt socket closed by close()');
      await expect(broker.publish(queue, statusMessage('late'))).rejects.toMatchObject({ code: ErrorCode.Closed });
    } finally {
      await silent.close();
      await node.restart();
    }
  }, 120_000);

  it('a declaration waits for a reconnect at most operationTimeoutMs, then says why it could not', async () => {
    const broker = await AmqpBroker.create({ url: node.url, operationTimeoutMs: 1_500, reconnectMaxDelayMs: 200, closeTimeoutMs });
    try {
      await node.stop();
      await eventually(() => !broker.stats().connected, 10_000, 'the broker noticing RabbitMQ is gone');
      await expect(broker.declareQueue('test.unreachable')).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: expect.stringMatching(/^cannot declare queue test\.unreachable: not connected to RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+ for \d+ s \(/) as unknown,
      });
    } finally {
      await expectClosedWithin(broker, closeTimeoutMs);
      await node.restart();
    }
  }, 120_000);

  it('cancelling a consumer whose connection dies meanwhile returns at once, not after operationTimeoutMs', async () => {
    const broker = await AmqpBroker.create({ url: node.url, operationTimeoutMs: 60_000, reconnectMaxDelayMs: 200, closeTimeoutMs });
    const queue = uniqueName('test.cancel-dying');
    try {
      await broker.declareQueue(queue, { class: DeliveryClass.Durable });
      const subscription = await broker.consume(queue, () => undefined);
      // frozen, RabbitMQ cannot answer the channel's close; then the connection dies under it
      node.pause();
      const started = Date.now();
      const cancelled = subscription.cancel();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await node.kill();
      await cancelled;
      process.stderr.write(`[deadlines] cancel returned ${String(Date.now() - started)} ms after it was called (operationTimeoutMs 60000)\n`);
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      await expectClosedWithin(broker, closeTimeoutMs);
      await node.restart();
    }
  }, 120_000);
});
