/**
 * The phi accrual failure detector (Hayashibara et al., 2004; as Akka and Cassandra use it): instead
 * of a fixed timeout, it learns the intervals between a node's heartbeats and turns a silence into
 * a suspicion level, phi = -log10(P(a live node stays silent this long)). A node on a clean LAN beats
 * like a clock, so a short silence is already telling; a node on a lossy link (TCP retransmits
 * stall its heartbeats) has shown long gaps before, so the same silence says little.
 */
export interface PhiAccrualOptions {
  /** Intervals remembered per node; the oldest drop out. @default 200 */
  windowSize?: number;
  /**
   * Floor of the learned standard deviation: a node that has beaten like a clock so far must not be
   * declared dead by the first scheduling hiccup. @default 200
   */
  minStdDevMs?: number;
  /** Silence a live node may show beyond its learned pattern (a GC, a busy CPU). @default 1_000 */
  acceptablePauseMs?: number;
}

export interface PhiAccrualSettings {
  windowSize: number;
  minStdDevMs: number;
  acceptablePauseMs: number;
}

export function phiAccrualSettings(options: PhiAccrualOptions = {}): PhiAccrualSettings {
  return {
    windowSize: options.windowSize ?? 200,
    minStdDevMs: options.minStdDevMs ?? 200,
    acceptablePauseMs: options.acceptablePauseMs ?? 1_000,
  };
}

/** One node's recent heartbeat intervals with their running mean and variance. */
export class HeartbeatIntervals {
  private readonly intervals: number[] = [];
  private sum = 0;
  private squares = 0;

  /**
   * Starts from an expected interval (the configured heartbeat period) as Akka does, with a spread
   * of a quarter of it, so that phi means something from the first beat on.
   */
  constructor(
    expectedIntervalMs: number,
    private readonly settings: PhiAccrualSettings,
  ) {
    const spread = expectedIntervalMs / 4;
    this.add(expectedIntervalMs - spread);
    this.add(expectedIntervalMs + spread);
  }

  add(intervalMs: number): void {
    this.intervals.push(intervalMs);
    this.sum += intervalMs;
    this.squares += intervalMs * intervalMs;
    if (this.intervals.length > this.settings.windowSize) {
      const dropped = this.intervals.shift() ?? 0;
      this.sum -= dropped;
      this.squares -= dropped * dropped;
    }
  }

  get meanMs(): number {
    return this.sum / this.intervals.length;
  }

  get stdDevMs(): number {
    const mean = this.meanMs;
    const variance = Math.max(0, this.squares / this.intervals.length - mean * mean);
    return Math.max(Math.sqrt(variance), this.settings.minStdDevMs);
  }

  /** Suspicion after `silentMs` without a heartbeat; grows without bound as the silence does. */
  phi(silentMs: number): number {
    return phiOf((silentMs - this.meanMs - this.settings.acceptablePauseMs) / this.stdDevMs);
  }

  /** The silence after which phi reaches `threshold`: how long this node's loss takes to notice. */
  silenceForPhi(threshold: number): number {
    return this.meanMs + this.settings.acceptablePauseMs + deviationsForPhi(threshold) * this.stdDevMs;
  }
}

/**
 * phi of a silence `y` standard deviations past the expected one, with the logistic approximation of
 * the normal distribution's tail that Akka uses (monotonic, no erf needed, accurate to ~1e-4).
 */
export function phiOf(y: number): number {
  const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
  return y > 0 ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e));
}

/** The inverse of phiOf, by bisection: phiOf is increasing, and thresholds in use stay under ~30. */
export function deviationsForPhi(threshold: number): number {
  let low = -10;
  let high = 40;
  for (let step = 0; step < 60; step += 1) {
    const middle = (low + high) / 2;
    if (phiOf(middle) < threshold) low = middle;
    else high = middle;
  }
  return high;
}
