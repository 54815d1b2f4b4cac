import { readFileSync } from 'node:fs';
import { groupMembers, isSameProcess, parseProcStat, readProcStat } from './proc.js';

// A real line from a node process, with its comm replaced to include spaces and parentheses.
const LINE =
  '4242 (node (my app) x) S 1 4242 4242 0 -1 4194560 12345 0 12 0 150 37 0 0 20 0 11 0 987654 1166934016 12000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

describe('parseProcStat', () => {
  it('reads state, parent, group, CPU time, start time and resident pages after a comm holding spaces and parentheses', () => {
    expect(parseProcStat(LINE)).toEqual({ pid: 4242, comm: 'node (my app) x', state: 'S', ppid: 1, pgrp: 4242, cpuTicks: 187, startTime: 987654, rssPages: 12000 });
  });

  it('recognises a zombie', () => {
    expect(parseProcStat(LINE.replace(') S ', ') Z '))?.state).toBe('Z');
  });

  it('gives undefined for a truncated or garbled line', () => {
    expect(parseProcStat('4242 (node) S 1 4242')).toBeUndefined();
    expect(parseProcStat('not a stat line')).toBeUndefined();
    expect(parseProcStat('')).toBeUndefined();
  });

  it('parses this very process as the kernel reports it', () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.startTime).toBeGreaterThan(0);
  });
});

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
