import type { KrakenError } from '@kraken/common';
import { toKrakenError } from '@kraken/common';
import type { Message } from '@kraken/messages';
import { decode } from '@kraken/messages';
import type { Delivery, MessageHandler } from './broker.js';
import type { CompiledBrokerOptions } from './options.js';
import { RecentIds } from './recent-ids.js';

/** How a transport settles one raw delivery; each implementation provides its own. */
export interface Settlement {
  ack(): void;
  requeue(): void;
  /** Stores the original bytes with `reason` in the dead-letter queue, then removes the original. */
  deadLetter(reason: string): Promise<void>;
}

export interface RawDelivery {
  queue: string;
  content: Buffer;
  deliveryCount: number;
  redelivered: boolean;
  /** The publisher's broker user, as the broker validated it (undefined when it does not say). */
  publisher?: string | undefined;
}

export interface ProcessorHooks {
  onDecodeFailure(): void;
  onDuplicate(): void;
  onHandlerError(error: KrakenError, info: { queue: string; messageId: string; deliveryCount: number }): void;
}

/**
 * The consume semantics both brokers share: decode at the boundary (poison -> dead letter, never
 * a crash or an endless requeue), skip already-handled duplicates, run the handler, and settle
 * by its outcome.
 */
export class DeliveryProcessor {
  private readonly handled: RecentIds;
  /** Ids being handled right now: a duplicate arriving meanwhile is the same work. */
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly options: CompiledBrokerOptions,
    private readonly hooks: ProcessorHooks,
  ) {
    this.handled = new RecentIds(options.dedupeWindow);
  }

  async process(raw: RawDelivery, handler: MessageHandler, settlement: Settlement): Promise<void> {
    const decoded = decode(raw.content, { maxBytes: this.options.maxMessageBytes });
    if (!decoded.ok) {
      this.hooks.onDecodeFailure();
      this.options.logger.warn('dead-lettering a message that failed to decode', {
        queue: raw.queue,
        reason: decoded.error.reason,
        error: decoded.error.message,
      });
      await settlement.deadLetter(`${decoded.error.reason}: ${decoded.error.message}`);
      return;
    }
    const message = decoded.value;
    if (this.handled.has(message.id) || this.inProgress.has(message.id)) {
      // If the copy in progress fails, it is redelivered itself; this one adds nothing.
      this.hooks.onDuplicate();
      settlement.ack();
      return;
    }
    this.inProgress.add(message.id);
    try {
      await this.run(raw, message, handler, settlement);
    } finally {
      this.inProgress.delete(message.id);
    }
  }

  private async run(raw: RawDelivery, message: Message, handler: MessageHandler, settlement: Settlement): Promise<void> {

    let settled: 'ack' | 'requeue' | 'dead' | undefined;
    let deadLetterDone: Promise<void> | undefined;
    const settle = (outcome: 'ack' | 'requeue' | 'dead', reason?: string): void => {
      if (settled !== undefined) return;
      settled = outcome;
      if (outcome === 'ack') {
        this.handled.add(message.id);
        settlement.ack();
      } else if (outcome === 'requeue') {
        settlement.requeue();
      } else {
        this.handled.add(message.id);
        deadLetterDone = settlement.deadLetter(reason ?? 'rejected by handler');
      }
    };
    const delivery: Delivery = {
      message,
      queue: raw.queue,
      deliveryCount: raw.deliveryCount,
      redelivered: raw.redelivered,
      ...(raw.publisher === undefined ? {} : { publisher: raw.publisher }),
      ack: () => {
        settle('ack');
      },
      nack: (options) => {
        if (options?.requeue === false) settle('dead', options.reason);
        else settle('requeue');
      },
    };

    try {
      await handler(delivery);
      settle('ack');
    } catch (thrown) {
      const error = toKrakenError(thrown);
      this.hooks.onHandlerError(error, { queue: raw.queue, messageId: message.id, deliveryCount: raw.deliveryCount });
      if (settled === undefined) {
        if (raw.deliveryCount >= this.options.maxDeliveries) {
          settle('dead', `handler failed ${raw.deliveryCount} times; last error: ${error.message}`);
        } else {
          settle('requeue');
        }
      }
    }
    await deadLetterDone;
  }
}
