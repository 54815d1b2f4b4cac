import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { folderBytes, groupCpuPercent, groupRssMb } from './usage.js';

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
