import type { Broker, Subscription } from '@kraken/broker';
import type { Clock, Logger } from '@kraken/common';
import { TypedEmitter, noopLogger, optionChecks, systemClock } from '@kraken/common';
import { MessageType } from '@kraken/messages';
import type { Message } from '@kraken/messages';
import { LEADER_TOPIC } from './leader-beacon.js';

/** Who leads the cluster, as far as this agent knows, and where its API answers. */
export interface KnownLeader {
  nodeId: string;
  apiUrl: string;
  /** Its term, once one of its beacons arrived (the leader an agent joined is known before). */
  epoch: number | undefined;
  /** When its last beacon arrived; undefined until the first. */
  heardAt: number | undefined;
  /** The running nodes of the broker (`host:port`), as its last beacon listed them. */
  brokerEndpoints?: readonly string[] | undefined;
  /** Whether anyone looks at the cluster through its API, as its last beacon said; undefined when it did not say. */
  watched?: boolean | undefined;
  /** The UDP port on its API's host where it takes pulses, as its last beacon said; undefined: it takes none. */
  pulsePort?: number | undefined;
}

export interface LeaderWatchOptions {
  /** Any connection of this agent: a worker's own credential may subscribe to the topic. */
  broker: Broker;
  /** The leader this agent joined: known before its first beacon. */
  joined?: { nodeId: string; apiUrl: string } | undefined;
  /**
   * A leader silent this long may be replaced by one of an older term: a cluster whose store was
   * lost counts its terms from 1 again, and its new leader must still become known. @default 5_000
   */
  staleAfterMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export type LeaderWatchEvents = {
  /** Another leader (or the same one at another address, in a new term, with other broker endpoints or watched or not) became known. */
  changed: [leader: KnownLeader, previous: KnownLeader | undefined];
};

/**
 * Follows the acting orchestrator's `leader.info` beacons, so an agent that does not lead knows
 * where to forward API requests, also after a standby took over. A beacon of an older term than
 * the known leader's is a former leader's and is ignored while the known one is heard.
 */
export class LeaderWatch extends TypedEmitter<LeaderWatchEvents> {
  private current: KnownLeader | undefined;
  private subscription: Subscription | undefined;
  private readonly staleAfterMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(options: LeaderWatchOptions) {
    super();
    this.staleAfterMs = optionChecks('LeaderWatch').positiveDuration('staleAfterMs', options.staleAfterMs ?? 5_000);
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? noopLogger).child({ component: 'leader-watch' });
    if (options.joined !== undefined) this.current = { ...options.joined, epoch: undefined, heardAt: undefined };
  }

  static async start(options: LeaderWatchOptions): Promise<LeaderWatch> {
    const watch = new LeaderWatch(options);
    watch.subscription = await options.broker.subscribe(LEADER_TOPIC, ({ message }) => {
      watch.heard(message);
    });
    return watch;
  }

  get leader(): KnownLeader | undefined {
    return this.current;
  }

  /** How long since the known leader's last beacon; undefined when none arrived yet. */
  silentForMs(): number | undefined {
    const heardAt = this.current?.heardAt;
    return heardAt === undefined ? undefined : this.clock.now() - heardAt;
  }

  async stop(): Promise<void> {
    await this.subscription?.cancel();
    this.subscription = undefined;
  }

  private heard(message: Message): void {
    if (message.type !== MessageType.LeaderInfo) return;
    const { nodeId, apiUrl, brokerEndpoints, watched, pulsePort } = message.body;
    const previous = this.current;
    if (previous?.epoch !== undefined && message.epoch < previous.epoch && !this.stale()) {
      this.logger.debug('ignored a beacon of a former leader', { nodeId, epoch: message.epoch, leader: previous.nodeId, leaderEpoch: previous.epoch });
      return;
    }
    const next: KnownLeader = { nodeId, apiUrl, epoch: message.epoch, heardAt: this.clock.now(), brokerEndpoints, watched, pulsePort };
    this.current = next;
    const sameEndpoints = String(previous?.brokerEndpoints) === String(brokerEndpoints);
    if (previous?.nodeId === nodeId && previous.apiUrl === apiUrl && previous.epoch === message.epoch && sameEndpoints && previous.watched === watched && previous.pulsePort === pulsePort) return;
    if (previous?.nodeId !== nodeId || previous.apiUrl !== apiUrl) {
      this.logger.info('the cluster leader is known', { leader: nodeId, apiUrl, epoch: message.epoch, ...(previous === undefined ? {} : { previous: previous.nodeId }) });
    }
    this.emit('changed', next, previous);
  }

  private stale(): boolean {
    const silent = this.silentForMs();
    return silent === undefined || silent > this.staleAfterMs;
  }
}
