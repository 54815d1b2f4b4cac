import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GroupMember } from './proc.js';
import { GroupSampler, folderBytes, groupCpuPercent, groupRssMb } from './usage.js';

describe('groupCpuPercent', () => {
  it('is the CPU time the group used in the interval as a percent of one core', () => {
    const before = [
      { pid: 1, cpuTicks: 100, rssKb: 0 },
      { pid: 2, cpuTicks: 50, rssKb: 0 },
    ];
    const after = [
      { pid: 1, cpuTicks: 125, rssKb: 0 },
      { pid: 2, cpuTicks: 75, rssKb: 0 },
    ];
    // 50 ticks at 100 per second = 0.5 s of CPU in 0.5 s: one full core
    expect(groupCpuPercent(before, after, 500, 100)).toBe(100);
  });

  it('ignores processes that started or ended between the samples', () => {
    const before = [
      { pid: 1, cpuTicks: 100, rssKb: 0 },
      { pid: 2, cpuTicks: 900, rssKb: 0 },
    ];
    const after = [
      { pid: 1, cpuTicks: 110, rssKb: 0 },
      { pid: 3, cpuTicks: 500, rssKb: 0 },
    ];
    expect(groupCpuPercent(before, after, 1000, 100)).toBe(10);
  });

  it('is 0 for an idle group or an empty interval', () => {
    const members = [{ pid: 1, cpuTicks: 100, rssKb: 0 }];
    expect(groupCpuPercent(members, members, 1000, 100)).toBe(0);
    expect(groupCpuPercent(members, [{ pid: 1, cpuTicks: 200, rssKb: 0 }], 0, 100)).toBe(0);
  });
});

describe('groupRssMb', () => {
  it('adds up the resident memory of the group', () => {
    expect(groupRssMb([
      { pid: 1, cpuTicks: 0, rssKb: 1024 },
      { pid: 2, cpuTicks: 0, rssKb: 512 },
    ])).toBe(1.5);
  });
});

describe('folderBytes', () => {
  it('adds up file sizes through sub-folders without following symlinks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kraken-size-'));
    try {
      await mkdir(path.join(dir, 'a', 'b'), { recursive: true });
      await writeFile(path.join(dir, 'one'), 'x'.repeat(1000));
      await writeFile(path.join(dir, 'a', 'b', 'two'), 'y'.repeat(24));
      await symlink('/usr', path.join(dir, 'link'));
      const linkBytes = '/usr'.length;
      expect(await folderBytes(dir)).toBe(1024 + linkBytes);
      expect(await folderBytes(path.join(dir, 'missing'))).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('GroupSampler', () => {
  /** A /proc whose group 10 has used `ticks` so far, counting the passes over it; the clock moves 1 s per pass. */
  function fakeProc() {
    const proc = { passes: 0, ticks: 0, nowMs: 0 };
    const read = () => {
      proc.passes++;
      proc.nowMs += 1000;
      return Promise.resolve(new Map<number, GroupMember[]>([[10, [{ pid: 11, cpuTicks: proc.ticks, rssKb: 2048 }]], [20, [{ pid: 21, cpuTicks: 0, rssKb: 1024 }]]]));
    };
    return { proc, read, now: () => proc.nowMs };
  }

  it('serves every app asking at once from one pass over /proc (two reads the first time, for CPU)', async () => {
    const { proc, read, now } = fakeProc();
    const sampler = new GroupSampler(1, 60_000, read, now);
    const [first, second, missing] = await Promise.all([sampler.usage(10), sampler.usage(20), sampler.usage(30)]);
    expect(proc.passes).toBe(2);
    expect(first.rssKb).toBe(2048);
    expect(second.rssKb).toBe(1024);
    expect(missing).toEqual({ cpuPercent: 0, rssKb: 0 });
  });

  it('measures CPU since the previous pass with one read while that one is recent', async () => {
    const { proc, read, now } = fakeProc();
    const sampler = new GroupSampler(1, 60_000, read, now);
    await sampler.usage(10);
    proc.ticks += 50; // half a second of CPU at 100 ticks per second, in the 1 s until the next pass
    const usage = await sampler.usage(10);
    expect(proc.passes).toBe(3);
    expect(usage.cpuPercent).toBe(50);
  });

  it('reads twice again when the previous pass is too old to measure from', async () => {
    const { proc, read, now } = fakeProc();
    const sampler = new GroupSampler(1, 60_000, read, now);
    await sampler.usage(10);
    proc.nowMs += 120_000;
    await sampler.usage(10);
    expect(proc.passes).toBe(4);
  });
});
