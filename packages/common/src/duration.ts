import { ErrorCode, KrakenError } from './errors.js';

const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses "250ms", "10s", "5m", "1h" or a bare number of milliseconds, so that config files and
 * flags can say durations the way people write them while code works in `...Ms` numbers.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return input;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
    if (match) {
      const unit = (match[2] ?? 'ms') as keyof typeof unitMs;
      const ms = Math.round(Number(match[1]) * unitMs[unit]);
      // a string of enough digits overflows to Infinity, which no timer can use
      if (Number.isFinite(ms)) return ms;
    }
  }
  // JSON.stringify would show NaN and Infinity as "null"
  const shown = typeof input === 'number' ? String(input) : JSON.stringify(input);
  throw new KrakenError(ErrorCode.InvalidInput, `invalid duration ${shown}: use a number with ms, s, m or h (e.g. "10s")`);
}
