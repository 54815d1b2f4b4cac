import { nextRestartDelay } from './backoff.js';

const policy = { initialMs: 1000, maxMs: 30_000, stableAfterMs: 60_000 };

describe('nextRestartDelay', () => {
  it('waits the initial delay after the first crash', () => {
    expect(nextRestartDelay(undefined, 10, policy)).toBe(1000);
  });

  it('doubles the wait for each crash in a row', () => {
    const waits: number[] = [];
    let previous: number | undefined;
    for (let crash = 0; crash < 5; crash += 1) {
      previous = nextRestartDelay(previous, 500, policy);
      waits.push(previous);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('never waits longer than the maximum', () => {
    expect(nextRestartDelay(16_000, 500, policy)).toBe(30_000);
    expect(nextRestartDelay(30_000, 500, policy)).toBe(30_000);
  });

  it('starts again from the initial delay after a run that lasted a stable minute', () => {
    expect(nextRestartDelay(30_000, 60_000, policy)).toBe(1000);
    expect(nextRestartDelay(30_000, 59_999, policy)).toBe(30_000);
  });
});
