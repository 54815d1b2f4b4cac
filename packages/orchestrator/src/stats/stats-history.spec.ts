import { KrakenError } from '@kraken/common';
import { StatsHistory } from './stats-history.js';

function sample(second: number, cpuPercent = second) {
  return { at: `2025-11-25T12:00:${String(second).padStart(2, '0')}.000Z`, cpuPercent, memMb: 50 + second, maxMemMb: 256 };
}

describe('StatsHistory', () => {
  it('keeps samples per deployment, oldest first', () => {
    const history = new StatsHistory(10);
    history.record('blog', sample(1));
    history.record('shop', sample(2));
    history.record('blog', sample(3));
    expect(history.samples('blog').map((s) => s.cpuPercent)).toEqual([1, 3]);
    expect(history.samples('shop')).toEqual([sample(2)]);
    expect(history.samples('unknown')).toEqual([]);
  });

  it('drops the oldest samples beyond the bound', () => {
    const history = new StatsHistory(3);
    for (let second = 1; second <= 5; second++) history.record('blog', sample(second));
    expect(history.samples('blog').map((s) => s.cpuPercent)).toEqual([3, 4, 5]);
  });

  it('hands out frozen lists that later samples do not change', () => {
    const history = new StatsHistory(2);
    history.record('blog', sample(1));
    const before = history.samples('blog');
    history.record('blog', sample(2));
    history.record('blog', sample(3));
    expect(before.map((s) => s.cpuPercent)).toEqual([1]);
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(history.samples('blog')[0])).toBe(true);
  });

  it('forgets a deployment', () => {
    const history = new StatsHistory();
    history.record('blog', sample(1));
    history.forget('blog');
    expect(history.samples('blog')).toEqual([]);
  });

  it('refuses a bound that is not a positive integer, naming the option', () => {
    expect(() => new StatsHistory(0)).toThrow(KrakenError);
    expect(() => new StatsHistory(2.5)).toThrow('orchestrator option statsSamples must be a positive integer, got 2.5');
  });
});
