import type { Broker, Subscription } from '@kraken/broker';
import type { Logger } from '@kraken/common';
import { TypedEmitter, noopLogger, optionChecks, toKrakenError } from '@kraken/common';
import type { Clock } from '@kraken/common';
import { systemClock } from '@kraken/common';
import type { Message } from '@kraken/messages';
import { DeliveryClass, MessageType, createMessage } from '@kraken/messages';

/** The single-active-consumer quorum queue whose active consumer leads. */
export const LEADERSHIP_QUEUE = 'kraken.leadership';

export interface LeaderLeaseOptions {
  broker: Broker;
  nodeId: string;
  /** How often this candidate sends a tick. @default 500 */
  tickIntervalMs?: number;
  /**
   * How long a candidate must have been the active consumer before it leads. A leader cut off from
   * the broker hears no tick and stops within `silenceMs`, well inside this, so two never lead at
   * once (RabbitMQ may make the new consumer active up to 2 s before the old one's connection closes).
   * @default 5_000
   */
  leaseMs?: number;
  /**
   * A leader that hears no tick this long stops leading, unless its own process stalled during the
   * silence: then it waits for a fresh tick up to just under `leaseMs` (see `check`). @default 2_000
   */
  silenceMs?: number;
  logger?: Logger;
  clock?: Clock;
}

export type LeaderLeaseEvents = {
  /** This candidate leads now (it held the lease for leaseMs). */
  leading: [];
  /** It no longer does (it heard no tick for silenceMs, or it stopped). */
  following: [why: string];
};

/**
 * Leadership from the broker's own consensus, never a protocol of our own: every candidate consumes
 * one single-active-consumer quorum queue and sends ticks into it. Only the active consumer hears
 * them; hearing its own for `leaseMs` makes it lead, not hearing them for `silenceMs` makes it stop.
 * Commands a leader sends carry its fencing epoch, so a late one from a former leader is refused.
 */
export class LeaderLease extends TypedEmitter<LeaderLeaseEvents> {
  private readonly tickIntervalMs: number;
  private readonly leaseMs: number;
  private readonly silenceMs: number;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private subscription: Subscription | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  private lastHeard: number | undefined;
  private activeSince: number | undefined;
  private lastChecked: number | undefined;
  /** When this process last came out of a stall of its own (its checker ran late by over half of silenceMs). */
  private stallEndedAt: number | undefined;
  private leadingNow = false;

  private constructor(private readonly options: LeaderLeaseOptions) {
    super();
    const { positiveDuration, invalid } = optionChecks('LeaderLease');
    this.tickIntervalMs = positiveDuration('tickIntervalMs', options.tickIntervalMs ?? 500);
    this.leaseMs = positiveDuration('leaseMs', options.leaseMs ?? 5_000);
    this.silenceMs = positiveDuration('silenceMs', options.silenceMs ?? 2_000);
    if (this.silenceMs >= this.leaseMs) throw invalid('silenceMs', `must be shorter than leaseMs (${this.leaseMs}), so a former leader stops before a new one starts`);
    if (this.tickIntervalMs * 2 > this.silenceMs) throw invalid('tickIntervalMs', `must be at most half of silenceMs (${this.silenceMs})`);
    this.logger = (options.logger ?? noopLogger).child({ component: 'leader-lease' });
    this.clock = options.clock ?? systemClock;
  }

  /** Becomes a candidate: consumes the leadership queue and starts ticking. */
  static async start(options: LeaderLeaseOptions): Promise<LeaderLease> {
    const lease = new LeaderLease(options);
    const { broker } = options;
    await broker.declareQueue(LEADERSHIP_QUEUE, { class: DeliveryClass.Durable, singleActiveConsumer: true });
    lease.subscription = await broker.consume(LEADERSHIP_QUEUE, (delivery) => {
      lease.heard(delivery.message);
    }, { prefetch: 16 });
    lease.ticker = setInterval(() => {
      lease.tick();
    }, lease.tickIntervalMs);
    lease.checker = setInterval(() => {
      lease.check();
    }, Math.max(10, Math.floor(lease.tickIntervalMs / 2)));
    lease.tick();
    return lease;
  }

  get leading(): boolean {
    return this.leadingNow;
  }

