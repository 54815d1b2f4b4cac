import type { Clock } from '@kraken/common';

/**
 * How long one API request counts as someone watching. Short: a script polling less often than
 * this gets stats at the slow pace, which is its own; the UI keeps a subscription open instead.
 */
const WATCHED_AFTER_REQUEST_MS = 30_000;

/**
 * Whether anyone looks at the cluster through this API: a subscription connection is open (the
 * UI keeps one while a tab shows it), or an API request came in lately. Workers report app stats
 * often while someone watches and rarely otherwise (the leader's beacon passes this on).
 */
export class Watchers {
  private open = 0;
  private lastRequestAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly recentMs = WATCHED_AFTER_REQUEST_MS,
  ) {}

  /** A subscription connection was accepted; returns what to call when it closes (once; later calls do nothing). */
  connected(): () => void {
    this.open++;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.open--;
    };
  }

  /** An API request was accepted. */
  requested(): void {
    this.lastRequestAt = this.clock.now();
  }

  watched(): boolean {
    return this.open > 0 || this.clock.now() - this.lastRequestAt < this.recentMs;
  }
}
