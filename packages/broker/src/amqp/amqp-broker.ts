import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, TypedEmitter, settlesWithin, toKrakenError } from '@kraken/common';
import type { Message } from '@kraken/messages';
import { DeliveryClass, deliveryClassOf, encode } from '@kraken/messages';
import type { Broker, BrokerEvents, BrokerStats, ConsumeOptions, DeadLetter, MessageHandler, QueueOptions, Subscription } from '../broker.js';
import type { ProcessorHooks } from '../delivery-processor.js';
import { DeliveryProcessor } from '../delivery-processor.js';
import type { BrokerCounters } from '../counters.js';
import { zeroCounters } from '../counters.js';
import type { CompiledBrokerOptions } from '../options.js';
import { compileBrokerOptions } from '../options.js';
import { AmqpConsumer } from './amqp-consumer.js';
import type { AmqpBrokerOptions, CompiledAmqpOptions } from './amqp-options.js';
import { GOODBYE_TIMEOUT_MS, brokerUrls, compileAmqpOptions } from './amqp-options.js';
import type { PendingPublish } from './confirmed-publisher.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import type { AttemptProgress } from './connection-keeper.js';
import { ConnectionKeeper } from './connection-keeper.js';
import { untilAborted } from './deadline.js';
import { DeadLetterHeaders, TOPIC_EXCHANGE, queueArguments, subscriptionQueueArguments } from './topology.js';

export type { AmqpBrokerOptions } from './amqp-options.js';
export type { AmqpConnect } from './connection-keeper.js';

/**
 * The Broker on RabbitMQ. Survives broker restarts: it reconnects with backoff (every attempt
 * bounded by a deadline), re-declares its queues, resumes its consumers and resends every durable
 * message RabbitMQ had not confirmed. close() returns within its bound, connected or not.
 */
export class AmqpBroker extends TypedEmitter<BrokerEvents> implements Broker {
  private readonly options: CompiledBrokerOptions;
  private readonly amqp: CompiledAmqpOptions;
  private readonly logger: Logger;
  private readonly keeper: ConnectionKeeper;
  private readonly processorHooks: ProcessorHooks;
  private readonly durable: ConfirmedPublisher;
  private readonly telemetry: ConfirmedPublisher;
  private readonly declared = new Map<string, QueueOptions>();
  /** The URL's user, sent as every message's user_id so that consumers learn (validated) who published it. */
  private readonly userId: string | undefined;
  private readonly consumers = new Set<AmqpConsumer>();
  private readonly counters: BrokerCounters = zeroCounters();
  private closed: Promise<void> | undefined;
  private readonly expiryTimer: NodeJS.Timeout;

  private constructor(options: AmqpBrokerOptions) {
    super();
    this.options = compileBrokerOptions(options);
    this.amqp = compileAmqpOptions(options);
    this.logger = this.options.logger.child({ component: 'amqp-broker' });
    this.userId = urlUser(this.amqp.url);
    this.processorHooks = {
      onDecodeFailure: () => this.counters.decodeFailures++,
      onDuplicate: () => this.counters.duplicatesSkipped++,
      onHandlerError: (error, info) => {
        this.counters.handlerFailures++;
        this.logger.warn('message handler failed', { ...info, error: error.message });
        this.emit('handler-error', error, info);
      },
    };
    const hooks = {
      onConfirmed: () => this.counters.published++,
      onDropped: (pending: PendingPublish, reason: string) => {
        this.counters.dropped++;
        this.emit('dropped', { queue: pending.routingKey, type: pending.properties.type, reason });
      },
    };
    const publisherOptions = { maxPending: this.amqp.maxPendingPublishes, maxNacks: 3, logger: this.logger };
    this.durable = new ConfirmedPublisher('durable', publisherOptions, hooks);
    this.telemetry = new ConfirmedPublisher('lossy', publisherOptions, hooks);
    this.keeper = new ConnectionKeeper({
      ...this.amqp,
      logger: this.logger,
      setup: (connection, progress) => this.setUpConnection(connection, progress),
      onLost: () => {
        this.durable.detach();
        this.telemetry.detach();
        for (const consumer of this.consumers) consumer.detach();
      },
      onConnected: (info) => {
        this.emit('connected', info);
      },
      onDisconnected: (error) => {
        this.emit('disconnected', error);
      },
      onReconnectFailed: (info) => {
        this.emit('reconnect-failed', info);
      },
    });
    this.expiryTimer = setInterval(() => {
      this.durable.expire(Date.now());
    }, 1000);
    this.expiryTimer.unref();
  }

