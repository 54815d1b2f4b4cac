import type { ConfirmChannel, Message as AmqpMessage, Options } from 'amqplib';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, withTimeout } from '@kraken/common';
import { Fifo } from './fifo.js';

export interface PendingPublish {
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: Options.Publish & { messageId: string; type: string };
  deadline: number;
  resolve: () => void;
  reject: (error: KrakenError) => void;
  /** The broker could not route it (mandatory publish to a missing queue). */
  returned: boolean;
  nacks: number;
}

export interface PublisherHooks {
  onConfirmed(pending: PendingPublish): void;
  onDropped(pending: PendingPublish, reason: string): void;
}

/**
 * Sends on one confirm channel and settles each publish by the broker's confirm.
 *
 * Durable mode: nothing is lost while the process lives. Messages wait in the outbox while
 * disconnected, and messages in flight when the channel died are resent after the reconnect
 * (at-least-once: consumers skip duplicates by message id). A publish fails only after its
 * deadline or when the outbox is full.
 *
 * Lossy mode (telemetry): never blocks or buffers. With no channel, a backed-up socket, a full
 * queue (broker nack) or an unroutable message, the message is dropped and reported.
 */
export class ConfirmedPublisher {
  private channel: ConfirmChannel | undefined;
  private readonly outbox = new Fifo<PendingPublish>();
  private readonly inFlight = new Set<PendingPublish>();
  private waitingForDrain = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly mode: 'durable' | 'lossy',
    private readonly options: { maxPending: number; maxNacks: number; logger: Logger },
    private readonly hooks: PublisherHooks,
  ) {}

  get pending(): number {
    return this.outbox.length + this.inFlight.size;
  }

  attach(channel: ConfirmChannel): void {
    this.channel = channel;
    this.waitingForDrain = false;
    channel.on('return', (returned: AmqpMessage) => {
      // returns are rare (a missing queue): a scan is cheaper than indexing every publish
      const id = returned.properties.messageId as unknown;
      for (const pending of this.inFlight) {
        if (pending.properties.messageId === id) pending.returned = true;
      }
    });
    channel.on('drain', () => {
      if (channel !== this.channel) return;
      this.waitingForDrain = false;
      this.flush();
    });
    this.flush();
  }

  /** The channel is gone (connection lost): resend what it had not confirmed once a new one attaches. */
  detach(): void {
    this.channel = undefined;
    this.waitingForDrain = false;
    const unconfirmed = [...this.inFlight];
    this.inFlight.clear();
    if (this.mode === 'durable') {
      this.outbox.unshiftAll(unconfirmed);
    } else {
      for (const pending of unconfirmed) this.drop(pending, 'connection lost before confirm');
    }
    this.notifyIfIdle();
  }

  send(pending: PendingPublish): void {
    if (this.mode === 'lossy') {
      if (!this.channel) this.drop(pending, 'not connected');
      else if (this.waitingForDrain) this.drop(pending, 'sender backed up');
      else this.write(this.channel, pending);
      return;
    }
    if (this.pending >= this.options.maxPending) {
      pending.reject(
        new KrakenError(ErrorCode.Unavailable, `broker outbox full (${this.options.maxPending} unconfirmed messages): RabbitMQ is unreachable or too slow`),
      );
      return;
    }
    this.outbox.push(pending);
    this.flush();
  }

  /** Fails publishes whose deadline passed (a durable publish waits at most that long for RabbitMQ). */
  expire(now: number): void {
    const expired = this.outbox.removeWhere((pending) => pending.deadline <= now);
    for (const pending of this.inFlight) {
      if (pending.deadline <= now) {
        this.inFlight.delete(pending);
        expired.push(pending);
      }
    }
    for (const pending of expired) {
      pending.reject(new KrakenError(ErrorCode.Timeout, `publish of ${pending.properties.type} ${pending.properties.messageId} to ${pending.routingKey} not confirmed in time`));
    }
    if (expired.length > 0) this.notifyIfIdle();
  }

  /** Resolves when nothing is waiting or in flight, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.pending === 0) return;
    await withTimeout(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), timeoutMs, () => undefined);
  }

  failAll(error: KrakenError): void {
    const all = [...this.outbox.drainAll(), ...this.inFlight];
    this.inFlight.clear();
    for (const pending of all) pending.reject(error);
    this.notifyIfIdle();
  }

  private flush(): void {
    const channel = this.channel;
    while (channel && !this.waitingForDrain && this.outbox.length > 0) {
      const pending = this.outbox.shift();
      if (pending) this.write(channel, pending);
    }
  }

  private write(channel: ConfirmChannel, pending: PendingPublish): void {
    pending.returned = false;
    this.inFlight.add(pending);
    let writable: boolean;
    try {
      writable = channel.publish(pending.exchange, pending.routingKey, pending.content, pending.properties, (error: unknown) => {
        this.onConfirm(channel, pending, error);
      });
    } catch (error) {
      // amqplib throws when the channel closed under us; the close handler will detach and resend
      this.options.logger.debug('publish on a closing channel', { error: String(error) });
      return;
    }
    if (!writable) this.waitingForDrain = true;
  }

  private onConfirm(channel: ConfirmChannel, pending: PendingPublish, error: unknown): void {
    // A confirm from a channel we already replaced: detach() has taken care of the message.
    if (channel !== this.channel) return;
    // amqplib fails callbacks with "channel closed" when the connection drops; those messages stay
    // in flight until detach() moves them to the outbox, so only a real broker nack counts here.
    if (error !== null && error !== undefined && !isBrokerNack(error)) return;
    if (!this.inFlight.delete(pending)) return;
    if (error !== null && error !== undefined) {
      // the broker refused it: a full telemetry queue (reject-publish) or an internal error
      if (this.mode === 'lossy') {
        this.drop(pending, 'queue full');
      } else if (++pending.nacks < this.options.maxNacks) {
        this.outbox.push(pending);
        this.flush();
      } else {
        pending.reject(
          new KrakenError(
            ErrorCode.Unavailable,
            `cannot publish ${pending.properties.type} to ${pending.exchange === '' ? 'queue' : 'topic'} ${pending.routingKey}: RabbitMQ refused it ${pending.nacks} times (a full bounded queue refuses new messages; so does a quorum queue without a majority of its members running)`,
          ),
        );
      }
    } else if (pending.returned) {
      if (this.mode === 'lossy') this.drop(pending, 'no such queue');
      else pending.reject(new KrakenError(ErrorCode.NotFound, `cannot publish to queue ${pending.routingKey}: it does not exist (declare it first)`));
    } else {
      this.hooks.onConfirmed(pending);
      pending.resolve();
    }
    this.notifyIfIdle();
  }

  private drop(pending: PendingPublish, reason: string): void {
    this.inFlight.delete(pending);
    this.hooks.onDropped(pending, reason);
    pending.resolve();
  }

  private notifyIfIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function isBrokerNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}
