import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel } from 'amqplib';
import amqplib from 'amqplib';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, TypedEmitter, toKrakenError } from '@kraken/common';
import type { Message } from '@kraken/messages';
import { DeliveryClass, Queues, deliveryClassOf, encode } from '@kraken/messages';
import type { Broker, BrokerEvents, BrokerStats, ConsumeOptions, DeadLetter, MessageHandler, QueueOptions, Subscription } from '../broker.js';
import type { ProcessorHooks } from '../delivery-processor.js';
import { DeliveryProcessor } from '../delivery-processor.js';
import type { BrokerCounters } from '../counters.js';
import { zeroCounters } from '../counters.js';
import type { BrokerOptions, CompiledBrokerOptions } from '../options.js';
import { compileBrokerOptions } from '../options.js';
import { AmqpConsumer } from './amqp-consumer.js';
import type { PendingPublish } from './confirmed-publisher.js';
import { ConfirmedPublisher } from './confirmed-publisher.js';
import { DeadLetterHeaders, TOPIC_EXCHANGE, queueArguments, redactUrl, subscriptionQueueArguments } from './topology.js';

export type AmqpConnect = (url: string) => Promise<ChannelModel>;

export interface AmqpBrokerOptions extends BrokerOptions {
  /** amqp://user:password@host:port/vhost */
  url: string;
  /** Opens a connection; injectable for tests. @default amqplib.connect with a 10 s heartbeat */
  connect?: AmqpConnect;
  /** How long create() keeps trying before it reports RabbitMQ unreachable. @default 10_000 */
  initialConnectTimeoutMs?: number;
  /** Reconnect backoff: first delay, growth and cap. @default 100, 2, 5_000 */
  reconnectInitialDelayMs?: number;
  reconnectFactor?: number;
  reconnectMaxDelayMs?: number;
  /** How long a durable publish may wait for RabbitMQ (across reconnects) before it fails. @default 60_000 */
  publishTimeoutMs?: number;
  /** Durable messages waiting for a confirm before new publishes are refused. @default 100_000 */
  maxPendingPublishes?: number;
  /** close() waits this long for outstanding confirms. @default 5_000 */
  closeTimeoutMs?: number;
  /** Where poison and repeatedly failing messages go (one per cluster). @default Queues.DeadLetter */
  deadLetterQueue?: string;
}

