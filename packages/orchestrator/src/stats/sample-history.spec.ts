import { KrakenError } from '@kraken/common';
import { SampleHistory } from './sample-history.js';

const at = (second: number) => new Date(Date.parse('2025-11-25T12:00:00.000Z') + second * 1000).toISOString();
const sample = (second: number, value = second) => ({ at: at(second), value });

describe('SampleHistory', () => {
  it('keeps every sample without a window', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 10, optionName: 'testSamples' });
    for (const second of [0, 1, 2]) history.record('a', sample(second));
    expect(history.samples('a').map((s) => s.value)).toEqual([0, 1, 2]);
  });

  it('keeps one sample per window, the newest in a window replacing the one before', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 10, optionName: 'testSamples', everyMs: 10_000 });
    // heartbeats every 2 s with jitter: windows [0,10) [10,20) [20,30)
    for (const second of [0, 2, 4.1, 5.9, 8, 10, 12, 14, 16, 18, 19.9, 20.1]) history.record('a', sample(second));
    expect(history.samples('a').map((s) => s.value)).toEqual([8, 19.9, 20.1]);
  });

  it('samples at the window rate whatever the senders interval below it', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 1000, optionName: 'testSamples', everyMs: 10_000 });
    for (let second = 0; second < 600; second += 2) history.record('a', sample(second));
    expect(history.samples('a')).toHaveLength(60);
  });

  it('drops the oldest beyond the capacity, per subject', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 3, optionName: 'testSamples', everyMs: 10_000 });
    for (let second = 0; second < 100; second += 10) history.record('a', sample(second));
    history.record('b', sample(5));
    expect(history.samples('a').map((s) => s.value)).toEqual([70, 80, 90]);
    expect(history.samples('b').map((s) => s.value)).toEqual([5]);
  });

  it('hands out frozen lists that later samples, or a replacement in the same window, do not change', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 3, optionName: 'testSamples', everyMs: 10_000 });
    history.record('a', sample(1));
    const before = history.samples('a');
    history.record('a', sample(2));
    expect(before.map((s) => s.value)).toEqual([1]);
    expect(history.samples('a').map((s) => s.value)).toEqual([2]);
    expect(Object.isFrozen(before)).toBe(true);
  });

  it('forgets a subject', () => {
    const history = new SampleHistory<{ at: string; value: number }>({ capacity: 3, optionName: 'testSamples' });
    history.record('a', sample(1));
    history.forget('a');
    expect(history.samples('a')).toEqual([]);
  });

  it('refuses a capacity that is not a positive integer, naming the option, and a negative window', () => {
    expect(() => new SampleHistory({ capacity: 0, optionName: 'nodeSamples' })).toThrow(KrakenError);
    expect(() => new SampleHistory({ capacity: 1.5, optionName: 'nodeSamples' })).toThrow('orchestrator option nodeSamples must be a positive integer, got 1.5');
    expect(() => new SampleHistory({ capacity: 1, optionName: 'nodeSamples', everyMs: -1 })).toThrow('a sample window must be a non-negative number of ms, got -1');
  });
});