  /**
   * The other endpoints of this broker from now on, as its RabbitMQ cluster gains or loses nodes:
   * later reconnects go round them, `url` first. Throws InvalidConfig for a URL that is not AMQP.
   */
  setFallbackUrls(fallbackUrls: readonly string[]): void {
    this.keeper.useUrls(brokerUrls(this.amqp.url, fallbackUrls));
  }

  /** Connects (retrying up to initialConnectTimeoutMs) and declares the dead-letter queue. */
  static async create(options: AmqpBrokerOptions): Promise<AmqpBroker> {
    const broker = new AmqpBroker(options);
    try {
      await broker.keeper.start(broker.amqp.initialConnectTimeoutMs);
    } catch (error) {
      clearInterval(broker.expiryTimer);
      throw error;
    }
    return broker;
  }

  /**
   * Declares the queue; a user that may not (a node's restricted user, for the cluster's queues)
   * checks that it exists instead, since the orchestrator declares those.
   */
  async declareQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    this.assertOpen();
    try {
      await this.withChannel((channel) => channel.assertQueue(queue, queueArguments(options, this.options.telemetryMaxLength, this.amqp.quorumTelemetry)), `declare queue ${queue}`);
    } catch (error) {
      if (!(error instanceof KrakenError) || error.code !== ErrorCode.Unauthorized) throw error;
      await this.withChannel((channel) => channel.checkQueue(queue), `check queue ${queue} (this user may not declare it)`);
    }
    const bindings = [...new Set([...(this.declared.get(queue)?.bindings ?? []), ...(options.bindings ?? [])])];
    for (const pattern of bindings) {
      await this.withChannel((channel) => channel.bindQueue(queue, TOPIC_EXCHANGE, pattern), `bind queue ${queue} to ${pattern}`);
    }
    this.declared.set(queue, { ...options, bindings });
  }

  async consumerCount(queue: string): Promise<number> {
    this.assertOpen();
    // a passive declare: it reads the count without creating the queue, and fails on a missing one
    const { consumerCount } = await this.withChannel((channel) => channel.checkQueue(queue), `count the consumers of queue ${queue}`);
    return consumerCount;
  }

  async readyCount(queue: string): Promise<number> {
    this.assertOpen();
    const { messageCount } = await this.withChannel((channel) => channel.checkQueue(queue), `count the messages of queue ${queue}`);
    return messageCount;
  }

  publish(queue: string, message: Message): Promise<void> {
    return this.send('', queue, message, true);
  }

  publishTopic(topic: string, message: Message): Promise<void> {
    return this.send(TOPIC_EXCHANGE, topic, message, false);
  }

  async consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const target = {
      prepare: async (_connection: ChannelModel, channel: Channel) => {
        await channel.checkQueue(queue);
        return queue;
      },
    };
    return this.startConsumer(queue, target, handler, options);
  }

  async subscribe(pattern: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Subscription> {
    this.assertOpen();
    const target = {
      // exclusive queues die with their connection: each reconnect makes and binds a new one
      prepare: async (_connection: ChannelModel, channel: Channel) => {
        const { queue } = await channel.assertQueue('', subscriptionQueueArguments(this.options.telemetryMaxLength));
        await channel.bindQueue(queue, TOPIC_EXCHANGE, pattern);
        return queue;
      },
    };
    return this.startConsumer(`subscription:${pattern}`, target, handler, options);
  }

  async takeDeadLetters(max = 100): Promise<DeadLetter[]> {
    this.assertOpen();
    return this.withChannel(async (channel) => {
      const letters: DeadLetter[] = [];
      while (letters.length < max) {
        const got = await channel.get(this.amqp.deadLetterQueue, { noAck: true });
        if (got === false) break;
        const headers = got.properties.headers ?? {};
        letters.push({
          reason: String(headers[DeadLetterHeaders.Reason] ?? 'unknown'),
          sourceQueue: String(headers[DeadLetterHeaders.SourceQueue] ?? 'unknown'),
          at: String(headers[DeadLetterHeaders.At] ?? ''),
          content: got.content,
        });
      }
      return letters;
    }, 'read dead letters');
  }

  stats(): BrokerStats {
    return { ...this.counters, ...this.keeper.health() };
  }

  /**
   * Stops consuming, waits up to closeTimeoutMs for outstanding confirms, fails what is left and
   * disconnects. Returns within closeTimeoutMs + 0.5 s whatever RabbitMQ does.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    const deadline = Date.now() + this.amqp.closeTimeoutMs;
    const remaining = () => Math.max(0, deadline - Date.now());
    clearInterval(this.expiryTimer);
    this.keeper.stopReconnecting();
    await Promise.all([...this.consumers].map((consumer) => consumer.cancel(remaining())));
    if (this.keeper.current) await Promise.all([this.durable.idle(remaining()), this.telemetry.idle(remaining())]);
    const closed = new KrakenError(ErrorCode.Closed, 'broker closed before the message was confirmed');
    this.durable.failAll(closed);
    this.telemetry.failAll(closed);
    await this.keeper.close(GOODBYE_TIMEOUT_MS);
  }

  private async startConsumer(
    name: string,
    target: ConstructorParameters<typeof AmqpConsumer>[1],
    handler: MessageHandler,
    options: ConsumeOptions,
  ): Promise<Subscription> {
    const consumer = new AmqpConsumer(
      name,
      target,
      handler,
      options.prefetch ?? this.options.prefetch,
      // per consumer: two subscribers of one topic each get (and must handle) the same message id
      new DeliveryProcessor(this.options, this.processorHooks),
      (content, reason, sourceQueue) => this.deadLetter(content, reason, sourceQueue),
      this.logger,
    );
    const what = `consume ${name}`;
    const connection = await this.keeper.whenConnected(this.amqp.operationTimeoutMs, what);
    try {
      await this.bounded(connection, what, consumer.start(connection));
    } catch (error) {
      await consumer.cancel(GOODBYE_TIMEOUT_MS);
      throw toBrokerError(error, what);
    }
    this.consumers.add(consumer);
    return {
      get queue() {
        return consumer.queue;
      },
      cancel: async () => {
        this.consumers.delete(consumer);
        const channelClosed = await consumer.cancel(this.amqp.operationTimeoutMs);
        const live = this.keeper.current;
        // a channel that cannot even close means the connection is stuck: start afresh
        if (!channelClosed && live) this.keeper.drop(live, `consumer of ${consumer.queue} did not stop within ${this.amqp.operationTimeoutMs} ms`);
      },
    };
  }

  private send(exchange: string, routingKey: string, message: Message, mandatory: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new KrakenError(ErrorCode.Closed, 'broker is closed'));
    let content: Buffer;
    try {
      content = encode(message, { maxBytes: this.options.maxMessageBytes });
    } catch (error) {
      return Promise.reject(toKrakenError(error, ErrorCode.InvalidInput));
    }
    const durable = deliveryClassOf(message.type) === DeliveryClass.Durable;
    return new Promise<void>((resolve, reject) => {
      const pending: PendingPublish = {
        exchange,
        routingKey,
        content,
        properties: {
          messageId: message.id,
          type: message.type,
          contentType: 'application/json',
          persistent: durable,
          mandatory,
          timestamp: Math.floor(Date.now() / 1000),
          ...(this.userId === undefined ? {} : { userId: this.userId }),
        },
        deadline: Date.now() + this.amqp.publishTimeoutMs,
        resolve,
        reject,
        returned: false,
        nacks: 0,
      };
      (durable ? this.durable : this.telemetry).send(pending);
    });
  }

  private async deadLetter(content: Buffer, reason: string, sourceQueue: string): Promise<void> {
    const at = new Date().toISOString();
    await new Promise<void>((resolve, reject) => {
      this.durable.send({
        exchange: '',
        routingKey: this.amqp.deadLetterQueue,
        content,
        properties: {
          messageId: randomUUID(),
          type: 'dead-letter',
          persistent: true,
          mandatory: true,
          ...(this.userId === undefined ? {} : { userId: this.userId }),
          headers: { [DeadLetterHeaders.Reason]: reason.slice(0, 1000), [DeadLetterHeaders.SourceQueue]: sourceQueue, [DeadLetterHeaders.At]: at },
        },
        deadline: Date.now() + this.amqp.publishTimeoutMs,
        resolve,
        reject,
        returned: false,
        nacks: 0,
      });
    });
    this.counters.deadLettered++;
    this.emit('dead-lettered', { reason, sourceQueue, at, content });
  }

  /** Rebuilds what a connection carries: topology, publish channels, consumers (the keeper bounds it). */
  private async setUpConnection(connection: ChannelModel, progress: AttemptProgress): Promise<() => void> {
    progress.step = 'declaring the topology';
    const dlq = this.amqp.deadLetterQueue;
    await declareOrCheck(connection, (channel) => channel.assertQueue(dlq, queueArguments({ class: DeliveryClass.Durable }, this.options.telemetryMaxLength)), (channel) => channel.checkQueue(dlq));
    await declareOrCheck(connection, (channel) => channel.assertExchange(TOPIC_EXCHANGE, 'topic', { durable: true }), (channel) => channel.checkExchange(TOPIC_EXCHANGE));
    for (const [queue, options] of this.declared) {
      progress.step = `declaring queue ${queue}`;
      await declareOrCheck(connection, (channel) => channel.assertQueue(queue, queueArguments(options, this.options.telemetryMaxLength, this.amqp.quorumTelemetry)), (channel) => channel.checkQueue(queue));
      for (const pattern of options.bindings ?? []) await onThrowawayChannel(connection, (channel) => channel.bindQueue(queue, TOPIC_EXCHANGE, pattern));
    }
    progress.step = 'opening the publish channels';
    const durableChannel = await connection.createConfirmChannel();
    const telemetryChannel = await connection.createConfirmChannel();
    for (const channel of [durableChannel, telemetryChannel]) {
      channel.on('error', (error: Error) => {
        this.logger.warn('RabbitMQ publish channel error', { error: error.message });
      });
    }
    for (const consumer of this.consumers) {
      progress.step = `restarting the consumer of ${consumer.name}`;
      await consumer.start(connection);
    }
    return () => {
      // a channel closed by the server (e.g. an unknown exchange) would strand its publisher
      durableChannel.once('close', () => {
        this.keeper.drop(connection, 'durable publish channel closed');
      });
      telemetryChannel.once('close', () => {
        this.keeper.drop(connection, 'telemetry publish channel closed');
      });
      this.durable.attach(durableChannel);
      this.telemetry.attach(telemetryChannel);
    };
  }

  /**
   * Runs a topology operation on a throwaway channel (a refused declaration closes only that
   * channel), bounded by operationTimeoutMs including any wait for a reconnect.
   */
  private async withChannel<T>(operation: (channel: Channel) => Promise<T>, what: string): Promise<T> {
    const connection = await this.keeper.whenConnected(this.amqp.operationTimeoutMs, what);
    let channel: Channel | undefined;
    try {
      return await this.bounded(
        connection,
        what,
        connection.createChannel().then((opened) => {
          channel = opened;
          opened.on('error', () => undefined);
          return operation(opened);
        }),
      );
    } catch (error) {
      throw toBrokerError(error, what);
    } finally {
      if (channel) await settlesWithin(channel.close(), GOODBYE_TIMEOUT_MS);
    }
  }

  /** `work` on the live connection within operationTimeoutMs; a connection that does not answer in time is dropped. */
  private async bounded<T>(connection: ChannelModel, what: string, work: Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.amqp.operationTimeoutMs);
    try {
      return await untilAborted(work, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      const timeout = new KrakenError(ErrorCode.Timeout, `RabbitMQ did not answer within ${this.amqp.operationTimeoutMs} ms`);
      this.keeper.drop(connection, `cannot ${what}: ${timeout.message}`);
      throw timeout;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new KrakenError(ErrorCode.Closed, 'broker is closed');
  }
}

/** The username in an AMQP URL; undefined when it names none (amqplib then logs in as guest). */
function urlUser(url: string): string | undefined {
  const { username } = new URL(url);
  return username === '' ? undefined : decodeURIComponent(username);
}

/**
 * Declares on a throwaway channel, or where this user may not (RabbitMQ refuses and closes the
 * channel) checks passively on another: a node's restricted user only checks the cluster's topology.
 */
async function declareOrCheck(connection: ChannelModel, declare: (channel: Channel) => Promise<unknown>, check: (channel: Channel) => Promise<unknown>): Promise<void> {
  try {
    await onThrowawayChannel(connection, declare);
  } catch (error) {
    if (!isAccessRefused(error)) throw error;
    await onThrowawayChannel(connection, check);
  }
}

async function onThrowawayChannel(connection: ChannelModel, operation: (channel: Channel) => Promise<unknown>): Promise<void> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    await operation(channel);
  } finally {
    await settlesWithin(channel.close(), GOODBYE_TIMEOUT_MS);
  }
}

function isAccessRefused(error: unknown): boolean {
  return error instanceof Error && /ACCESS[_-]REFUSED|\b403\b/.test(error.message);
}

function toBrokerError(error: unknown, what: string): KrakenError {
  if (error instanceof KrakenError && error.message.startsWith('cannot ')) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isAccessRefused(error)) {
    return new KrakenError(ErrorCode.Unauthorized, `cannot ${what}: this broker user may not (${message})`, { cause: error });
  }
  if (/PRECONDITION_FAILED|inequivalent arg/i.test(message)) {
    return new KrakenError(ErrorCode.Conflict, `cannot ${what}: it exists with other settings (${message})`, { cause: error });
  }
  if (/NOT_FOUND/i.test(message)) {
    return new KrakenError(ErrorCode.NotFound, `cannot ${what}: it does not exist (declare it first)`, { cause: error });
  }
  const code = error instanceof KrakenError ? error.code : ErrorCode.Unavailable;
  return new KrakenError(code, `cannot ${what}: ${message}`, { cause: error });
}
