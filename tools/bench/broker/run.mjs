#!/usr/bin/env node
// Publish -> consume throughput of AmqpBroker against raw amqplib, measured in the same run on
// the same RabbitMQ with the same queue type (quorum), persistence, confirms and prefetch, so
// the ratio shows what our layer costs (validation, encoding, bookkeeping) on a noisy machine.
//
//   npx nx run broker:build && node tools/bench/broker/run.mjs [--messages 20000] [--rounds 3] [--smoke]
// Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)
import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import { AmqpBroker } from '@kraken/broker';
import { createMessage } from '@kraken/messages';
import { amqpUrl as url, median, parseFlags, runBench, verdict } from '../lib.mjs';

const HELP = `Usage: node tools/bench/broker/run.mjs [options]

Publish -> consume throughput of AmqpBroker against raw amqplib on the same RabbitMQ, quorum queue,
persistence, confirms and prefetch. Build first: npx nx run broker:build. Needs RabbitMQ
(bash tools/services/services.sh up).

Options:
  --messages N   small durable messages per round (default 20000)
  --rounds N     rounds per side, alternating which side goes first (default 3)
  --prefetch N   consumer prefetch (default 32)
  --smoke        one short round per side (2000 messages) that proves the bench works end to end
                 and prints its ratio without judging it (what CI runs)
  --help         this text

Env: KRAKEN_BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)`;

const { numbers, smoke } = parseFlags(
  HELP,
  { messages: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, prefetch: { type: 'string', default: '32' } },
  { positive: ['messages', 'rounds', 'prefetch'], smoke: { messages: '2000', rounds: '1' } },
);
const total = numbers.messages;
const rounds = numbers.rounds;
const prefetch = numbers.prefetch;
const TARGET = 0.8;

function makeMessages() {
  const at = new Date().toISOString();
  return Array.from({ length: total }, (_, i) =>
    createMessage('deploy.status', { deploymentId: 'bench-1', status: 'Running', message: `m${i}`, at, nodeId: 'bench' }, { from: 'bench' }),
  );
}

async function rawRound(messages) {
  const queue = `bench.raw.${randomUUID()}`;
  const pub = await amqplib.connect(url);
  const sub = await amqplib.connect(url);
  try {
    const admin = await pub.createChannel();
    await admin.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const channel = await pub.createConfirmChannel();
    const consumerChannel = await sub.createChannel();
    await consumerChannel.prefetch(prefetch);
    let consumed = 0;
    let done;
    const allConsumed = new Promise((resolve) => (done = resolve));
    await consumerChannel.consume(queue, (msg) => {
      JSON.parse(msg.content.toString('utf8'));
      consumerChannel.ack(msg);
      if (++consumed === messages.length) done();
    });
    const start = performance.now();
    const confirms = [];
    for (const message of messages) {
      const content = Buffer.from(JSON.stringify(message));
      confirms.push(
        new Promise((resolve, reject) => {
          const ok = channel.publish('', queue, content, { persistent: true, messageId: message.id, type: message.type, contentType: 'application/json' }, (err) => (err ? reject(err) : resolve()));
          if (!ok) confirms.push(new Promise((r) => channel.once('drain', r)));
        }),
      );
      if (confirms.length % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(confirms);
    await allConsumed;
    const seconds = (performance.now() - start) / 1000;
    await admin.deleteQueue(queue);
    return messages.length / seconds;
  } finally {
    await pub.close();
    await sub.close();
  }
}

async function krakenRound(messages) {
  const queue = `bench.kraken.${randomUUID()}`;
  const publisher = await AmqpBroker.create({ url, prefetch });
  const consumer = await AmqpBroker.create({ url, prefetch });
  try {
    await publisher.declareQueue(queue);
    let consumed = 0;
    let done;
    const allConsumed = new Promise((resolve) => (done = resolve));
    await consumer.consume(queue, () => {
      if (++consumed === messages.length) done();
    });
    const start = performance.now();
    const confirms = [];
    for (const message of messages) {
      confirms.push(publisher.publish(queue, message));
      if (confirms.length % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(confirms);
    await allConsumed;
    const seconds = (performance.now() - start) / 1000;
    const admin = await amqplib.connect(url);
    await (await admin.createChannel()).deleteQueue(queue);
    await admin.close();
    return messages.length / seconds;
  } finally {
    await publisher.close();
    await consumer.close();
  }
}

await runBench('broker', async () => {
  const raw = [];
  const kraken = [];
  console.log(`broker bench: ${total} small durable messages per round, confirms on, prefetch ${prefetch}, ${rounds} rounds (alternating)`);
  await rawRound(makeMessages().slice(0, 2000)); // warm-up: JIT, RabbitMQ queue process
  for (let round = 1; round <= rounds; round++) {
    // alternate which goes first so drift on a noisy machine hits both sides alike
    const order = round % 2 === 1 ? ['raw', 'kraken'] : ['kraken', 'raw'];
    for (const side of order) {
      const rate = side === 'raw' ? await rawRound(makeMessages()) : await krakenRound(makeMessages());
      (side === 'raw' ? raw : kraken).push(rate);
      console.log(`  round ${round} ${side.padEnd(6)} ${rate.toFixed(0).padStart(7)} msg/s`);
    }
  }
  const ratio = median(kraken) / median(raw);
  console.log(`median raw amqplib: ${median(raw).toFixed(0)} msg/s; AmqpBroker: ${median(kraken).toFixed(0)} msg/s`);
  console.log(`ratio AmqpBroker/raw: ${(ratio * 100).toFixed(1)}%`);
  verdict(smoke, `target >= ${TARGET * 100}%: ${ratio >= TARGET ? 'MET' : 'NOT MET'}`);
});
