import { ErrorCode, KrakenError } from '@kraken/common';

export interface SampleHistoryOptions {
  /** Samples kept per subject, oldest dropped first. */
  capacity: number;
  /** The option that set `capacity`, named in the error when it is not a positive integer. */
  optionName: string;
  /**
   * Keep at most one sample per window of this length: a sample in the same window as the newest
   * replaces it (so the newest is always current), one in a later window is appended. Windows
   * are aligned to the clock, so senders faster than the window give one sample per window however
   * their beats jitter. @default 0: every sample is kept
   */
  everyMs?: number;
}

/**
 * Recent samples per subject (a deployment, a node), in memory only: the store keeps just the
 * latest values, and a chart needs a short past. Bounded per subject, and a subject's samples go
 * when it is forgotten, so the whole stays bounded by the subjects that exist. A new leader
 * starts with none.
 */
export class SampleHistory<T extends { readonly at: string }> {
  private readonly bySubject = new Map<string, readonly T[]>();
  readonly capacity: number;
  private readonly everyMs: number;

  constructor(options: SampleHistoryOptions) {
    const { capacity, optionName, everyMs = 0 } = options;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new KrakenError(ErrorCode.InvalidConfig, `orchestrator option ${optionName} must be a positive integer, got ${String(capacity)}`);
    }
    if (!Number.isFinite(everyMs) || everyMs < 0) throw new KrakenError(ErrorCode.InvalidConfig, `a sample window must be a non-negative number of ms, got ${String(everyMs)}`);
    this.capacity = capacity;
    this.everyMs = everyMs;
  }

  record(subject: string, sample: T): void {
    const current = this.bySubject.get(subject) ?? [];
    const newest = current.at(-1);
    const base = newest !== undefined && this.sameWindow(newest.at, sample.at) ? current.slice(0, -1) : current;
    const kept = base.length >= this.capacity ? base.slice(base.length - this.capacity + 1) : base;
    // frozen and replaced, never changed in place: callers (and the API's fast path) may keep them
    this.bySubject.set(subject, Object.freeze([...kept, Object.freeze({ ...sample })]));
  }

  /** Oldest first; empty for a subject with none (or an unknown one). */
  samples(subject: string): readonly T[] {
    return this.bySubject.get(subject) ?? [];
  }

  forget(subject: string): void {
    this.bySubject.delete(subject);
  }

  private sameWindow(a: string, b: string): boolean {
    if (this.everyMs <= 0) return false;
    return Math.floor(Date.parse(a) / this.everyMs) === Math.floor(Date.parse(b) / this.everyMs);
  }
}
