/** Where code reads the time; injected so timeouts, liveness and timestamps are testable. */
export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The clock's current time as an ISO-8601 UTC string, the form every message carries. */
export function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
