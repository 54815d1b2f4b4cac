import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import { LeaderLease, StateFollower, stateQueueOf } from '@kraken/orchestrator';
import type { Executor } from '../run/executor.js';
import { LEASE_TIMINGS } from './lease-executor.js';

export interface StandbyExecutorOptions {
  nodeId: string;
  dataDir: string;
  /** Connected as a user that may declare and consume the standby's queue (the cluster's admin). */
  broker: Broker;
  /** The leader's API now, for snapshots (after a takeover, the new leader's). */
  leaderUrl: () => string;
  joinToken: string;
  /**
   * Sets up what a leader runs (orchestrator on the copy of the store, API, announcement) and
   * returns it; `mayAct` says whether this agent still holds the lease.
   */
  takeOver: (mayAct: () => boolean) => Promise<Executor[]>;
  /** This agent led and lost the lease: it must start again as a standby of the new leader. */
  onStepDown: (why: string) => void;
  logger: Logger;
}

/**
 * A standby: keeps a live copy of the leader's store (`orchestrator.db` in the data dir) and is a
 * candidate for the lease. When it gets the lease (the leader is gone), it stops following and takes
 * over with the copy: every change the old leader acknowledged is in it.
 */
export class StandbyExecutor implements Executor {
  readonly name = 'standby';
  private follower: StateFollower | undefined;
  private lease: LeaderLease | undefined;
  private leading: Executor[] = [];
  private stopped = false;

  constructor(private readonly options: StandbyExecutorOptions) {}

  async setup(): Promise<void> {
    const { nodeId, dataDir, broker, logger } = this.options;
    this.follower = await StateFollower.start({
      broker,
      queue: stateQueueOf(nodeId),
      dataDir,
      fetchSnapshot: (file) => this.fetchSnapshot(file),
      logger: logger.child({ component: 'standby' }),
    });
    this.lease = await LeaderLease.start({ broker, nodeId, logger, ...LEASE_TIMINGS });
    this.lease.on('leading', () => {
      void this.promote();
    });
    this.lease.on('following', (why) => {
      if (this.leading.length > 0 && !this.stopped) this.options.onStepDown(why);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.lease?.stop();
    for (const executor of this.leading.reverse()) await executor.stop().catch(() => undefined);
    this.leading = [];
    await this.follower?.stop();
    await this.options.broker.close();
  }

  private async promote(): Promise<void> {
    const { logger } = this.options;
    const since = Date.now();
    logger.warn('this standby holds the lease: taking over as the orchestrator', { copyAt: this.follower?.seq });
    try {
      await this.follower?.stop();
      this.follower = undefined;
      const lease = this.lease;
      this.leading = await this.options.takeOver(() => lease?.holds() ?? false);
      logger.warn('took over as the orchestrator', { tookMs: Date.now() - since });
    } catch (error) {
      logger.error('could not take over as the orchestrator; starting again', { error: toKrakenError(error).message });
      this.options.onStepDown(`the takeover failed: ${toKrakenError(error).message}`);
    }
  }

  private async fetchSnapshot(file: string): Promise<void> {
    const leaderUrl = this.options.leaderUrl();
    const url = new URL('/replication/snapshot', leaderUrl);
    const response = await fetch(url, { headers: { authorization: `Bearer ${this.options.joinToken}` }, signal: AbortSignal.timeout(120_000) });
    if (!response.ok || response.body === null) {
      throw new KrakenError(ErrorCode.Unavailable, `the leader at ${leaderUrl} gave no snapshot of its store: HTTP ${response.status}`);
    }
    await pipeline(Readable.fromWeb(response.body), createWriteStream(file, { mode: 0o600 }));
  }
}
