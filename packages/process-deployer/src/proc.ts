import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { hasExited, readProcStat } from '@kraken/common';

/** Whether `pid` is still the process that had `startTime`, and has not exited (see hasExited). */
export async function isSameProcess(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && !hasExited(stat);
}

export interface GroupMember {
  pid: number;
  cpuTicks: number;
  rssKb: number;
}

/**
 * Every process of the machine that has not exited (hasExited) by process group, with its CPU time and resident
 * memory, from one read of each `/proc/<pid>/stat`: one pass serves every app's group at once.
 */
export async function processGroups(): Promise<Map<number, GroupMember[]>> {
  const groups = new Map<number, GroupMember[]>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return groups;
  }
  const pageKb = (await pageBytes()) / 1024;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProcStat(Number(entry));
    if (stat === undefined || hasExited(stat)) continue;
    const members = groups.get(stat.pgrp) ?? [];
    members.push({ pid: stat.pid, cpuTicks: stat.cpuTicks, rssKb: stat.rssPages * pageKb });
    groups.set(stat.pgrp, members);
  }
  return groups;
}

/** The processes of group `pgid` that have not exited (hasExited), with their CPU time and resident memory. */
export async function groupMembers(pgid: number): Promise<GroupMember[]> {
  return (await processGroups()).get(pgid) ?? [];
}

/**
 * Sends `signal` to every process in the group. Never throws (it runs from exit handlers and
 * timers): false when nothing got it, the group being gone (ESRCH) or not ours (EPERM).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    return process.kill(-pgid, signal);
  } catch {
    return false;
  }
}

/** Resolves true once no member of the group is alive, false if some still are after `timeoutMs`. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await groupMembers(pgid)).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM to the group, then SIGKILL to whatever is left after `graceMs`. */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGroupGone(pgid, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await waitGroupGone(pgid, 5000);
}

/** A positive integer `getconf` prints for `name`, or `fallback` when it prints none. */
function getconf(name: string, fallback: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('getconf', [name], { timeout: 5000 }, (error, stdout) => {
      const value = Number(stdout.trim());
      resolve(error === null && Number.isInteger(value) && value > 0 ? value : fallback);
    });
  });
}

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's USER_HZ (`getconf CLK_TCK`), which /proc CPU times count in; 100 on every common Linux. */
export function clockTicksPerSecond(): Promise<number> {
  ticksPerSecond ??= getconf('CLK_TCK', 100);
  return ticksPerSecond;
}

let pageSize: Promise<number> | undefined;

/** The size of a memory page (`getconf PAGESIZE`), which the rss of /proc/<pid>/stat counts in. */
function pageBytes(): Promise<number> {
  pageSize ??= getconf('PAGESIZE', 4096);
  return pageSize;
}
