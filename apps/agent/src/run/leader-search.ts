/**
 * How long an agent of a cluster has looked for its leader without finding one, and so when it
 * should stop waiting and compete for the lease itself: the lease, held in the cluster's RabbitMQ
 * quorum, decides who leads, so competing can never make two leaders. Without this, agents that all
 * lost their leader (or restarted while it was gone) would each wait for another to lead: none
 * would (issue 15's join deadlock).
 */
export class LeaderSearch {
  private since: number | undefined;
  private competedLast = false;

  constructor(
    private readonly patienceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The leader is gone (this agent lost the lease) or another holds the lease: look for it, with fresh patience. */
  start(): void {
    this.since = this.now();
    this.competedLast = false;
  }

  /** A start found no leader to join, or could not compete: looking goes on, patience is not renewed. */
  failed(): void {
    this.since ??= this.now();
  }

  /** This agent runs again (following a leader, or leading). */
  found(): void {
    this.since = undefined;
    this.competedLast = false;
  }

  /**
   * Whether the next start competes for the lease rather than joining. Once patience is spent,
   * starts alternate between the two: a leader may have appeared while this agent competed.
   */
  competeNext(): boolean {
    const compete = this.since !== undefined && this.now() - this.since >= this.patienceMs && !this.competedLast;
    this.competedLast = compete;
    return compete;
  }

  /** How long it has looked, in ms (0 when it is not looking). */
  lookedMs(): number {
    return this.since === undefined ? 0 : this.now() - this.since;
  }
}