  /**
   * Whether this node leads and may act on it right now: it heard its own tick sent within
   * silenceMs. Checked before every command, so a leader whose process was frozen (and replaced
   * meanwhile) sends nothing on waking, even before its checker has run.
   */
  holds(): boolean {
    return this.leadingNow && this.lastHeard !== undefined && this.clock.now() - this.lastHeard <= this.silenceMs;
  }

  /** Stops being a candidate: another takes over at once (this consumer goes away). */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    clearInterval(this.checker);
    await this.subscription?.cancel();
    this.subscription = undefined;
    if (this.leadingNow) this.stepDown('stopped');
  }

  private tick(): void {
    const message = createMessage(MessageType.LeaseTick, { nodeId: this.options.nodeId }, { from: this.options.nodeId, at: new Date(this.clock.now()) });
    this.options.broker.publish(LEADERSHIP_QUEUE, message).catch((error: unknown) => {
      this.logger.debug('a lease tick was not sent', { error: toKrakenError(error).message });
    });
  }

  /**
   * Only this node's own fresh ticks count. Freshness is judged by when the tick was sent (this
   * node's own clock): a frozen process reading old ticks, or a new active consumer handed the
   * old one's backlog, learns nothing from them. The lease is held from when a fresh one arrived.
   */
  private heard(message: Message): void {
    if (message.type !== MessageType.LeaseTick || message.from !== this.options.nodeId) return;
    const now = this.clock.now();
    const sentAt = Math.min(Date.parse(message.at), now);
    if (now - sentAt > this.silenceMs) return;
    // the checker may not have run since a stall: a silence past staleAfterMs ends the lead regardless
    if (this.leadingNow && this.lastHeard !== undefined && now - this.lastHeard >= this.staleAfterMs) {
      this.activeSince = undefined;
      this.stepDown(`no lease tick heard for ${now - this.lastHeard} ms`);
    }
    this.lastHeard = Math.max(this.lastHeard ?? sentAt, sentAt);
    this.activeSince ??= now;
  }

  /**
   * A silence longer than silenceMs means the broker went quiet, so the leader stops, unless this
   * process itself stalled during it (a long synchronous job, a busy machine): ticks were neither
   * sent nor read then, and stepping down would restart a healthy leader. It then waits for a tick
   * sent after the stall, but never past `staleAfterMs`, measured from the last tick it heard: a
   * rival becomes the active consumer no sooner than that tick and leads only after holding it for
   * leaseMs, so a fresh tick heard before then proves none led meanwhile. `holds()` stays false all
   * the while, so nothing is sent or stored until that tick arrives.
   */
  private check(): void {
    const now = this.clock.now();
    const silence = this.lastHeard === undefined ? Infinity : now - this.lastHeard;
    if (this.lastChecked !== undefined && now - this.lastChecked > this.silenceMs / 2) {
      this.stallEndedAt = now;
      // said aloud only when it is what kept a leader from stepping down: short stalls are common on a busy machine
      const fields = { stalledMs: now - this.lastChecked, silentMs: silence };
      if (this.leadingNow && silence > this.silenceMs) this.logger.warn('this process stalled: the lease waits for a tick sent since', fields);
      else this.logger.debug('this process stalled', fields);
      this.tick();
    }
    this.lastChecked = now;
    if (silence > this.silenceMs) {
      this.activeSince = undefined;
      const ownStall = this.lastHeard !== undefined && this.stallEndedAt !== undefined && this.stallEndedAt > this.lastHeard;
      if (this.leadingNow && (!ownStall || silence >= this.staleAfterMs)) this.stepDown(`no lease tick heard for ${ownStall ? silence : this.silenceMs} ms`);
      return;
    }
    if (!this.leadingNow && this.activeSince !== undefined && now - this.activeSince >= this.leaseMs) {
      this.leadingNow = true;
      this.logger.info('holding the lease: this node leads', { heldMs: now - this.activeSince });
      this.emit('leading');
    }
  }

  /** The longest silence a leader may bridge after its own stall: a tick interval short of leaseMs. */
  private get staleAfterMs(): number {
    return this.leaseMs - this.tickIntervalMs;
  }

  private stepDown(why: string): void {
    this.leadingNow = false;
    this.logger.warn('lost the lease: this node stops leading', { why });
    this.emit('following', why);
  }
}

