import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '@kraken/common';
import type { RabbitNode } from '@kraken/testing';
import { eventually, isListening, startRabbitNode, uniqueName } from '@kraken/testing';
import { markerOf, statusMessage } from '../../test/messages.js';
import type { AmqpBrokerOptions } from './amqp-broker.js';
import { AmqpBroker } from './amqp-broker.js';
import { expectClosedWithin } from '../../test/close-bound.js';

// RabbitMQ crashes (kill -9, then a restart on the same port and data) at several moments of a
// stream of 10,000 durable publishes. Whatever the moment: every publish is confirmed in the end,
// the consumer receives every message (duplicates allowed, never a loss), and close() returns
// within its bound.

const total = 10_000;
/**
 * Publishes go out in windows of this many, each once the one before is confirmed: RabbitMQ
 * confirms in bulk, so without windows a fast machine has every message confirmed before a test
 * can freeze the node at the 1,000th confirm.
 */
const window = 500;
const closeTimeoutMs = 5_000;

let node: RabbitNode;

beforeAll(async () => {
  node = await startRabbitNode();
}, 120_000);

afterAll(async () => {
  await node[Symbol.asyncDispose]();
});

// a failed test must not leave the next one a frozen or dead node
afterEach(async () => {
  node.resume();
  if (!node.running) await node.restart();
});

interface Stream {
  broker: AmqpBroker;
  queue: string;
  received: Set<string>;
  /** Publishes confirmed so far. */
  confirmed(): number;
  /** Starts the 10,000 publishes; `onConfirm` runs synchronously at each confirm. */
  publishAll(onConfirm?: (count: number) => void): Promise<PromiseSettledResult<void>[]>;
}

async function openStream(options: Partial<AmqpBrokerOptions> = {}): Promise<Stream> {
  const broker = await AmqpBroker.create({ url: node.url, reconnectMaxDelayMs: 500, publishTimeoutMs: 120_000, closeTimeoutMs, ...options });
  const queue = uniqueName('test.crash');
  await broker.declareQueue(queue);
  // RabbitMQ acknowledges a declaration before it is on disk: a kill right after could lose the queue itself
  await node.flush();
  const received = new Set<string>();
  await broker.consume(
    queue,
    (delivery) => {
      received.add(markerOf(delivery.message));
    },
    { prefetch: 200 },
  );
  let confirmed = 0;
  return {
    broker,
    queue,
    received,
    confirmed: () => confirmed,
    publishAll: async (onConfirm) => {
      const results: PromiseSettledResult<void>[] = [];
      for (let first = 0; first < total; first += window) {
        const publishes = Array.from({ length: Math.min(window, total - first) }, (_, i) =>
          broker.publish(queue, statusMessage(`m${first + i}`)).then(() => {
            confirmed++;
            onConfirm?.(confirmed);
          }),
        );
        results.push(...(await Promise.allSettled(publishes)));
      }
      return results;
    },
  };
}

/** Every publish confirmed, every message consumed, the broker reconnected and closing in time. */
async function expectNothingLost(stream: Stream, results: PromiseSettledResult<void>[]): Promise<void> {
  expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
  await eventually(() => stream.received.size === total, 60_000, `all ${total} messages consumed (have ${stream.received.size})`);
  expect(stream.broker.stats()).toMatchObject({ connected: true, reconnectAttempts: 0 });
  expect(stream.broker.stats().reconnects).toBeGreaterThanOrEqual(1);
  expect(stream.broker.stats().disconnectedSince).toBeUndefined();
}

describe('AmqpBroker across a RabbitMQ crash (kill -9 and restart)', () => {
  it('loses nothing when RabbitMQ dies before confirming the first publish', async () => {
    const stream = await openStream();
    try {
      // frozen first, so not one confirm can come back before the kill
      node.pause();
      const publishing = stream.publishAll();
      await sleep(500);
      await node.kill();
      expect(stream.confirmed()).toBe(0);
      await node.restart();
      await expectNothingLost(stream, await publishing);
    } finally {
      await expectClosedWithin(stream.broker, closeTimeoutMs);
    }
  }, 300_000);

  it('loses nothing when RabbitMQ dies mid-stream', async () => {
    const stream = await openStream();
    try {
      // frozen at the 1,000th confirm, with the third window not yet sent: the kill lands mid-stream however fast the machine
      const publishing = stream.publishAll((count) => {
        if (count === 1_000) node.pause();
      });
      await eventually(() => stream.confirmed() >= 1_000, 60_000, '1,000 confirms');
      await node.kill();
      const confirmedBeforeCrash = stream.confirmed();
      expect(confirmedBeforeCrash).toBeLessThanOrEqual(1_000 + window);
      await node.restart();
      await expectNothingLost(stream, await publishing);
    } finally {
      await expectClosedWithin(stream.broker, closeTimeoutMs);
    }
  }, 300_000);

  it('loses nothing when RabbitMQ dies after the last confirm, and publishes again afterwards', async () => {
    const stream = await openStream();
    try {
      const results = await stream.publishAll();
      expect(stream.confirmed()).toBe(total);
      await node.kill();
      await node.restart();
      await expectNothingLost(stream, results);
      // the publishers are attached to the new connection: a new message goes through
      await stream.broker.publish(stream.queue, statusMessage('after the crash'));
      await eventually(() => stream.received.has('after the crash'), 30_000, 'the message published after the crash');
    } finally {
      await expectClosedWithin(stream.broker, closeTimeoutMs);
    }
  }, 300_000);

  it('abandons a reconnect attempt stuck in its handshake with a node still booting, then connects once it is up', async () => {
    const connectTimeoutMs = 2_000;
    const stream = await openStream({ connectTimeoutMs, reconnectMaxDelayMs: 200 });
    const failures: { code: string; message: string }[] = [];
    stream.broker.on('reconnect-failed', ({ error }) => failures.push({ code: error.code, message: error.message }));
    try {
      const publishing = stream.publishAll((count) => {
        if (count === 1_000) node.pause();
      });
      await eventually(() => stream.confirmed() >= 1_000, 60_000, '1,000 confirms');
      // The AMQP port opens a little before the boot completes: freeze the node right there, so the
      // next attempt's TCP connect succeeds and its handshake gets no answer. An attempt may slip in
      // between the port opening and the freeze and connect: then crash the node again.
      let frozenMidBoot = false;
      for (let round = 1; round <= 5 && !frozenMidBoot; round++) {
        await node.kill();
        const restarting = node.restart();
        await eventually(() => isListening(node.port), 60_000, 'the AMQP port open', 5);
        node.pause();
        frozenMidBoot = !(await node.booted()) && !stream.broker.stats().connected;
        if (!frozenMidBoot) {
          node.resume();
          await restarting;
          continue;
        }
        await eventually(() => failures.some((failure) => failure.code === ErrorCode.Timeout), 30_000, 'an attempt abandoned at its deadline');
        expect(failures.find((failure) => failure.code === ErrorCode.Timeout)?.message).toMatch(
          new RegExp(`^connection attempt abandoned after ${connectTimeoutMs} ms: no answer during (TCP connect and AMQP handshake|declaring|opening|restarting)`),
        );
        expect(stream.broker.stats()).toMatchObject({ connected: false, lastError: expect.stringMatching(/abandoned|ECONNREFUSED/) as unknown });
        node.resume();
        await restarting;
      }
      expect(frozenMidBoot).toBe(true);
      await expectNothingLost(stream, await publishing);
    } finally {
      node.resume();
      await expectClosedWithin(stream.broker, closeTimeoutMs);
    }
  }, 300_000);
});