// A 10 s heartbeat notices a dead broker or a cut network in seconds instead of RabbitMQ's 60 s default.
const defaultConnect: AmqpConnect = (url) => amqplib.connect(url.includes('heartbeat=') ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=10`);

/**
 * The Broker on RabbitMQ. Survives broker restarts: it reconnects with backoff, re-declares its
 * queues, resumes its consumers and resends every durable message RabbitMQ had not confirmed.
 */
export class AmqpBroker extends TypedEmitter<BrokerEvents> implements Broker {
  private readonly options: CompiledBrokerOptions;
  private readonly logger: Logger;
  private readonly connectFn: AmqpConnect;
  private readonly processorHooks: ProcessorHooks;
  private readonly durable: ConfirmedPublisher;
  private readonly telemetry: ConfirmedPublisher;
  private readonly declared = new Map<string, QueueOptions>();
  private readonly consumers = new Set<AmqpConsumer>();
  private readonly counters: BrokerCounters = zeroCounters();
  private connection: ChannelModel | undefined;
  private closing = false;
  private reconnecting: Promise<void> | undefined;
  private connectedWaiters: ((error?: KrakenError) => void)[] = [];
  private readonly expiryTimer: NodeJS.Timeout;
  private readonly deadLetterQueue: string;

  private constructor(private readonly amqpOptions: AmqpBrokerOptions) {
    super();
    this.options = compileBrokerOptions(amqpOptions);
    this.logger = this.options.logger.child({ component: 'amqp-broker' });
    this.connectFn = amqpOptions.connect ?? defaultConnect;
    this.deadLetterQueue = amqpOptions.deadLetterQueue ?? Queues.DeadLetter;
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
    const publisherOptions = { maxPending: amqpOptions.maxPendingPublishes ?? 100_000, maxNacks: 3, logger: this.logger };
    this.durable = new ConfirmedPublisher('durable', publisherOptions, hooks);
    this.telemetry = new ConfirmedPublisher('lossy', publisherOptions, hooks);
    this.expiryTimer = setInterval(() => {
      this.durable.expire(Date.now());
    }, 1000);
    this.expiryTimer.unref();
  }

  /** Connects (retrying up to initialConnectTimeoutMs) and declares the dead-letter queue. */
  static async create(options: AmqpBrokerOptions): Promise<AmqpBroker> {
    const broker = new AmqpBroker(options);
    const deadline = Date.now() + (options.initialConnectTimeoutMs ?? 10_000);
    let lastError: unknown;
    for (let attempt = 1; Date.now() < deadline; attempt++) {
      try {
        await broker.establish();
        return broker;
      } catch (error) {
        lastError = error;
        await sleep(Math.min(broker.backoff(attempt), Math.max(0, deadline - Date.now())));
      }
    }
    clearInterval(broker.expiryTimer);
    throw new KrakenError(ErrorCode.Unavailable, `cannot reach RabbitMQ at ${redactUrl(options.url)}: ${describe(lastError)}`, {
      cause: lastError,
    });
  }

  async declareQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    this.assertOpen();
    await this.withChannel((channel) => channel.assertQueue(queue, queueArguments(options, this.options.telemetryMaxLength)), `declare queue ${queue}`);
    this.declared.set(queue, options);
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
        const got = await channel.get(this.deadLetterQueue, { noAck: true });
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
    return { ...this.counters, connected: this.connection !== undefined };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.expiryTimer);
    await Promise.all([...this.consumers].map((consumer) => consumer.cancel()));
    const closeTimeout = this.amqpOptions.closeTimeoutMs ?? 5_000;
    if (this.connection) await Promise.all([this.durable.idle(closeTimeout), this.telemetry.idle(closeTimeout)]);
    const closed = new KrakenError(ErrorCode.Closed, 'broker closed before the message was confirmed');
    this.durable.failAll(closed);
    this.telemetry.failAll(closed);
    this.failConnectedWaiters(closed);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.close().catch(() => undefined);
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
    const connection = await this.connected();
    try {
      await consumer.start(connection);
    } catch (error) {
      await consumer.cancel();
      throw toBrokerError(error, `consume ${name}`);
    }
    this.consumers.add(consumer);
    return {
      get queue() {
        return consumer.queue;
      },
      cancel: async () => {
        this.consumers.delete(consumer);
        await consumer.cancel();
      },
    };
  }

  private send(exchange: string, routingKey: string, message: Message, mandatory: boolean): Promise<void> {
    if (this.closing) return Promise.reject(new KrakenError(ErrorCode.Closed, 'broker is closed'));
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
        },
        deadline: Date.now() + (this.amqpOptions.publishTimeoutMs ?? 60_000),
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
        routingKey: this.deadLetterQueue,
        content,
        properties: {
          messageId: randomUUID(),
          type: 'dead-letter',
          persistent: true,
          mandatory: true,
          headers: { [DeadLetterHeaders.Reason]: reason.slice(0, 1000), [DeadLetterHeaders.SourceQueue]: sourceQueue, [DeadLetterHeaders.At]: at },
        },
        deadline: Date.now() + (this.amqpOptions.publishTimeoutMs ?? 60_000),
        resolve,
        reject,
        returned: false,
        nacks: 0,
      });
    });
    this.counters.deadLettered++;
    this.emit('dead-lettered', { reason, sourceQueue, at, content });
  }

  /** Connects and rebuilds everything a connection carries: topology, publishers, consumers. */
  private async establish(): Promise<void> {
    const connection = await this.connectFn(this.amqpOptions.url);
    try {
      connection.on('error', (error: Error) => {
        this.logger.warn('RabbitMQ connection error', { error: error.message });
      });
      const control = await connection.createChannel();
      control.on('error', (error: Error) => {
        this.logger.warn('RabbitMQ channel error', { error: error.message });
      });
      await control.assertQueue(this.deadLetterQueue, queueArguments({ class: DeliveryClass.Durable }, this.options.telemetryMaxLength));
      await control.assertExchange(TOPIC_EXCHANGE, 'topic', { durable: true });
      for (const [queue, options] of this.declared) {
        await control.assertQueue(queue, queueArguments(options, this.options.telemetryMaxLength));
      }
      await control.close();
      const durableChannel = await connection.createConfirmChannel();
      const telemetryChannel = await connection.createConfirmChannel();
      for (const channel of [durableChannel, telemetryChannel]) {
        channel.on('error', (error: Error) => {
          this.logger.warn('RabbitMQ publish channel error', { error: error.message });
        });
      }
      for (const consumer of this.consumers) await consumer.start(connection);
      if (this.closing) {
        await connection.close().catch(() => undefined);
        throw new KrakenError(ErrorCode.Closed, 'broker closed while connecting');
      }
      this.connection = connection;
      connection.once('close', (error?: Error) => {
        this.onConnectionLost(connection, error);
      });
      // a channel closed by the server (e.g. an unknown exchange) would strand its publisher
      durableChannel.once('close', () => {
        if (this.connection === connection) this.dropConnection(connection, 'durable publish channel closed');
      });
      telemetryChannel.once('close', () => {
        if (this.connection === connection) this.dropConnection(connection, 'telemetry publish channel closed');
      });
      this.durable.attach(durableChannel);
      this.telemetry.attach(telemetryChannel);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    this.logger.info('connected to RabbitMQ', { url: redactUrl(this.amqpOptions.url) });
    this.emit('connected');
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake();
  }

  private onConnectionLost(connection: ChannelModel, error: Error | undefined): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.durable.detach();
    this.telemetry.detach();
    for (const consumer of this.consumers) consumer.detach();
    if (this.closing) return;
    const reason = new KrakenError(ErrorCode.Unavailable, `lost the RabbitMQ connection: ${error?.message ?? 'closed by the server'}`, { cause: error });
    this.logger.warn('RabbitMQ connection lost; reconnecting', { error: reason.message });
    this.emit('disconnected', reason);
    this.reconnecting ??= this.reconnect().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private dropConnection(connection: ChannelModel, why: string): void {
    this.logger.warn(`${why}; reconnecting`);
    connection.close().catch(() => undefined);
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      await sleep(this.backoff(attempt));
      if (this.isClosing()) return;
      try {
        await this.establish();
        this.counters.reconnects++;
        return;
      } catch (error) {
        this.logger.debug('reconnect attempt failed', { attempt, error: describe(error) });
      }
    }
  }

  private backoff(attempt: number): number {
    const initial = this.amqpOptions.reconnectInitialDelayMs ?? 100;
    const factor = this.amqpOptions.reconnectFactor ?? 2;
    const max = this.amqpOptions.reconnectMaxDelayMs ?? 5_000;
    const base = Math.min(max, initial * factor ** (attempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  /** The live connection, waiting for a reconnect if there is none right now. */
  private connected(): Promise<ChannelModel> {
    if (this.connection) return Promise.resolve(this.connection);
    return new Promise((resolve, reject) => {
      this.connectedWaiters.push((error) => {
        if (error) reject(error);
        else if (this.connection) resolve(this.connection);
        else reject(new KrakenError(ErrorCode.Unavailable, 'not connected to RabbitMQ'));
      });
    });
  }

  private failConnectedWaiters(error: KrakenError): void {
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake(error);
  }

  /** Runs a topology operation on a throwaway channel: a refused declaration closes only that channel. */
  private async withChannel<T>(operation: (channel: Channel) => Promise<T>, what: string): Promise<T> {
    const connection = await this.connected();
    let channel: Channel;
    try {
      channel = await connection.createChannel();
    } catch (error) {
      throw toBrokerError(error, what);
    }
    channel.on('error', () => undefined);
    try {
      return await operation(channel);
    } catch (error) {
      throw toBrokerError(error, what);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** A method, not the field, so checks after an await are not narrowed away by the compiler. */
  private isClosing(): boolean {
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new KrakenError(ErrorCode.Closed, 'broker is closed');
  }
}

function toBrokerError(error: unknown, what: string): KrakenError {
  const message = describe(error);
  if (/PRECONDITION_FAILED|inequivalent arg/i.test(message)) {
    return new KrakenError(ErrorCode.Conflict, `cannot ${what}: it exists with other settings (${message})`, { cause: error });
  }
  if (/NOT_FOUND/i.test(message)) {
    return new KrakenError(ErrorCode.NotFound, `cannot ${what}: it does not exist (declare it first)`, { cause: error });
  }
  return new KrakenError(ErrorCode.Unavailable, `cannot ${what}: ${message}`, { cause: error });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
