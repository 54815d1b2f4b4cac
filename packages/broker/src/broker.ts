import type { KrakenError } from '@kraken/common';
import type { DeliveryClass, Message } from '@kraken/messages';

/**
 * The one interface every Kraken component talks through. Two implementations keep the same
 * semantics: AmqpBroker (RabbitMQ, for clusters) and MemoryBroker (in process, for a single
 * node with no RabbitMQ and for tests).
 *
 * Delivery classes (from @kraken/messages' deliveryClassOf):
 * - durable (commands, status): persistent, publisher-confirmed, manually acked, redelivered
 *   after a consumer crash, dead-lettered after too many handler failures.
 * - telemetry (heartbeats, logs, stats): bounded queues; when full or disconnected, messages
 *   are dropped and counted instead of blocking the sender.
 */
export interface Broker {
  /** Creates the queue if needed (idempotent); declared queues are re-declared after a reconnect. */
  declareQueue(queue: string, options?: QueueOptions): Promise<void>;
  /**
   * Sends to a queue. Durable messages resolve once the broker has confirmed them (they survive a
   * broker restart); telemetry resolves once sent or dropped (see stats().dropped).
   */
  publish(queue: string, message: Message): Promise<void>;
  /** Sends to every current subscriber whose pattern matches `topic` (`*` one word, `#` any). */
  publishTopic(topic: string, message: Message): Promise<void>;
  /** Consumes a declared queue until the subscription is cancelled or the broker closed. */
  consume(queue: string, handler: MessageHandler, options?: ConsumeOptions): Promise<Subscription>;
  /** A private, temporary queue bound to topics matching `pattern` (gone when cancelled). */
  subscribe(pattern: string, handler: MessageHandler, options?: ConsumeOptions): Promise<Subscription>;
  /**
   * How many consumers a queue has now, over every connection (this broker's and others'); 0 when
   * nobody consumes it; NOT_FOUND for a queue that does not exist. A node consumes its own queue
   * for as long as its connection lives, so this tells a silent node whose link is slow (still
   * connected) from one that is gone (the broker dropped its connection and its consumer).
   * RabbitMQ's count follows a consume or a cancel shortly after, not at once.
   */
  consumerCount(queue: string): Promise<number>;
  /**
   * How many messages wait in the queue to be delivered (not those delivered and not yet acked):
   * with no consumer of its own in flight, 0 means a consumer has had every message published
   * to it so far. NotFound for a queue that does not exist.
   */
  readyCount(queue: string): Promise<number>;
  /** Removes and returns up to `max` dead letters, oldest first. */
  takeDeadLetters(max?: number): Promise<DeadLetter[]>;
  stats(): BrokerStats;
  on<E extends keyof BrokerEvents>(event: E, listener: (...args: BrokerEvents[E]) => void): this;
  off<E extends keyof BrokerEvents>(event: E, listener: (...args: BrokerEvents[E]) => void): this;
  /** Stops consuming, waits for in-flight confirms (bounded), and disconnects. Idempotent. */
  close(): Promise<void>;
}

export interface QueueOptions {
  /** @default 'durable' */
  class?: DeliveryClass;
  /** Telemetry only: messages kept before new ones are refused and counted as dropped. @default 100_000 */
  maxLength?: number;
  /**
   * Topic patterns (as subscribe() takes) this queue also receives publishTopic() messages for. Unlike
   * a subscription's private queue it keeps them while nobody consumes: a follower that was away
   * catches up. Bindings add up across declarations. @default []
   */
  bindings?: readonly string[];
  /**
   * Durable queues only: one consumer at a time gets every message; when it goes away the next
   * (in the order they started) takes over. What a leader election is built on. @default false
   */
  singleActiveConsumer?: boolean;
}

export interface ConsumeOptions {
  /** Unacknowledged messages in flight to this consumer. @default 32 */
  prefetch?: number;
}

/**
 * What a handler receives. A handler that returns (or resolves) without settling the delivery
 * acks it; one that throws nacks it for redelivery, up to `maxDeliveries`, then it is
 * dead-lettered with the error as reason. `ack`/`nack` let a handler settle earlier or decide.
 */
export interface Delivery {
  readonly message: Message;
  readonly queue: string;
  /** 1 on first delivery; counts redeliveries (after a nack or a consumer that died). */
  readonly deliveryCount: number;
  readonly redelivered: boolean;
  /**
   * The broker user that published it, as RabbitMQ validated it (a message cannot claim another
   * user's id). Undefined in process and for messages published without one.
   */
  readonly publisher?: string;
  ack(): void;
  /** `requeue: false` dead-letters the message with `reason`. @default { requeue: true } */
  nack(options?: { requeue?: boolean; reason?: string }): void;
}

export type MessageHandler = (delivery: Delivery) => Promise<void> | void;

export interface Subscription {
  readonly queue: string;
  cancel(): Promise<void>;
}

export interface DeadLetter {
  /** Why it was dead-lettered: a decode error or the handler's last error. */
  reason: string;
  /** Queue it was consumed from. */
  sourceQueue: string;
  at: string;
  /** The original bytes, untouched (may not be valid JSON). */
  content: Buffer;
}

export interface BrokerStats {
  published: number;
  /** Telemetry messages dropped because a queue was full, the sender was backed up or disconnected. */
  dropped: number;
  /** Messages that failed to decode (each is also dead-lettered). */
  decodeFailures: number;
  deadLettered: number;
  /** Redeliveries of messages already handled, skipped by message id. */
  duplicatesSkipped: number;
  handlerFailures: number;
  /** Connections restored after a loss. */
  reconnects: number;
  connected: boolean;
  /** Failed attempts to reconnect since the connection was lost (0 while connected). */
  reconnectAttempts: number;
  /** While disconnected: since when (ISO time). */
  disconnectedSince?: string;
  /** While disconnected: for how long so far. */
  disconnectedMs?: number;
  /** While disconnected: why the connection was lost, or why the last attempt to restore it failed. */
  lastError?: string;
}

export type BrokerEvents = {
  /** Connected, or reconnected after `disconnectedMs` without a connection. */
  connected: [info: { reconnected: boolean; disconnectedMs: number | undefined }];
  disconnected: [error: KrakenError];
  /** An attempt to reconnect failed (refused, or abandoned at its deadline); the next one follows. */
  'reconnect-failed': [info: { attempt: number; error: KrakenError; disconnectedMs: number }];
  'dead-lettered': [deadLetter: DeadLetter];
  dropped: [info: { queue: string; type: string; reason: string }];
  /** A handler threw; the message will be redelivered or dead-lettered. */
  'handler-error': [error: KrakenError, info: { queue: string; messageId: string; deliveryCount: number }];
};
