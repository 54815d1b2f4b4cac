import { readFile } from 'node:fs/promises';

/** The fields of `/proc/<pid>/stat` that Kraken reads. Linux only. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, ... of the process's main thread. */
  state: string;
  ppid: number;
  pgrp: number;
  /** User + system CPU time in clock ticks. */
  cpuTicks: number;
  /** Its threads still counted, the main thread included (a zombie's included). */
  threads: number;
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
  const numbers = [fields[1], fields[2], fields[11], fields[12], fields[17], fields[19], fields[21]].map(Number);
  const [ppid, pgrp, utime, stime, threads, startTime, rssPages] = numbers;
  if (
    state === undefined ||
    !Number.isInteger(pid) ||
    ppid === undefined ||
    pgrp === undefined ||
    utime === undefined ||
    stime === undefined ||
    threads === undefined ||
    startTime === undefined ||
    rssPages === undefined ||
    numbers.some((value) => !Number.isFinite(value))
  ) {
    return undefined;
  }
  return { pid, comm: text.slice(open + 1, close), state, ppid, pgrp, cpuTicks: utime + stime, threads, startTime, rssPages };
}

/** `/proc/<pid>/stat`, parsed; undefined when the process is gone (or /proc is not mounted). */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the process has let go of everything it held. A zombie whose threads are all gone has:
 * it holds no port, file or memory (and without a reaping init an orphan's zombie can stay
 * forever). A zombie whose other threads are still exiting has not: the main thread of a
 * multi-threaded program (node, a JVM, Erlang) turns zombie first, and its sockets close only when
 * the last thread is gone, which on a busy machine takes long enough for a new listen on its port
 * to fail.
 */
export function hasExited(stat: ProcStat): boolean {
  return stat.state === 'Z' && stat.threads <= 1;
}
