import { nodeInfo } from '../../test/fixtures.js';
import { DEFAULT_NODE_SAMPLES, NodeHistory, nodeSampleOf } from './node-history.js';

describe('nodeSampleOf', () => {
  it('takes CPU busy percent, memory and disk from a heartbeat', () => {
    const info = { ...nodeInfo('n1', { freeMb: 1000, totalMb: 4000 }), cpuBusyPercent: 12.5, disk: { usedMb: 5000, totalMb: 60_000 } };
    expect(nodeSampleOf(info, '2025-11-25T12:00:00.000Z')).toEqual({
      at: '2025-11-25T12:00:00.000Z',
      cpuPercent: 12.5,
      memUsedMb: 3000,
      memTotalMb: 4000,
      diskUsedMb: 5000,
      diskTotalMb: 60_000,
    });
  });

  it('says null for what an older agent does not report', () => {
    expect(nodeSampleOf(nodeInfo('n1'), '2025-11-25T12:00:00.000Z')).toMatchObject({ cpuPercent: null, diskUsedMb: null, diskTotalMb: null });
  });
});

describe('NodeHistory', () => {
  it('keeps the last hour by default: 360 samples of 10 s, from heartbeats every 2 s', () => {
    const history = new NodeHistory();
    const start = Date.parse('2025-11-25T12:00:00.000Z');
    // two hours of heartbeats
    for (let ms = 0; ms < 2 * 60 * 60 * 1000; ms += 2000) history.recordHeartbeat(nodeInfo('n1'), new Date(start + ms).toISOString());
    const samples = history.samples('n1');
    expect(samples).toHaveLength(DEFAULT_NODE_SAMPLES);
    expect(Date.parse(samples.at(-1)?.at ?? '') - Date.parse(samples[0]?.at ?? '')).toBe(359 * 10_000);
    expect(samples.at(-1)?.at).toBe(new Date(start + 2 * 60 * 60 * 1000 - 2000).toISOString());
  });

  it('names its option when the bound is wrong', () => {
    expect(() => new NodeHistory(0)).toThrow('orchestrator option nodeSamples must be a positive integer, got 0');
  });
});
