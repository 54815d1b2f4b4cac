import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** The fields of `/proc/<pid>/stat` the deployer reads. Linux only. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** User + system CPU time in clock ticks. */
  cpuTicks: number;
  /** Start time in clock ticks after boot: with the pid, it names one process for its whole life (pids are reused). */
  startTime: number;
  /** Resident memory in pages (what VmRSS of /proc/<pid>/status counts, in kB). */
  rssPages: number;
}

/**
 * Parses one `/proc/<pid>/stat` line: "pid (comm) state ppid pgrp session tty tpgid flags minflt
 * cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
 * vsize rss ...".
 * comm may hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state) of the man page, so field n is fields[n - 3]
  const state = fields[0];
  const numbers = [fields[1], fields[2], fields[11], fields[12], fields[19], fields[21]].map(Number);
  const [ppid, pgrp, utime, stime, startTime, rssPages] = numbers;
  if (
    state === undefined ||
    !Number.isInteger(pid) ||
    ppid === undefined ||
    pgrp === undefined ||
    utime === undefined ||
    stime === undefined ||
    startTime === undefined ||
    rssPages === undefined ||
    numbers.some((value) => !Number.isFinite(value))
  ) {
    return undefined;
  }
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgrp, cpuTicks: utime + stime, startTime, rssPages };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone, or /proc not mounted
  }
}

/**
 * Whether `pid` is still the process that had `startTime`, and running. A zombie counts as gone: it
 * holds no port or memory, and without a reaping init an orphan's zombie can stay forever.
 */
export async function isSameProcess(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z';
}

export interface GroupMember {
  pid: number;
  cpuTicks: number;
  rssKb: number;
}

/**
 * Every live (non-zombie) process of the machine by process group, with its CPU time and resident
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
    if (stat === undefined || stat.state === 'Z') continue;
    const members = groups.get(stat.pgrp) ?? [];
    members.push({ pid: stat.pid, cpuTicks: stat.cpuTicks, rssKb: stat.rssPages * pageKb });
    groups.set(stat.pgrp, members);
  }
  return groups;
}

/** The live (non-zombie) processes of process group `pgid`, with their CPU time and resident memory. */
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
