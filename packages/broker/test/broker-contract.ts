import { ErrorCode } from '@kraken/common';
import type { Message } from '@kraken/messages';
import { DeliveryClass } from '@kraken/messages';
import { eventually } from '@kraken/testing';
import type { Broker, Delivery } from '../src/index.js';
import { expectClosedWithin } from './close-bound.js';
import { deferred, logMessage, markerOf, statsMessage, statusMessage } from './messages.js';

/** Both implementations' default closeTimeoutMs. */
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

export interface ContractHarness {
  /** A fresh broker with maxDeliveries 3 and a small telemetry bound (5). */
  create(): Promise<Broker>;
  /** A queue name no other test uses. */
  queueName(prefix: string): string;
  /** Puts raw bytes on a queue, as a foreign or broken producer would. */
  injectRaw(broker: Broker, queue: string, content: Buffer): Promise<void>;
  cleanup?(queues: string[]): Promise<void>;
}

/**
 * The semantics every Broker implementation must keep; run against MemoryBroker (unit) and
 * AmqpBroker on a real RabbitMQ (integration).
 */
export function brokerContract(name: string, harness: ContractHarness): void {
  describe(`${name} (Broker contract)`, () => {
    let broker: Broker;
    const queues: string[] = [];
    const queue = (prefix: string) => {
      const q = harness.queueName(prefix);
      queues.push(q);
      return q;
    };

    beforeEach(async () => {
      broker = await harness.create();
    });
    afterEach(async () => {
      await expectClosedWithin(broker, DEFAULT_CLOSE_TIMEOUT_MS);
      await harness.cleanup?.(queues.splice(0));
    });

    it('delivers a published durable message to a consumer, decoded and intact', async () => {
      const q = queue('deliver');
      await broker.declareQueue(q);
      const got = deferred<Delivery>();
      await broker.consume(q, (delivery) => {
        got.resolve(delivery);
      });
      const sent = statusMessage('hello');
      await broker.publish(q, sent);
      const delivery = await got.promise;
      expect(delivery.message).toEqual(sent);
      expect(delivery.deliveryCount).toBe(1);
      expect(delivery.redelivered).toBe(false);
      expect(delivery.queue).toBe(q);
    });

    it('rejects a durable publish to a queue that does not exist, and drops (counts) telemetry', async () => {
      const q = queue('missing');
      await expect(broker.publish(q, statusMessage('lost'))).rejects.toMatchObject({ code: ErrorCode.NotFound });
      await broker.publish(q, statsMessage(1));
      expect(broker.stats().dropped).toBe(1);
    });

    it('counts the consumers of a queue, and refuses a missing queue', async () => {
      const q = queue('counted');
      await broker.declareQueue(q);
      expect(await broker.consumerCount(q)).toBe(0);
      const first = await broker.consume(q, () => undefined);
      const second = await broker.consume(q, () => undefined);
      // RabbitMQ's quorum queues apply a consume or a cancel through their log: the count follows shortly
      await eventually(async () => (await broker.consumerCount(q)) === 2, 5_000, 'two consumers counted');
      await second.cancel();
      await first.cancel();
      await eventually(async () => (await broker.consumerCount(q)) === 0, 5_000, 'no consumer counted');
      await expect(broker.consumerCount(queue('uncounted'))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    });

    it('counts the messages waiting in a queue until a consumer takes them, and refuses a missing queue', async () => {
      const q = queue('waiting');
      await broker.declareQueue(q);
      expect(await broker.readyCount(q)).toBe(0);
      for (let i = 0; i < 3; i++) await broker.publish(q, statusMessage(`waiting-${String(i)}`));
      await eventually(async () => (await broker.readyCount(q)) === 3, 5_000, 'three messages waiting');
      const taken: string[] = [];
      const consumer = await broker.consume(q, (delivery) => {
        taken.push(delivery.message.id);
        delivery.ack();
      });
      await eventually(() => taken.length === 3, 5_000, 'the three messages taken');
      await eventually(async () => (await broker.readyCount(q)) === 0, 5_000, 'none waiting');
      await consumer.cancel();
      await expect(broker.readyCount(queue('never-declared'))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    });

    it('refuses to consume a queue that was never declared', async () => {
      await expect(broker.consume(queue('undeclared'), () => undefined)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    });

    it('redelivers a message whose handler throws, then dead-letters it with the error as reason', async () => {
      const q = queue('failing');
      await broker.declareQueue(q);
      const counts: number[] = [];
      const handled: string[] = [];
      await broker.consume(q, (delivery) => {
        if (markerOf(delivery.message) === 'poison') {
          counts.push(delivery.deliveryCount);
          throw new Error('cannot handle this');
        }
        handled.push(markerOf(delivery.message));
      });
      await broker.publish(q, statusMessage('poison'));
      await broker.publish(q, statusMessage('fine'));
      await eventually(() => broker.stats().deadLettered === 1 && handled.length === 1, 10_000, 'dead letter and the next message');
      expect(counts).toEqual([1, 2, 3]);
      expect(handled).toEqual(['fine']);
      const letters = await broker.takeDeadLetters();
      expect(letters).toHaveLength(1);
      expect(letters[0]?.reason).toContain('cannot handle this');
      expect(letters[0]?.sourceQueue).toBe(q);
      expect(broker.stats().handlerFailures).toBe(3);
    });

    it('dead-letters a message the handler rejects without requeue', async () => {
      const q = queue('reject');
      await broker.declareQueue(q);
      await broker.consume(q, (delivery) => {
        delivery.nack({ requeue: false, reason: 'not for me' });
      });
      await broker.publish(q, statusMessage('unwanted'));
      await eventually(() => broker.stats().deadLettered === 1, 10_000, 'dead letter');
      const [letter] = await broker.takeDeadLetters();
      expect(letter?.reason).toBe('not for me');
      expect(JSON.parse(letter?.content.toString() ?? '{}') as unknown).toMatchObject({ body: { message: 'unwanted' } });
    });

    it('dead-letters a message that fails to decode, counts it, and keeps consuming', async () => {
      const q = queue('poison');
      await broker.declareQueue(q);
      const handled: string[] = [];
      await broker.consume(q, (delivery) => {
        handled.push(markerOf(delivery.message));
      });
      await harness.injectRaw(broker, q, Buffer.from('{"v":1,"type":"deploy.status", garbage'));
      await broker.publish(q, statusMessage('after-poison'));
      await eventually(() => handled.length === 1 && broker.stats().deadLettered === 1, 10_000, 'next message after poison');
      expect(handled).toEqual(['after-poison']);
      expect(broker.stats().decodeFailures).toBe(1);
      const [letter] = await broker.takeDeadLetters();
      expect(letter?.reason).toMatch(/^not-json/);
      expect(letter?.content.toString()).toContain('garbage');
    });

    it('skips a redelivered duplicate of a message already handled (same message id)', async () => {
      const q = queue('dedupe');
      await broker.declareQueue(q);
      const handled: string[] = [];
      await broker.consume(q, (delivery) => {
        handled.push(delivery.message.id);
      });
      const message = statusMessage('once');
      await broker.publish(q, message);
      await broker.publish(q, message);
      await broker.publish(q, statusMessage('marker'));
      await eventually(() => handled.length === 2 && broker.stats().duplicatesSkipped === 1, 10_000, 'duplicate skipped');
      expect(handled[0]).toBe(message.id);
    });

    it('gives a consumer no more unacknowledged messages than its prefetch', async () => {
      const q = queue('prefetch');
      await broker.declareQueue(q);
      const held: Delivery[] = [];
      await broker.consume(
        q,
        (delivery) => {
          held.push(delivery);
          return new Promise<void>(() => undefined); // never finishes: settled only by ack below
        },
        { prefetch: 2 },
      );
      for (let i = 0; i < 5; i++) await broker.publish(q, statusMessage(`m${i}`));
      await eventually(() => held.length === 2, 10_000, 'two deliveries');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(held).toHaveLength(2);
      held[0]?.ack();
      await eventually(() => held.length === 3, 10_000, 'a third delivery after one ack');
    });

    it('redelivers what a consumer had not acknowledged when it went away', async () => {
      const q = queue('redeliver');
      await broker.declareQueue(q);
      const first = deferred();
      const subscription = await broker.consume(q, () => {
        first.resolve();
        return new Promise<void>(() => undefined); // the consumer "dies" holding the message
      });
      await broker.publish(q, statusMessage('orphan'));
      await first.promise;
      await subscription.cancel();
      const again = deferred<Delivery>();
      await broker.consume(q, (delivery) => {
        again.resolve(delivery);
      });
      const delivery = await again.promise;
      expect(markerOf(delivery.message)).toBe('orphan');
      expect(delivery.redelivered).toBe(true);
      expect(delivery.deliveryCount).toBe(2);
    });

    it('bounds a telemetry queue: messages over the limit are dropped and counted, the rest delivered', async () => {
      const q = queue('telemetry');
      await broker.declareQueue(q, { class: DeliveryClass.Telemetry, maxLength: 5 });
      for (let i = 0; i < 8; i++) await broker.publish(q, statsMessage(i));
      expect(broker.stats().dropped).toBe(3);
      const received: Message[] = [];
      await broker.consume(q, (delivery) => {
        received.push(delivery.message);
      });
      await eventually(() => received.length === 5, 10_000, 'five telemetry messages');
      expect(received.map((m) => (m.type === 'deploy.stats' ? m.body.cpuPercent : -1))).toEqual([0, 1, 2, 3, 4]);
    });

    it('refuses a durable message to a full bounded queue instead of dropping it', async () => {
      const q = queue('full');
      await broker.declareQueue(q, { class: DeliveryClass.Telemetry, maxLength: 5 });
      for (let i = 0; i < 5; i++) await broker.publish(q, statusMessage(`m${i}`));
      await expect(broker.publish(q, statusMessage('one too many'))).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
        message: expect.stringContaining(`cannot publish deploy.status to queue ${q}`) as unknown,
      });
      expect(broker.stats().dropped).toBe(0);
      const received: string[] = [];
      await broker.consume(q, (delivery) => {
        received.push(markerOf(delivery.message));
      });
      await eventually(() => received.length === 5, 10_000, 'the five messages that fitted');
      expect(received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    });

    it('routes topic messages to every subscriber whose pattern matches', async () => {
      const all: string[] = [];
      const nodesOnly: string[] = [];
      await broker.subscribe('events.#', (delivery) => {
        all.push(markerOf(delivery.message));
      });
      await broker.subscribe('events.node.*', (delivery) => {
        nodesOnly.push(markerOf(delivery.message));
      });
      await broker.publishTopic('events.node.up', statusMessage('node-up'));
      await broker.publishTopic('events.deployment.changed', statusMessage('deployment'));
      await broker.publishTopic('other.thing', statusMessage('unrelated'));
      await eventually(() => all.length === 2 && nodesOnly.length === 1, 10_000, 'topic deliveries');
      expect(all.sort()).toEqual(['deployment', 'node-up']);
      expect(nodesOnly).toEqual(['node-up']);
    });

    it('keeps topic messages in a durable queue bound to their pattern while nobody consumes, in order', async () => {
      const q = queue('follower');
      await broker.declareQueue(q, { bindings: ['state.#'] });
      // a second declaration adds a binding and keeps the first
      await broker.declareQueue(q, { bindings: ['other.change'] });
      for (const marker of ['one', 'two', 'three']) await broker.publishTopic('state.change', statusMessage(marker));
      await broker.publishTopic('other.change', statusMessage('four'));
      await broker.publishTopic('unrelated.change', statusMessage('not for it'));
      const received: string[] = [];
      await broker.consume(q, (delivery) => {
        received.push(markerOf(delivery.message));
      });
      await eventually(() => received.length === 4, 10_000, 'the four bound messages');
      expect(received).toEqual(['one', 'two', 'three', 'four']);
    });

    it('gives one consumer at a time every message of a single-active-consumer queue; the next takes over when it goes away', async () => {
      const q = queue('leadership');
      await broker.declareQueue(q, { singleActiveConsumer: true });
      const got: { consumer: string; marker: string }[] = [];
      const first = await broker.consume(q, (delivery) => {
        got.push({ consumer: 'first', marker: markerOf(delivery.message) });
      });
      await broker.consume(q, (delivery) => {
        got.push({ consumer: 'second', marker: markerOf(delivery.message) });
      });
      for (const marker of ['a', 'b', 'c']) await broker.publish(q, statusMessage(marker));
      await eventually(() => got.length === 3, 10_000, 'three deliveries');
      await first.cancel();
      for (const marker of ['d', 'e']) await broker.publish(q, statusMessage(marker));
      await eventually(() => got.length === 5, 10_000, 'two more deliveries');
      expect(got).toEqual([
        { consumer: 'first', marker: 'a' },
        { consumer: 'first', marker: 'b' },
        { consumer: 'first', marker: 'c' },
        { consumer: 'second', marker: 'd' },
        { consumer: 'second', marker: 'e' },
      ]);
    });

    it('refuses an oversized message at publish and delivers nothing', async () => {
      const q = queue('oversized');
      await broker.declareQueue(q);
      const received: Message[] = [];
      await broker.consume(q, (delivery) => {
        received.push(delivery.message);
      });
      // every field valid, but 150 lines of 10 KB are over the 1 MiB message limit
      await expect(broker.publish(q, logMessage(150, 10_000))).rejects.toMatchObject({ code: ErrorCode.PayloadTooLarge });
      await broker.publish(q, statusMessage('small'));
      await eventually(() => received.length === 1, 10_000, 'the next message');
      expect(received[0]?.type).toBe('deploy.status');
    });

    it('refuses to redeclare a queue with another delivery class', async () => {
      const q = queue('conflict');
      await broker.declareQueue(q);
      await expect(broker.declareQueue(q, { class: DeliveryClass.Telemetry })).rejects.toMatchObject({ code: ErrorCode.Conflict });
    });

    it('rejects use after close', async () => {
      const q = queue('closed');
      await broker.declareQueue(q);
      await broker.close();
      await expect(broker.publish(q, statusMessage('late'))).rejects.toMatchObject({ code: ErrorCode.Closed });
    });
  });
}
