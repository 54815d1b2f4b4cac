import { randomUUID } from 'node:crypto';
import { ErrorCode, KrakenError, TypedEmitter } from '@kraken/common';
import type { DeliveryClass, Message } from '@kraken/messages';
import { DeliveryClass as Classes, deliveryClassOf, encode } from '@kraken/messages';
import type { Broker, BrokerEvents, BrokerStats, ConsumeOptions, DeadLetter, MessageHandler, QueueOptions, Subscription } from '../broker.js';
import type { ProcessorHooks } from '../delivery-processor.js';
import { DeliveryProcessor } from '../delivery-processor.js';
import type { BrokerCounters } from '../counters.js';
import { zeroCounters } from '../counters.js';
import type { BrokerOptions, CompiledBrokerOptions } from '../options.js';
import { compileBrokerOptions } from '../options.js';
import { topicMatches } from '../topic-pattern.js';

interface Envelope {
  content: Buffer;
  deliveryCount: number;
}

interface MemoryConsumer {
  id: string;
  handler: MessageHandler;
  /** Per consumer: two subscribers of one topic each get (and must handle) the same message id. */
  processor: DeliveryProcessor;
  prefetch: number;
  inFlight: Set<InFlight>;
}

interface InFlight {
  envelope: Envelope;
  /** Set when the consumer went away first: the message was requeued and this delivery is void. */
  orphaned: boolean;
}

class MemoryQueue {
  readonly ready: Envelope[] = [];
  readonly consumers: MemoryConsumer[] = [];
  next = 0;
  constructor(
    readonly name: string,
    readonly deliveryClass: DeliveryClass,
    readonly maxLength: number,
    readonly topicPatterns: string[] = [],
    readonly singleActiveConsumer = false,
  ) {}

  /** Only telemetry-class queues are bounded (as on RabbitMQ, where they carry x-max-length). */
  isFull(): boolean {
    return this.deliveryClass === Classes.Telemetry && this.ready.length >= this.maxLength;
  }
}

/**
 * The Broker contract in process: a single-node cluster runs on it with no RabbitMQ, and unit
 * tests use it. Messages still go through encode/decode so limits and validation match AMQP.
 */
export class MemoryBroker extends TypedEmitter<BrokerEvents> implements Broker {
  private readonly options: CompiledBrokerOptions;
  private readonly queues = new Map<string, MemoryQueue>();
  private readonly deadLetters: DeadLetter[] = [];
  private readonly processorHooks: ProcessorHooks;
  private readonly counters: BrokerCounters = zeroCounters();
  private closed = false;

  constructor(options: BrokerOptions = {}) {
    super();
    this.options = compileBrokerOptions(options);
    this.processorHooks = {
      onDecodeFailure: () => this.counters.decodeFailures++,
      onDuplicate: () => this.counters.duplicatesSkipped++,
      onHandlerError: (error, info) => {
        this.counters.handlerFailures++;
        this.emit('handler-error', error, info);
      },
    };
  }

  declareQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    return this.guard(() => this.declare(queue, options));
  }

  consumerCount(queue: string): Promise<number> {
    return this.guard(() => {
      const existing = this.queues.get(queue);
      if (existing === undefined) return Promise.reject(new KrakenError(ErrorCode.NotFound, `cannot count the consumers of queue ${queue}: it does not exist (declare it first)`));
      return Promise.resolve(existing.consumers.length);
    });
  }

  readyCount(queue: string): Promise<number> {
    return this.guard(() => {
      const existing = this.queues.get(queue);
      if (existing === undefined) return Promise.reject(new KrakenError(ErrorCode.NotFound, `cannot count the messages of queue ${queue}: it does not exist (declare it first)`));
      return Promise.resolve(existing.ready.length);
    });
  }

  private declare(queue: string, options: QueueOptions): Promise<void> {
    const deliveryClass = options.class ?? Classes.Durable;
    const existing = this.queues.get(queue);
    if (existing) {
      if (existing.deliveryClass !== deliveryClass) {
        return Promise.reject(
          new KrakenError(ErrorCode.Conflict, `queue ${queue} already exists as ${existing.deliveryClass}, not ${deliveryClass}`),
        );
      }
      for (const pattern of options.bindings ?? []) if (!existing.topicPatterns.includes(pattern)) existing.topicPatterns.push(pattern);
      return Promise.resolve();
    }
    this.queues.set(
      queue,
      new MemoryQueue(queue, deliveryClass, options.maxLength ?? this.options.telemetryMaxLength, [...(options.bindings ?? [])], options.singleActiveConsumer === true),
    );
    return Promise.resolve();
  }

  publish(queue: string, message: Message): Promise<void> {
    return this.guard(() => this.send(queue, message));
  }

  private send(queue: string, message: Message): Promise<void> {
    const content = encode(message, { maxBytes: this.options.maxMessageBytes });
    const target = this.queues.get(queue);
    if (!target) return this.unroutable(queue, message);
    if (target.isFull() && deliveryClassOf(message.type) === Classes.Durable) {
      // RabbitMQ's reject-publish refuses it too: a durable message is confirmed or fails, never dropped
      return Promise.reject(new KrakenError(ErrorCode.Unavailable, `cannot publish ${message.type} to queue ${queue}: it is full (${target.maxLength} messages)`));
    }
    this.enqueue(target, message, content);
    return Promise.resolve();
  }

  publishTopic(topic: string, message: Message): Promise<void> {
    return this.guard(() => {
      const content = encode(message, { maxBytes: this.options.maxMessageBytes });
      for (const queue of this.queues.values()) {
        if (queue.topicPatterns.some((pattern) => topicMatches(pattern, topic))) this.enqueue(queue, message, content);
      }
      return Promise.resolve();
    });
  }

  consume(queue: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Subscription> {
    return this.guard(() => this.addConsumer(queue, handler, options));
  }

  private addConsumer(queue: string, handler: MessageHandler, options: ConsumeOptions): Promise<Subscription> {
    const target = this.queues.get(queue);
    if (!target) {
      return Promise.reject(new KrakenError(ErrorCode.NotFound, `cannot consume queue ${queue}: it does not exist (declare it first)`));
    }
    const consumer: MemoryConsumer = {
      id: randomUUID(),
      handler,
      processor: new DeliveryProcessor(this.options, this.processorHooks),
      prefetch: options.prefetch ?? this.options.prefetch, inFlight: new Set() };
    target.consumers.push(consumer);
    this.dispatchSoon(target);
    return Promise.resolve({
      queue,
      cancel: () => {
        this.removeConsumer(target, consumer);
        return Promise.resolve();
      },
    });
  }

  async subscribe(pattern: string, handler: MessageHandler, options: ConsumeOptions = {}): Promise<Subscription> {
    await this.guard(() => Promise.resolve());
    const name = `kraken.subscription.${randomUUID()}`;
    this.queues.set(name, new MemoryQueue(name, Classes.Telemetry, this.options.telemetryMaxLength, [pattern]));
    const subscription = await this.consume(name, handler, options);
    return {
      queue: name,
      cancel: async () => {
        await subscription.cancel();
        this.queues.delete(name);
      },
    };
  }

  /**
   * Puts bytes on a queue without encoding them, as a foreign or broken producer would: for
   * testing how consumers treat input that is not a valid message.
   */
  injectRaw(queue: string, content: Buffer): void {
    const target = this.queues.get(queue);
    if (!target) throw new KrakenError(ErrorCode.NotFound, `queue ${queue} does not exist`);
    target.ready.push({ content, deliveryCount: 1 });
    this.dispatchSoon(target);
  }

  takeDeadLetters(max = 100): Promise<DeadLetter[]> {
    return Promise.resolve(this.deadLetters.splice(0, max));
  }

  stats(): BrokerStats {
    // in process: there is no connection to lose
    return { ...this.counters, connected: !this.closed, reconnects: 0, reconnectAttempts: 0 };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const queue of this.queues.values()) {
      for (const consumer of [...queue.consumers]) this.removeConsumer(queue, consumer);
    }
    return Promise.resolve();
  }

  private enqueue(queue: MemoryQueue, message: Message, content: Buffer): void {
    if (queue.isFull()) {
      this.drop(queue.name, message.type, 'queue full');
      return;
    }
    this.counters.published++;
    queue.ready.push({ content, deliveryCount: 1 });
    this.dispatchSoon(queue);
  }

  private unroutable(queue: string, message: Message): Promise<void> {
    if (deliveryClassOf(message.type) === Classes.Telemetry) {
      this.drop(queue, message.type, 'no such queue');
      return Promise.resolve();
    }
    return Promise.reject(new KrakenError(ErrorCode.NotFound, `cannot publish to queue ${queue}: it does not exist (declare it first)`));
  }

  private drop(queue: string, type: string, reason: string): void {
    this.counters.dropped++;
    this.emit('dropped', { queue, type, reason });
  }

  private dispatchSoon(queue: MemoryQueue): void {
    // Handlers run on a later tick, as they would with a network in between: a publisher
    // never runs consumer code inside its own call.
    setImmediate(() => {
      this.dispatch(queue);
    });
  }

  private dispatch(queue: MemoryQueue): void {
    while (queue.ready.length > 0 && queue.consumers.length > 0) {
      const consumer = this.nextConsumerWithCapacity(queue);
      if (!consumer) return;
      const envelope = queue.ready.shift();
      if (!envelope) return;
      this.deliver(queue, consumer, envelope);
    }
  }

  private nextConsumerWithCapacity(queue: MemoryQueue): MemoryConsumer | undefined {
    if (queue.singleActiveConsumer) {
      // the one that started first is active until it goes away
      const active = queue.consumers[0];
      return active !== undefined && active.inFlight.size < active.prefetch ? active : undefined;
    }
    for (let i = 0; i < queue.consumers.length; i++) {
      const consumer = queue.consumers[(queue.next + i) % queue.consumers.length];
      if (consumer && consumer.inFlight.size < consumer.prefetch) {
        queue.next = (queue.next + i + 1) % queue.consumers.length;
        return consumer;
      }
    }
    return undefined;
  }

  private deliver(queue: MemoryQueue, consumer: MemoryConsumer, envelope: Envelope): void {
    const inFlight: InFlight = { envelope, orphaned: false };
    consumer.inFlight.add(inFlight);
    const finish = (): void => {
      consumer.inFlight.delete(inFlight);
      this.dispatchSoon(queue);
    };
    const settlement = {
      ack: () => {
        if (!inFlight.orphaned) finish();
      },
      requeue: () => {
        if (inFlight.orphaned) return;
        consumer.inFlight.delete(inFlight);
        // back on the queue only after this delivery's processing has unwound, as over a network
        setImmediate(() => {
          queue.ready.push({ content: envelope.content, deliveryCount: envelope.deliveryCount + 1 });
          this.dispatch(queue);
        });
      },
      deadLetter: (reason: string) => {
        if (inFlight.orphaned) return Promise.resolve();
        this.storeDeadLetter({ reason, sourceQueue: queue.name, at: new Date().toISOString(), content: envelope.content });
        finish();
        return Promise.resolve();
      },
    };
    const raw = { queue: queue.name, content: envelope.content, deliveryCount: envelope.deliveryCount, redelivered: envelope.deliveryCount > 1 };
    consumer.processor.process(raw, consumer.handler, settlement).catch((error: unknown) => {
      this.options.logger.error('memory broker delivery failed', { queue: queue.name, error: String(error) });
    });
  }

  private removeConsumer(queue: MemoryQueue, consumer: MemoryConsumer): void {
    const index = queue.consumers.indexOf(consumer);
    if (index === -1) return;
    queue.consumers.splice(index, 1);
    // Like a closed AMQP channel: whatever the consumer had not settled goes back to the queue.
    for (const inFlight of consumer.inFlight) {
      inFlight.orphaned = true;
      queue.ready.unshift({ content: inFlight.envelope.content, deliveryCount: inFlight.envelope.deliveryCount + 1 });
    }
    consumer.inFlight.clear();
    this.dispatchSoon(queue);
  }

  private storeDeadLetter(deadLetter: DeadLetter): void {
    this.counters.deadLettered++;
    this.deadLetters.push(deadLetter);
    this.emit('dead-lettered', deadLetter);
  }

  /** Runs `operation` on an open broker, turning synchronous throws (validation) into rejections. */
  private guard<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new KrakenError(ErrorCode.Closed, 'broker is closed'));
    try {
      return operation();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
