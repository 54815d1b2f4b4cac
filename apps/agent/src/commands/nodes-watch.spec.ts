import type { ApiClient } from '../client/api-client.js';
import type { WatchedNode } from './nodes-watch.js';
import { nodesWatchCommand, sparkline, watchTable } from './nodes-watch.js';

const node = (id: string, patch: Partial<WatchedNode> = {}): WatchedNode => ({
  id,
  hostname: id,
  addr: '10.0.0.5',
  state: 'ALIVE',
  runtimes: ['docker'],
  isolation: 'container, limits',
  ramFree: 2048,
  ramUsed: 6144,
  ramTotal: 8192,
  loadAvg5: 0.5,
  cpuPercent: 37.4,
  diskUsedMb: 10_240,
  diskTotalMb: 40_960,
  orchestrationPriority: 0,
  deployments: [],
  extensions: [],
  noticeLossAfterMs: 4000,
  reachable: false,
  history: [0, 50, 100].map((cpuPercent, i) => ({ at: 1000 + 10 * i, cpuPercent, memUsedMb: 2048 * (i + 2), memTotalMb: 8192, diskUsedMb: 10_240, diskTotalMb: 40_960 })),
  ...patch,
});

describe('sparkline', () => {
  it('draws values on a fixed 0..100 scale with eight block heights', () => {
    expect(sparkline([0, 12.5, 25, 37.5, 50, 62.5, 75, 87.5, 100])).toBe('▁▂▃▄▅▆▇██');
  });

  it('clamps values outside the scale and leaves a blank for a missing one', () => {
    expect(sparkline([-5, null, 250])).toBe('▁ █');
  });

  it('takes another top', () => {
    expect(sparkline([0, 4, 8], 8)).toBe('▁▅█');
  });

  it('is empty for no values', () => {
    expect(sparkline([])).toBe('');
  });
});

describe('watchTable', () => {
  it('shows current CPU, memory and disk, each beside a sparkline of its recent share of the node', () => {
    const [header, row] = watchTable([node('pi-1')]).split('\n');
    expect(header).toMatch(/^ID\s+STATE\s+CPU\s+CPU \(last 3 min\)\s+MEMORY\s+MEMORY \(last 3 min\)\s+DISK\s+DISK \(last 3 min\)\s+LOAD$/);
    // memory at 50%, 75% and 100% of 8 GB; disk at 25% throughout
    expect(row).toMatch(/^pi-1\s+alive\s+37%\s+▁▅█\s+6\.0\/8\.0 GB \(75%\)\s+▅▇█\s+10\.0\/40\.0 GB \(25%\)\s+▃▃▃\s+0\.50$/);
  });

  it('leaves a blank in the disk sparkline for samples without a disk reading', () => {
    const history = [
      { at: 1, cpuPercent: 10, memUsedMb: 1024, memTotalMb: 8192, diskUsedMb: null, diskTotalMb: null },
      { at: 2, cpuPercent: 10, memUsedMb: 1024, memTotalMb: 8192, diskUsedMb: 40_960, diskTotalMb: 40_960 },
    ];
    const row = watchTable([node('pi-1', { history })]).split('\n')[1] ?? '';
    expect(row).toMatch(/GB \(25%\)\s+ █\s+0\.50$/);
  });

  it('keeps only the most recent 18 samples in the sparkline', () => {
    const history = Array.from({ length: 30 }, (_, i) => ({ at: i, cpuPercent: i < 12 ? 100 : 0, memUsedMb: 0, memTotalMb: 8192, diskUsedMb: 0, diskTotalMb: 100 }));
    const row = watchTable([node('pi-1', { history })]).split('\n')[1] ?? '';
    expect(row).toContain('▁'.repeat(18));
    expect(row).not.toContain('█');
  });
});

describe('nodesWatchCommand', () => {
  it('redraws every interval until the signal, then exits 0', async () => {
    const controller = new AbortController();
    const out: string[] = [];
    let calls = 0;
    const client = {
      graphql: () => {
        calls++;
        return Promise.resolve({ getNodes: [node('pi-1', { cpuPercent: calls })] });
      },
    } as unknown as ApiClient;
    const io = {
      out: (line: string) => {
        out.push(line);
        if (out.length === 2) controller.abort();
      },
      err: () => undefined,
    };
    const code = await nodesWatchCommand(client, { intervalMs: 10, clear: true, signal: controller.signal, now: () => new Date(0) }, io);
    expect(code).toBe(0);
    expect(out).toHaveLength(2);
    expect(out[0]?.startsWith('\u001b[H\u001b[2Jkraken nodes, every 0.01 s (Ctrl-C to stop)')).toBe(true);
    expect(out[0]).toMatch(/pi-1\s+alive\s+1%/);
    expect(out[1]).toMatch(/pi-1\s+alive\s+2%/);
  });

  it('shows a failed request in place of the table and keeps watching', async () => {
    const controller = new AbortController();
    const out: string[] = [];
    let calls = 0;
    const client = {
      graphql: () => (++calls === 1 ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:4000')) : Promise.resolve({ getNodes: [] })),
    } as unknown as ApiClient;
    const io = {
      out: (line: string) => {
        out.push(line);
        if (out.length === 2) controller.abort();
      },
      err: () => undefined,
    };
    await nodesWatchCommand(client, { intervalMs: 10, clear: false, signal: controller.signal }, io);
    expect(out[0]).toContain('cannot read the nodes: connect ECONNREFUSED 127.0.0.1:4000');
    expect(out[0]?.startsWith('kraken nodes')).toBe(true);
    expect(out[1]).toContain('no node has sent a heartbeat yet');
  });
});
