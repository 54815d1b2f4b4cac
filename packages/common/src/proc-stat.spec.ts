import { readFileSync } from 'node:fs';
import { hasExited, parseProcStat, readProcStat } from './proc-stat.js';

// A real line from a node process (11 threads), with its comm replaced to include spaces and parentheses.
const LINE =
  '4242 (node (my app) x) S 1 4242 4242 0 -1 4194560 12345 0 12 0 150 37 0 0 20 0 11 0 987654 1166934016 12000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

describe('parseProcStat', () => {
  it('reads state, parent, group, CPU time, threads, start time and resident pages after a comm holding spaces and parentheses', () => {
    expect(parseProcStat(LINE)).toEqual({ pid: 4242, comm: 'node (my app) x', state: 'S', ppid: 1, pgrp: 4242, cpuTicks: 187, threads: 11, startTime: 987654, rssPages: 12000 });
  });

  it('gives undefined for a truncated or garbled line', () => {
    expect(parseProcStat('4242 (node) S 1 4242')).toBeUndefined();
    expect(parseProcStat('not a stat line')).toBeUndefined();
    expect(parseProcStat('')).toBeUndefined();
  });

  it('parses this very process as the kernel reports it', async () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(stat?.pid).toBe(process.pid);
    expect(stat?.ppid).toBe(process.ppid);
    expect(stat?.startTime).toBeGreaterThan(0);
    // node runs a thread pool beside its main thread
    expect(stat?.threads).toBeGreaterThan(1);
    await expect(readProcStat(process.pid)).resolves.toMatchObject({ pid: process.pid, startTime: stat?.startTime });
  });

  it('reads a process that is gone as undefined', async () => {
    await expect(readProcStat(2 ** 22 + 12345)).resolves.toBeUndefined();
  });
});

describe('hasExited', () => {
  const zombie = (threads: number): string => LINE.replace(') S ', ') Z ').replace(' 20 0 11 0 ', ` 20 0 ${String(threads)} 0 `);

  it('is false for a running process', () => {
    expect(hasExited(parseProcStat(LINE)!)).toBe(false);
  });

  it('is true for a zombie whose threads are all gone', () => {
    expect(hasExited(parseProcStat(zombie(1))!)).toBe(true);
  });

  it('is false for a zombie main thread while its other threads still exit (they hold its sockets)', () => {
    expect(parseProcStat(zombie(7))).toMatchObject({ state: 'Z', threads: 7 });
    expect(hasExited(parseProcStat(zombie(7))!)).toBe(false);
  });
});
