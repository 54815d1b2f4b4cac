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
}

/**
 * Parses one `/proc/<pid>/stat` line: "pid (comm) state ppid pgrp session tty tpgid flags minflt
 * cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...".
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
  const numbers = [fields[1], fields[2], fields[11], fields[12], fields[19]].map(Number);
  const [ppid, pgrp, utime, stime, startTime] = numbers;
  if (
    state === undefined ||
    !Number.isInteger(pid) ||
    ppid === undefined ||
    pgrp === undefined ||
    utime === undefined ||
    stime === undefined ||
    startTime === undefined ||
    numbers.some((value) => !Number.isFinite(value))
  ) {
    return undefined;
  }
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgrp, cpuTicks: utime + stime, startTime };
}

/** Resident memory in kB from `/proc/<pid>/status` (`VmRSS:    1234 kB`); 0 for kernel threads and zombies, which have none. */
export function parseVmRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? 0 : Number(match[1]);
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

/** The live (non-zombie) processes of process group `pgid`, with their CPU time and resident memory. */
export async function groupMembers(pgid: number): Promise<GroupMember[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const members: GroupMember[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProcStat(Number(entry));
    if (stat?.pgrp !== pgid || stat.state === 'Z') continue;
    let rssKb = 0;
    try {
      rssKb = parseVmRssKb(await readFile(`/proc/${entry}/status`, 'utf8'));
    } catch {
      continue; // exited between the two reads
    }
    members.push({ pid: stat.pid, cpuTicks: stat.cpuTicks, rssKb });
  }
  return members;
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

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's USER_HZ (`getconf CLK_TCK`), which /proc CPU times count in; 100 on every common Linux. */
export function clockTicksPerSecond(): Promise<number> {
  ticksPerSecond ??= new Promise((resolve) => {
    execFile('getconf', ['CLK_TCK'], { timeout: 5000 }, (error, stdout) => {
      const value = Number(stdout.trim());
      resolve(error === null && Number.isInteger(value) && value > 0 ? value : 100);
    });
  });
  return ticksPerSecond;
}
