import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { StateFollower, stateQueueOf } from '@kraken/orchestrator';
import type { Executor } from '../run/executor.js';

export interface StandbyExecutorOptions {
  nodeId: string;
  dataDir: string;
  /** Connected as a user that may declare and consume the standby's queue (the cluster's admin). */
  broker: Broker;
  /** The leader's API, for snapshots. */
  leaderUrl: string;
  joinToken: string;
  logger: Logger;
}

/** A standby's job: keep a live copy of the leader's store (`orchestrator.db` in the data dir). */
export class StandbyExecutor implements Executor {
  readonly name = 'standby';
  private follower: StateFollower | undefined;

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
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
    await this.options.broker.close();
  }

  private async fetchSnapshot(file: string): Promise<void> {
    const url = new URL('/replication/snapshot', this.options.leaderUrl);
    const response = await fetch(url, { headers: { authorization: `Bearer ${this.options.joinToken}` }, signal: AbortSignal.timeout(120_000) });
    if (!response.ok || response.body === null) {
      throw new KrakenError(ErrorCode.Unavailable, `the leader at ${this.options.leaderUrl} gave no snapshot of its store: HTTP ${response.status}`);
    }
    await pipeline(Readable.fromWeb(response.body), createWriteStream(file, { mode: 0o600 }));
  }
}
