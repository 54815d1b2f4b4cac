import { bytesToMb, cpuPercent, memoryMb } from './stats.js';

describe('cpuPercent', () => {
  it('scales the container share of host time by the number of CPUs', () => {
    const before = { cpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 10_000, online_cpus: 2 } };
    const after = { cpu_stats: { cpu_usage: { total_usage: 1_500 }, system_cpu_usage: 12_000, online_cpus: 2 } };
    // 500 / 2000 of all CPUs = 25%, times 2 CPUs = 50% of one core
    expect(cpuPercent(before, after)).toBe(50);
  });

  it('is 0 when a sample lacks CPU data (the empty precpu of a one-shot sample)', () => {
    expect(cpuPercent({}, { cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10 } })).toBe(0);
  });

  it('counts per-CPU entries when online_cpus is missing', () => {
    const before = { cpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0 } };
    const after = { cpu_stats: { cpu_usage: { total_usage: 100, percpu_usage: [50, 50, 0, 0] }, system_cpu_usage: 1000 } };
    expect(cpuPercent(before, after)).toBe(40);
  });
});

describe('memoryMb', () => {
  it('subtracts the page cache like docker stats (cgroup v1 total_inactive_file)', () => {
    const mb = 1024 * 1024;
    expect(memoryMb({ memory_stats: { usage: 100 * mb, limit: 512 * mb, stats: { total_inactive_file: 20 * mb, cache: 30 * mb } } })).toEqual({ memMb: 80, maxMemMb: 512 });
  });

  it('uses inactive_file on cgroup v2', () => {
    const mb = 1024 * 1024;
    expect(memoryMb({ memory_stats: { usage: 10 * mb, limit: mb, stats: { inactive_file: 4 * mb } } }).memMb).toBe(6);
  });

  it('rounds bytes to hundredths of a megabyte', () => {
    expect(bytesToMb(1.5 * 1024 * 1024 + 1)).toBe(1.5);
  });
});
