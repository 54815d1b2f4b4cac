import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import { MessageType, createMessage } from '@kraken/messages';
import type { OrchestratorStore } from '../store/orchestrator-store.js';
import { changesetToBody } from './changeset-codec.js';
import { STATE_TOPIC } from './topics.js';

export interface StatePublisherOptions {
  broker: Broker;
  store: OrchestratorStore;
  nodeId: string;
  epoch: () => number;
  logger: Logger;
}

/**
 * Publishes every committed change of the leader's store, in commit order, for the standbys'
 * copies. durable() resolves once everything committed so far is confirmed by the broker: an API
 * write answered after it survives the leader (the standbys will have it).
 */
export class StatePublisher {
  private last: Promise<void> = Promise.resolve();
  /**
   * The first change the broker did not confirm since the last one it did. Standbys find the gap
   * at the next confirmed change and take a snapshot from this leader, which has it; until then
   * it lives on this machine only.
   */
  private unconfirmed: { seq: number; error: string } | undefined;
  private readonly stopListening: () => void;

  constructor(options: StatePublisherOptions) {
    this.stopListening = options.store.changes.onCommit((changeset) => {
      let message;
      try {
        message = createMessage(MessageType.StateChange, changesetToBody(changeset), { from: options.nodeId, epoch: options.epoch() });
      } catch (error) {
        // too big for one message: standbys see the gap and take a new snapshot
        options.logger.warn('a change of the store is too big to send; standbys will resynchronise', { seq: changeset.seq, error: toKrakenError(error).message });
        return;
      }
      // sent at once (the broker keeps the order of publishes); `last` only tracks the confirms
      const confirmed = options.broker.publishTopic(STATE_TOPIC, message).then(
        () => {
          if (this.unconfirmed !== undefined && this.unconfirmed.seq < changeset.seq) this.unconfirmed = undefined;
        },
        (error: unknown) => {
          // a standby that misses it sees a gap and takes a new snapshot
          const reason = toKrakenError(error).message;
          options.logger.warn('a change of the store did not reach the broker; standbys will resynchronise', { seq: changeset.seq, error: reason });
          this.unconfirmed ??= { seq: changeset.seq, error: reason };
        },
      );
      this.last = Promise.all([this.last, confirmed]).then(() => undefined);
    });
  }

  /** Resolves once every change committed so far is confirmed by the broker, or failed and logged. */
  settled(): Promise<void> {
    return this.last;
  }

  /**
   * Resolves once every change committed so far is confirmed by the broker; rejects (Unavailable)
   * when one of them was not, and no later change was confirmed since: it is on this leader only,
   * and whoever asked must not be told it would survive this machine.
   */
  async durable(): Promise<void> {
    await this.last;
    const missing = this.unconfirmed;
    if (missing === undefined) return;
    throw new KrakenError(
      ErrorCode.Unavailable,
      `done on the leader, but the broker did not confirm change ${String(missing.seq)} for the standbys (${missing.error}): it would be lost with this leader until a later change reaches them. Check the RabbitMQ cluster: a queue without a majority of its nodes refuses messages`,
    );
  }

  async close(): Promise<void> {
    this.stopListening();
    await this.last;
  }
}
