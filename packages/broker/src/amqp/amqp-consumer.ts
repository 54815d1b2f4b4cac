import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Logger } from '@kraken/common';
import { settlesWithin } from '@kraken/common';
import type { MessageHandler } from '../broker.js';
import type { DeliveryProcessor } from '../delivery-processor.js';

export interface ConsumerTarget {
  /** Resolves the queue to consume on this connection (a subscription makes a fresh private queue). */
  prepare(connection: ChannelModel, channel: Channel): Promise<string>;
}

/**
 * One consumer on its own channel, so its prefetch is its own and a channel error here cannot
 * stop other consumers. Restarted on every new connection until cancelled.
 */
export class AmqpConsumer {
  private channel: Channel | undefined;
  private cancelled = false;
  private currentQueue: string;
  /** Failures seen by this process per message id, for queues without x-delivery-count (classic). */
  private readonly localFailures = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly target: ConsumerTarget,
    private readonly handler: MessageHandler,
    private readonly prefetch: number,
    private readonly processor: DeliveryProcessor,
    private readonly deadLetter: (content: Buffer, reason: string, sourceQueue: string) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.currentQueue = name;
  }

  get queue(): string {
    return this.currentQueue;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  async start(connection: ChannelModel): Promise<void> {
    if (this.cancelled) return;
    const channel = await connection.createChannel();
    channel.on('error', (error: Error) => {
      this.logger.warn('consumer channel error', { queue: this.currentQueue, error: error.message });
    });
    this.channel = channel;
    this.currentQueue = await this.target.prepare(connection, channel);
    await channel.prefetch(this.prefetch);
    await channel.consume(
      this.currentQueue,
      (delivery) => {
        if (delivery === null) {
          // the server cancelled us (queue deleted); the next reconnect re-declares and resumes
          this.logger.warn('consumer cancelled by RabbitMQ', { queue: this.currentQueue });
          return;
        }
        this.onDelivery(channel, delivery);
      },
      { noAck: false },
    );
  }

  /** The connection is gone; unacked messages return to the queue on RabbitMQ's side. */
  detach(): void {
    this.channel = undefined;
  }

  /**
   * Stops for good. Resolves false when RabbitMQ did not confirm the channel's close within
   * `timeoutMs` (the connection is then not trustworthy; the caller decides what to do with it).
   */
  async cancel(timeoutMs: number): Promise<boolean> {
    this.cancelled = true;
    const channel = this.channel;
    this.channel = undefined;
    if (channel === undefined) return true;
    // a channel whose connection died meanwhile never answers close(): its 'close' event says it is gone
    const gone = new Promise<void>((resolve) => {
      channel.once('close', () => {
        resolve();
      });
    });
    // closing the channel (not just basic.cancel) returns unacked messages to the queue now
    return settlesWithin(Promise.race([channel.close(), gone]), timeoutMs);
  }

  private onDelivery(channel: Channel, delivery: ConsumeMessage): void {
    const messageId = typeof delivery.properties.messageId === 'string' ? delivery.properties.messageId : undefined;
    const headerCount = Number((delivery.properties.headers ?? {})['x-delivery-count'] ?? 0);
    const localCount = messageId === undefined ? 0 : (this.localFailures.get(messageId) ?? 0);
    const deliveryCount = Math.max(headerCount + 1, localCount + 1, delivery.fields.redelivered ? 2 : 1);
    const stillOurs = () => this.channel === channel;
    const settlement = {
      ack: () => {
        if (messageId !== undefined) this.localFailures.delete(messageId);
        if (stillOurs()) safely(() => {
            channel.ack(delivery);
          });
      },
      requeue: () => {
        if (messageId !== undefined) this.rememberFailure(messageId, localCount + 1);
        if (stillOurs()) safely(() => {
            channel.nack(delivery, false, true);
          });
      },
      deadLetter: async (reason: string) => {
        if (messageId !== undefined) this.localFailures.delete(messageId);
        await this.deadLetter(delivery.content, reason, this.currentQueue);
        if (stillOurs()) safely(() => {
            channel.ack(delivery);
          });
      },
    };
    const publisher = typeof delivery.properties.userId === 'string' ? delivery.properties.userId : undefined;
    const raw = { queue: this.currentQueue, content: delivery.content, deliveryCount, redelivered: delivery.fields.redelivered, publisher };
    this.processor.process(raw, this.handler, settlement).catch((error: unknown) => {
      // dead-lettering failed (connection lost): the message stays unacked and comes back
      this.logger.warn('could not settle a delivery; it will be redelivered', { queue: this.currentQueue, error: String(error) });
    });
  }

  private rememberFailure(messageId: string, count: number): void {
    this.localFailures.set(messageId, count);
    if (this.localFailures.size > 10_000) {
      const oldest = this.localFailures.keys().next().value;
      if (oldest !== undefined) this.localFailures.delete(oldest);
    }
  }
}

function safely(settle: () => void): void {
  try {
    settle();
  } catch {
    // the channel closed between delivery and settlement: RabbitMQ requeues the message itself
  }
}
