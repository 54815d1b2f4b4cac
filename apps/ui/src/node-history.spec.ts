import { nodeSeries } from './node-history.js';

const sample = (at: number, patch: Partial<{ cpuPercent: number | null; diskUsedMb: number | null; diskTotalMb: number | null; memTotalMb: number }> = {}) => ({
  at,
  cpuPercent: at,
  memUsedMb: 100 * at,
  memTotalMb: 4096,
  diskUsedMb: 1000 + at,
  diskTotalMb: 50_000,
  ...patch,
});

describe('nodeSeries', () => {
  it('makes one line per chart, and takes the latest totals as the axes tops', () => {
    const series = nodeSeries([sample(1), sample(2, { memTotalMb: 8192, diskTotalMb: 60_000 })]);
    expect(series).toEqual({
      cpu: [{ time: 1, value: 1 }, { time: 2, value: 2 }],
      memory: [{ time: 1, value: 100 }, { time: 2, value: 200 }],
      memoryTotalMb: 8192,
      disk: [{ time: 1, value: 1001 }, { time: 2, value: 1002 }],
      diskTotalMb: 60_000,
    });
  });

  it('leaves out CPU and disk an older agent does not report, instead of drawing zeros', () => {
    const series = nodeSeries([sample(1, { cpuPercent: null, diskUsedMb: null, diskTotalMb: null }), sample(2)]);
    expect(series.cpu).toEqual([{ time: 2, value: 2 }]);
    expect(series.disk).toEqual([{ time: 2, value: 1002 }]);
    expect(series.memory).toHaveLength(2);
  });

  it('is empty with no samples', () => {
    expect(nodeSeries([])).toEqual({ cpu: [], memory: [], memoryTotalMb: undefined, disk: [], diskTotalMb: undefined });
  });
});
