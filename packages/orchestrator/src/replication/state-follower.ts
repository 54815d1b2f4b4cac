import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Broker, Delivery, Subscription } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { MessageType } from '@kraken/messages';
import { OrchestratorStore } from '../store/orchestrator-store.js';
import type { DataKey } from '../data-key.js';
import type { ClusterSecrets } from '../secrets.js';
import { bodyToChangeset } from './changeset-codec.js';
import { STATE_TOPIC } from './topics.js';
import { STORE_FILE } from '../store/store-file.js';

export interface StateFollowerOptions {
  /** A broker user that may declare and consume `queue` (a standby's admin user). */
  broker: Broker;
  /** This standby's own durable queue of changes (stateQueueOf(nodeId)). */
  queue: string;
  /** Where the copy lives (`orchestrator.db` in it), as the store a leader opens. */
  dataDir: string;
  /** The cluster's data key (from the membership grant): the copy's secrets are sealed with it. */
  dataKey: DataKey;
  /** Writes the leader's current snapshot (a SQLite file) to `file`. */
  fetchSnapshot(file: string): Promise<void>;
  logger: Logger;
}

/**
 * A standby's live copy of the leader's store: a snapshot, then every committed change in order
 * from its own durable queue (declared before the snapshot is taken, so nothing falls between).
 * A gap (a change too big to send, a queue lost) means a new snapshot.
 */
export class StateFollower {
  private store: OrchestratorStore | undefined;
  private subscription: Subscription | undefined;
  private chain: Promise<void> = Promise.resolve();
  private resyncs = 0;
  private refusedValue = 0;
  /** `<from>@<epoch>` of the last change refused as a former leader's. */
  private refusedTerm: string | undefined;
  /** Deliveries taken and not yet applied. */
  private pending = 0;
  /** Deliveries taken so far: a count that moved tells that one arrived meanwhile. */
  private received = 0;
  /** Set once this standby leads: what still comes is its own changes, taken and dropped. */
  private dropping = false;

  private constructor(private readonly options: StateFollowerOptions) {}

  static async start(options: StateFollowerOptions): Promise<StateFollower> {
    const follower = new StateFollower(options);
    await options.broker.declareQueue(options.queue, { bindings: [STATE_TOPIC] });
    await follower.resync();
    follower.subscription = await options.broker.consume(options.queue, (delivery) => follower.enqueue(delivery), { prefetch: 256 });
    return follower;
  }

  /** The last change the copy holds. */
  get seq(): number {
    return this.store?.changes.seq ?? 0;
  }

  /** The cluster's secrets as the leader kept them in the copy (opened with the data key). */
  clusterSecrets(): ClusterSecrets | undefined {
    return this.requireStore().clusterSecrets();
  }

  /** Changes refused as coming from an older leader term than the copy's. */
  get refused(): number {
    return this.refusedValue;
  }

  /** Snapshots taken, the first included. */
  get snapshots(): number {
    return this.resyncs;
  }

  /**
   * Resolves once the copy holds every change queued for this standby so far: none waits in its
   * queue and none taken is still being applied, twice `settleMs` apart with nothing arriving in
   * between (a delivery may be on its way while the queue reads empty). A standby that wins the
   * lease calls it before it leads, so every write the former leader answered (its changes were
   * confirmed into this queue) is in the copy it leads with. Rejects (Unavailable) after
   * `timeoutMs`: leading without them would lose them.
   */
  async catchUp(timeoutMs: number, settleMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // the received count at the last look that found nothing waiting and nothing being applied
    let quietAt: number | undefined;
    for (;;) {
      const waiting = await this.options.broker.readyCount(this.options.queue);
      const idle = waiting === 0 && this.pending === 0;
      if (idle && quietAt === this.received) {
        await this.chain;
        return;
      }
      quietAt = idle ? this.received : undefined;
      if (Date.now() >= deadline) {
        throw new KrakenError(
          ErrorCode.Unavailable,
          `the copy of the store did not catch up with its queue within ${String(timeoutMs)} ms (${String(waiting)} changes waiting, ${String(this.pending)} being applied): leading without them would lose writes the former leader answered`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, settleMs));
    }
  }

  /**
   * This standby leads now: the copy closes (the orchestrator opens the same file), and what
   * still comes to the queue, this agent's own changes as leader, is taken and dropped until
   * `stop`, so the queue does not grow while it leads. Keeping the consumer needs nothing of the
   * broker; deleting or unbinding the queue would wait on every member of the queue, and in a
   * partition that wait outlasts the connection's deadline, the lease's connection too.
   */
  async closeCopy(): Promise<void> {
    this.dropping = true;
    await this.chain;
    this.store?.close();
    this.store = undefined;
  }

  async stop(): Promise<void> {
    await this.subscription?.cancel();
    await this.chain.catch(() => undefined);
    this.store?.close();
    this.store = undefined;
  }

  /** Changes are applied one at a time, in the order they came, a resync included. */
  private enqueue(delivery: Delivery): Promise<void> {
    this.received++;
    this.pending++;
    const applied = this.chain.then(() => this.apply(delivery)).finally(() => {
      this.pending--;
    });
    this.chain = applied.catch(() => undefined);
    return applied;
  }

  private async apply(delivery: Delivery): Promise<void> {
    if (this.dropping) return;
    const { message } = delivery;
    if (message.type !== MessageType.StateChange) {
      delivery.nack({ requeue: false, reason: `${message.type} is not a change of the store (queue ${delivery.queue})` });
      return;
    }
    const changeset = bodyToChangeset(message.body);
    const epoch = this.requireStore().currentEpoch();
    if (message.epoch < epoch) {
      // a former leader (frozen or cut off, then back) must not write into the new leader's history
      const term = `${message.from}@${String(message.epoch)}`;
      // a former leader's changes come by the thousand (a standby's queue collects them while its
      // own agent led): one warning per former term, the rest at debug
      const level = term === this.refusedTerm ? 'debug' : 'warn';
      this.refusedTerm = term;
      this.options.logger[level]('refused a change from a former leader', { from: message.from, epoch: message.epoch, copyEpoch: epoch, seq: changeset.seq });
      this.refusedValue++;
      return;
    }
    try {
      this.requireStore().applyChangeset(changeset);
    } catch (error) {
      if (!(error instanceof KrakenError) || error.code !== ErrorCode.Conflict) throw error;
      this.options.logger.warn('the copy of the store missed changes; taking a new snapshot', { seq: changeset.seq, had: this.seq });
      await this.resync();
      if (changeset.seq === this.seq + 1) this.requireStore().applyChangeset(changeset);
      else if (changeset.seq > this.seq) this.options.logger.warn('dropped a change that does not follow the new snapshot either', { seq: changeset.seq, had: this.seq });
    }
  }

  /** Replaces the copy with the leader's current snapshot. */
  private async resync(): Promise<void> {
    const file = path.join(this.options.dataDir, STORE_FILE);
    const incoming = `${file}.snapshot`;
    await mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    await this.options.fetchSnapshot(incoming);
    this.store?.close();
    this.store = undefined;
    for (const stale of [`${file}-wal`, `${file}-shm`]) await rm(stale, { force: true });
    await rename(incoming, file);
    this.store = OrchestratorStore.open({ dataDir: this.options.dataDir, dataKey: this.options.dataKey, logger: this.options.logger });
    this.resyncs++;
    this.options.logger.info('the copy of the leader\'s store is at a snapshot', { seq: this.seq });
  }

  private requireStore(): OrchestratorStore {
    if (this.store === undefined) throw new KrakenError(ErrorCode.Closed, 'the copy of the store is closed');
    return this.store;
  }
}
