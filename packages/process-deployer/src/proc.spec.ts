import { readProcStat } from '@kraken/common';
import { groupMembers, isSameProcess } from './proc.js';

describe('process identity', () => {
  it('knows this process by pid and start time, and not by a different start time', async () => {
    const self = await readProcStat(process.pid);
    expect(self).toBeDefined();
    await expect(isSameProcess(process.pid, self!.startTime)).resolves.toBe(true);
    await expect(isSameProcess(process.pid, self!.startTime + 1)).resolves.toBe(false);
  });

  it('finds this process in its own process group with some memory', async () => {
    const self = await readProcStat(process.pid);
    const members = await groupMembers(self!.pgrp);
    const me = members.find((member) => member.pid === process.pid);
    expect(me?.rssKb).toBeGreaterThan(0);
  });
});
