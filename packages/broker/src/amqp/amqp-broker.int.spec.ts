import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import amqplib from 'amqplib';
import { ErrorCode } from '@kraken/common';
import { Queues } from '@kraken/messages';
import type { IsolatedVhost } from '@kraken/testing';
import { amqpUrl, deleteQueues, eventually, isolatedVhost, requireRabbit, tempDir, uniqueName } from '@kraken/testing';
import { brokerContract } from '../../test/broker-contract.js';
import { deferred, markerOf, statusMessage } from '../../test/messages.js';
import type { Delivery } from '../broker.js';
import { AmqpBroker } from './amqp-broker.js';

const url = amqpUrl();

beforeAll(async () => {
  await requireRabbit(url);
});

/** Raw bytes onto a queue through plain amqplib, as a foreign or broken producer would. */
async function sendRaw(brokerUrl: string, queue: string, content: Buffer): Promise<void> {
  const connection = await amqplib.connect(brokerUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.sendToQueue(queue, content, { persistent: true });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

const deadLetterQueues: string[] = [];
brokerContract('AmqpBroker', {
  create: () => {
    const deadLetterQueue = uniqueName('test.dead');
    deadLetterQueues.push(deadLetterQueue);
    return AmqpBroker.create({ url, maxDeliveries: 3, telemetryMaxLength: 5, deadLetterQueue });
  },
  queueName: (prefix) => uniqueName(`test.${prefix}`),
  injectRaw: (_broker, queue, content) => sendRaw(url, queue, content),
  cleanup: (queues) => deleteQueues(url, [...queues, ...deadLetterQueues.splice(0)]),
});

describe('AmqpBroker on a real RabbitMQ', () => {
  it('reports an unreachable RabbitMQ clearly, without the password', async () => {
    await expect(
      AmqpBroker.create({ url: 'amqp://kraken:s3cret@127.0.0.1:1', initialConnectTimeoutMs: 500 }),
    ).rejects.toThrow(/cannot reach RabbitMQ at amqp:\/\/kraken:\*\*\*@127\.0\.0\.1:1/);
  });

  it("counts another connection's consumer while that connection lives, and not once it is gone", async () => {
    const queue = uniqueName('test.presence');
    const deadLetterQueue = uniqueName('test.dead');
    const watcher = await AmqpBroker.create({ url, deadLetterQueue });
    const node = await AmqpBroker.create({ url, deadLetterQueue });
    try {
      await watcher.declareQueue(queue);
      await node.consume(queue, () => undefined);
      expect(await watcher.consumerCount(queue)).toBe(1);
      await node.close();
      await eventually(async () => (await watcher.consumerCount(queue)) === 0, 10_000, 'the closed connection no longer counted');
    } finally {
      await node.close();
      await watcher.close();
      await deleteQueues(url, [queue, deadLetterQueue]);
    }
  });

  it('redelivers a message to the next consumer when the first process dies before acking', async () => {
    const queue = uniqueName('test.crash');
    const deadLetterQueue = uniqueName('test.dead');
    const broker = await AmqpBroker.create({ url, deadLetterQueue });
    try {
      await broker.declareQueue(queue);
      await broker.publish(queue, statusMessage('survivor'));

      // A separate process takes the message and exits without acking: a crashed worker.
      await using dir = await tempDir();
      const script = path.join(dir.path, 'crashing-consumer.cjs');
      writeFileSync(
        script,
        `const amqplib = require(${JSON.stringify(require.resolve('amqplib'))});
        (async () => {
          const connection = await amqplib.connect(process.argv[2]);
          const channel = await connection.createChannel();
          await channel.prefetch(1);
          await channel.consume(process.argv[3], () => process.exit(3), { noAck: false });
        })().catch(() => process.exit(1));`,
      );
      const child = fork(script, [url, queue], { stdio: 'ignore' });
      const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(exitCode).toBe(3);

      const got = deferred<Delivery>();
      await broker.consume(queue, (delivery) => {
        got.resolve(delivery);
      });
      const delivery = await got.promise;
      expect(markerOf(delivery.message)).toBe('survivor');
      expect(delivery.redelivered).toBe(true);
      expect(delivery.deliveryCount).toBe(2);
    } finally {
      await broker.close();
      await deleteQueues(url, [queue, deadLetterQueue]);
    }
  });
});

describe('AmqpBroker as a node with a restricted broker user', () => {
  let vhost: IsolatedVhost;
  let admin: AmqpBroker;
  const nodeId = uniqueName('perm');
  const otherQueue = uniqueName('kraken.node.other');

  beforeAll(async () => {
    vhost = await isolatedVhost('kraken-broker-perm');
    admin = await AmqpBroker.create({ url: vhost.url });
    // the orchestrator's side declares the cluster's queues
    await admin.declareQueue(Queues.Orchestrator);
    await admin.declareQueue(otherQueue);
  });

  afterAll(async () => {
    await admin.close();
    await vhost.remove();
  });

  it("connects, checks the cluster's queues it may not declare, and cannot consume another node's queue", async () => {
    const { url } = await vhost.nodeUser(nodeId);
    const node = await AmqpBroker.create({ url });
    try {
      await expect(node.declareQueue(Queues.Orchestrator)).resolves.toBeUndefined();
      await expect(node.declareQueue(Queues.node(nodeId))).resolves.toBeUndefined();
      await expect(node.consume(otherQueue, () => undefined)).rejects.toMatchObject({ code: ErrorCode.Unauthorized });
      await expect(node.declareQueue(uniqueName('kraken.not-mine'))).rejects.toMatchObject({ code: ErrorCode.NotFound });
    } finally {
      await node.close();
    }
  });

  it('tells the consumer which broker user published a message, as RabbitMQ validated it', async () => {
    const { user, url } = await vhost.nodeUser(`${nodeId}-b`);
    const node = await AmqpBroker.create({ url });
    const got = deferred<Delivery>();
    const subscription = await admin.consume(Queues.Orchestrator, (delivery) => {
      got.resolve(delivery);
    });
    try {
      await node.publish(Queues.Orchestrator, statusMessage('from a node'));
      const delivery = await got.promise;
      expect(delivery.publisher).toBe(user);
      expect(markerOf(delivery.message)).toBe('from a node');
    } finally {
      await subscription.cancel();
      await node.close();
    }
  });
});
