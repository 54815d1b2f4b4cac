import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { Agent, fetch } from 'undici';
import { pipeline } from 'node:stream/promises';
import type { Broker } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError, withTimeout } from '@kraken/common';
import { LeaderLease, StateFollower, adoptSecrets, stateQueueOf } from '@kraken/orchestrator';
import type { DataKey } from '@kraken/orchestrator';
import type { ClusterStatus } from '@kraken/rabbitmq';
import type { Executor } from '../run/executor.js';
import type { PromotionReport } from './control-executor.js';
import { LEASE_TIMINGS } from './lease-executor.js';

export interface StandbyExecutorOptions {
  nodeId: string;
  dataDir: string;
  /** Connected as a user that may declare and consume the standby's queue (the cluster's admin). */
  broker: Broker;
  /** The leader's API now, for snapshots (after a takeover, the new leader's). */
  leaderUrl: () => string;
  /** The cluster CA, which a leader's https API is trusted by. Undefined: plain HTTP. */
  clusterCa?: string | undefined;
  joinToken: string;
  /** The cluster's data key, from the membership grant: the copy's secrets are sealed with it. */
  dataKey: DataKey;
  /**
   * Sets up what a leader runs (orchestrator on the copy of the store, API, announcement) and
   * returns it; `mayAct` says whether this agent still holds the lease.
   */
  takeOver: (mayAct: () => boolean) => Promise<Executor[]>;
  /** This agent led and lost the lease: it must start again as a standby of the new leader. */
  onStepDown: (why: string) => void;
  /** This agent's own member of the cluster's RabbitMQ cluster (ManagedRabbit). */
  brokerNode: { readonly nodeName: string; readMembers(): Promise<ClusterStatus>; refoundAlone(): Promise<string[]> };
  logger: Logger;
}

/** How long `kraken promote` waits for the takeover once the broker is this node alone. */
const PROMOTION_TIMEOUT_MS = 120_000;
/**
 * How long a standby that won the lease may take to apply what waits in its queue before it
 * leads: a backlog of thousands of changes (a standby that fell behind under load) applies in a
 * few seconds. Past it, the takeover fails and the agent starts again rather than lose writes.
 */
const CATCH_UP_TIMEOUT_MS = 30_000;

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
  private promoting = false;
  /** Resolves once this standby leads (took over), however it came to. */
  private readonly tookOver: Promise<void>;
  private markTookOver!: () => void;

  constructor(private readonly options: StandbyExecutorOptions) {
    this.tookOver = new Promise((resolve) => {
      this.markTookOver = resolve;
    });
  }

  async setup(): Promise<void> {
    const { nodeId, dataDir, broker, logger } = this.options;
    this.follower = await StateFollower.start({
      broker,
      queue: stateQueueOf(nodeId),
      dataDir,
      dataKey: this.options.dataKey,
      fetchSnapshot: (file) => this.fetchSnapshot(file),
      logger: logger.child({ component: 'standby' }),
    });
    // kept beside the copy, as the leader keeps them: started again while no leader answers, this
    // agent leads with the copy, whose secrets open only with this key
    const secrets = this.follower.clusterSecrets();
    if (secrets !== undefined) adoptSecrets(dataDir, secrets, this.options.dataKey);
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
      // every change the former leader had confirmed into this standby's queue, applied first: it
      // answered those writes, so leading without them would lose them
      await this.follower?.catchUp(CATCH_UP_TIMEOUT_MS);
      if (this.follower !== undefined) logger.info('the copy of the store caught up with its queue', { copyAt: this.follower.seq, tookMs: Date.now() - since });
      // kept until this executor stops: it drops what comes to the queue while this agent leads
      await this.follower?.closeCopy();
      const lease = this.lease;
      this.leading = await this.options.takeOver(() => lease?.holds() ?? false);
      logger.warn('took over as the orchestrator', { tookMs: Date.now() - since });
      this.markTookOver();
    } catch (error) {
      logger.error('could not take over as the orchestrator; starting again', { error: toKrakenError(error).message });
      this.options.onStepDown(`the takeover failed: ${toKrakenError(error).message}`);
    }
  }

  /**
   * `kraken promote`: with two machines that may lead there is no majority, so when the leader's
   * machine is gone nothing takes over on its own. On request, this standby makes its RabbitMQ node
   * a cluster of one (users and queues kept, queued messages dropped), which gives it the lease, and
   * takes over with its copy of the state. Refused while the other machine's node still runs, and
   * in clusters of three or more, where a standby takes over on its own.
   */
  async promoteOnRequest(): Promise<PromotionReport> {
    const { nodeId, brokerNode, logger } = this.options;
    if (this.leading.length > 0) throw new KrakenError(ErrorCode.Conflict, `this agent (${nodeId}) leads the cluster already`);
    if (this.promoting) throw new KrakenError(ErrorCode.Conflict, 'this agent is being promoted already');
    const { members, running } = await brokerNode.readMembers();
    const others = members.filter((node) => node !== brokerNode.nodeName);
    if (others.length >= 2) {
      throw new KrakenError(
        ErrorCode.Conflict,
        `this cluster has ${members.length} machines that may lead: while most of them run, a standby takes over on its own (kraken promote is for a cluster of two). Not running: ${members.filter((node) => !running.includes(node)).join(', ') || 'none'}`,
      );
    }
    const [other] = others;
    if (other === undefined)
      throw new KrakenError(
        ErrorCode.Conflict,
        "this agent's RabbitMQ node is a cluster of one already: there is no other machine to go on without",
      );
    if (running.includes(other)) {
      throw new KrakenError(
        ErrorCode.Conflict,
        `the other machine's RabbitMQ node (${other}) still runs, so that machine is not down: stop its agent first (or wait until it is seen gone, about 20 s after it went away). Promoting beside a live leader would make two`,
      );
    }
    this.promoting = true;
    const since = Date.now();
    try {
      logger.warn('promoting this standby on request: the cluster goes on without the other machine', {
        other,
        copyAt: this.follower?.seq,
      });
      const leftOut = await brokerNode.refoundAlone();
      // the lease's queue is empty now and only this agent consumes it: its own ticks make it lead
      await withTimeout(this.tookOver, PROMOTION_TIMEOUT_MS, () => {
        throw new KrakenError(
          ErrorCode.Timeout,
          `this agent did not take over within ${PROMOTION_TIMEOUT_MS / 1000} s of its RabbitMQ node going on alone; see its log`,
        );
      });
      return { nodeId, leftOut, tookMs: Date.now() - since };
    } finally {
      this.promoting = false;
    }
  }

  private async fetchSnapshot(file: string): Promise<void> {
    const leaderUrl = this.options.leaderUrl();
    const url = new URL('/replication/snapshot', leaderUrl);
    const { clusterCa } = this.options;
    const dispatcher = clusterCa === undefined ? undefined : new Agent({ connect: { ca: clusterCa } });
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${this.options.joinToken}` },
        signal: AbortSignal.timeout(120_000),
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      if (!response.ok || response.body === null) {
        throw new KrakenError(ErrorCode.Unavailable, `the leader at ${leaderUrl} gave no snapshot of its store: HTTP ${String(response.status)}`);
      }
      await pipeline(Readable.fromWeb(response.body), createWriteStream(file, { mode: 0o600 }));
    } finally {
      await dispatcher?.close();
    }
  }
}
