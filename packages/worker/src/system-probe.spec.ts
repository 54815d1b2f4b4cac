import type { CpuInfo, networkInterfaces } from 'node:os';
import { tmpdir } from 'node:os';
import { OsSystemProbe, cpuBusyPercent, cpuTimesOf, diskUsage, ipv4Addresses } from './system-probe.js';

describe('OsSystemProbe', () => {
  it('reads this machine: cores, memory, load and uptime within sane bounds', async () => {
    const sample = await new OsSystemProbe().sample();
    expect(sample.hostname.length).toBeGreaterThan(0);
    expect(sample.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(sample.ram.totalMb).toBeGreaterThan(0);
    expect(sample.ram.freeMb).toBeLessThanOrEqual(sample.ram.totalMb);
    expect(sample.load.m1).toBeGreaterThanOrEqual(0);
    expect(sample.uptimeSec).toBeGreaterThan(0);
    expect(['x64', 'arm64', 'arm', 'ia32']).toContain(sample.arch);
  });

  it('reports CPU busy percent over the time since the previous sample (or since it was made), and the disk of the given path', async () => {
    const probe = new OsSystemProbe({ diskPath: tmpdir() });
    // the kernel's counters advance in 10 ms ticks: burn a little CPU so each sample has an interval
    const spin = () => {
      for (const start = Date.now(); Date.now() - start < 50; );
    };
    spin();
    const first = await probe.sample();
    expect(first.cpuBusyPercent).toBeGreaterThan(0);
    spin();
    const second = await probe.sample();
    expect(second.cpuBusyPercent).toBeGreaterThanOrEqual(0);
    expect(second.cpuBusyPercent).toBeLessThanOrEqual(100);
    expect(second.disk?.totalMb).toBeGreaterThan(0);
    expect(second.disk?.usedMb).toBeLessThanOrEqual(second.disk?.totalMb ?? 0);
  });

  it('reads no disk without a path', async () => {
    expect(await new OsSystemProbe().sample()).not.toHaveProperty('disk');
  });
});

describe('cpuBusyPercent', () => {
  const core = (user: number, sys: number, idle: number, irq = 0, nice = 0): CpuInfo => ({ model: 'test', speed: 1000, times: { user, nice, sys, idle, irq } });

  it('sums user, nice, sys and irq as busy time over every core', () => {
    expect(cpuTimesOf([core(100, 50, 800, 5, 10), core(200, 0, 700)])).toEqual({ busy: 365, idle: 1500 });
  });

  it('is the busy share of the time that passed between two readings', () => {
    const before = cpuTimesOf([core(1000, 500, 8000), core(1000, 500, 8000)]);
    // core 1: 300 busy + 700 idle; core 2: 100 busy + 900 idle -> 400 of 2000
    const after = cpuTimesOf([core(1200, 600, 8700), core(1100, 500, 8900)]);
    expect(cpuBusyPercent(before, after)).toBe(20);
  });

  it('is 100 for a machine with no idle time, 0 for an idle one', () => {
    expect(cpuBusyPercent({ busy: 0, idle: 0 }, { busy: 500, idle: 0 })).toBe(100);
    expect(cpuBusyPercent({ busy: 10, idle: 0 }, { busy: 10, idle: 500 })).toBe(0);
  });

  it('is undefined when no time passed or a counter went backwards (a core went offline)', () => {
    expect(cpuBusyPercent({ busy: 10, idle: 10 }, { busy: 10, idle: 10 })).toBeUndefined();
    expect(cpuBusyPercent({ busy: 900, idle: 900 }, { busy: 500, idle: 1000 })).toBeUndefined();
  });
});

describe('diskUsage', () => {
  it('counts used as total minus free blocks, in MB', async () => {
    const read = () => Promise.resolve({ bsize: 4096, blocks: 256 * 1000, bfree: 256 * 250 });
    expect(await diskUsage('/data', read)).toEqual({ usedMb: 750, totalMb: 1000 });
  });

  it('asks about the given path', async () => {
    const asked: string[] = [];
    await diskUsage('/var/lib/kraken', (path) => {
      asked.push(path);
      return Promise.resolve({ bsize: 4096, blocks: 1, bfree: 1 });
    });
    expect(asked).toEqual(['/var/lib/kraken']);
  });

  it('is undefined when the path cannot be read', async () => {
    expect(await diskUsage('/no/such/dir/for/kraken')).toBeUndefined();
  });
});

describe('ipv4Addresses', () => {
  it('keeps external IPv4 addresses and skips loopback, IPv6 and container bridges', () => {
    const entry = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null });
    expect(
      ipv4Addresses({
        lo: [entry('127.0.0.1', 'IPv4', true)],
        eth0: [entry('192.168.1.20', 'IPv4'), entry('fe80::1', 'IPv6')],
        docker0: [entry('172.17.0.1', 'IPv4')],
        'br-1234': [entry('172.18.0.1', 'IPv4')],
        wlan0: [entry('10.0.0.7', 'IPv4')],
      } as unknown as ReturnType<typeof networkInterfaces>),
    ).toEqual(['192.168.1.20', '10.0.0.7']);
  });
});
