import { linePath, mergeSamples, niceCeiling, sampleOf, summarize } from './chart.js';
import { formatAge } from './format.js';

const at = (time: number, cpuUsage = time) => ({ time, cpuUsage, memMb: 10 * time, maxMemMb: 256 });

describe('chart helpers', () => {
  it('makes a sample of a deployment only once it has stats', () => {
    expect(sampleOf({ statsTime: null, cpuUsage: null, memMb: null, maxMemMb: null })).toBeUndefined();
    expect(sampleOf({ statsTime: 100, cpuUsage: 2.5, memMb: 40, maxMemMb: null })).toEqual({ time: 100, cpuUsage: 2.5, memMb: 40, maxMemMb: 0 });
  });

  it('merges history and live samples in time order, once per time, keeping the newest', () => {
    expect(mergeSamples([at(1), at(2)], [at(3)])).toEqual([at(1), at(2), at(3)]);
    // the history answer arrives after a live sample: same result
    expect(mergeSamples([at(3)], [at(1), at(2), at(3)])).toEqual([at(1), at(2), at(3)]);
    expect(mergeSamples([at(1), at(2)], [at(2, 99)])).toEqual([at(1), at(2, 99)]);
    expect(mergeSamples([at(1), at(2), at(3)], [at(4), at(5)], 3)).toEqual([at(3), at(4), at(5)]);
    expect(mergeSamples([], [])).toEqual([]);
  });

  it('rounds an axis top up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 1.5, 3, 7, 10, 11, 240, 2600].map(niceCeiling)).toEqual([1, 0.5, 1, 2, 5, 10, 10, 20, 500, 5000]);
  });

  it('draws time across the width and 0..top up the height, clamping', () => {
    const box = { width: 100, height: 50 };
    expect(linePath([], 10, box)).toBe('');
    expect(linePath([{ time: 5, value: 5 }], 10, box)).toBe('M0 25 H100');
    expect(linePath([{ time: 0, value: 0 }, { time: 1, value: 10 }, { time: 4, value: 20 }], 10, box)).toBe('M0 50 L25 0 L100 0');
  });

  it('summarizes latest, lowest and highest over the time covered', () => {
    const percent = (v: number) => `${v.toFixed(1)}%`;
    expect(summarize([], percent, formatAge)).toBe('no samples yet');
    expect(summarize([{ time: 0, value: 1 }], percent, formatAge)).toBe('latest 1.0%, lowest 1.0%, highest 1.0% over the last 0s (1 sample)');
    expect(summarize([{ time: 0, value: 4 }, { time: 30, value: 0.5 }, { time: 750, value: 3.2 }], percent, formatAge)).toBe(
      'latest 3.2%, lowest 0.5%, highest 4.0% over the last 12m 30s (3 samples)',
    );
  });
});
