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
      return Math.round(Number(match[1]) * unitMs[unit]);
    }
  }
  throw new KrakenError(ErrorCode.InvalidInput, `invalid duration ${JSON.stringify(input)}: use a number with ms, s, m or h (e.g. "10s")`);
}
