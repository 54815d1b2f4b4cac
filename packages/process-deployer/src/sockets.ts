import { readdir, readFile, readlink } from 'node:fs/promises';
import { hasExited, listeningSockets, readProcStat } from '@kraken/common';

/** The inodes of the sockets `pid` holds open; empty when it is gone or not ours to read. */
async function socketInodes(pid: number): Promise<Set<number>> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(Number(match[1]));
  }
  return inodes;
}

/**
 * The app's processes: every member of process group `pgid` and every descendant of one, since
 * a child may start a group or session of its own (`setsid`, a daemonising server) and still
 * be the one that listens.
 */
async function processTree(pgid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const parents = new Map<number, number>();
  const members = new Set<number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProcStat(Number(entry));
    if (stat === undefined || hasExited(stat)) continue;
    parents.set(stat.pid, stat.ppid);
    if (stat.pgrp === pgid) members.add(stat.pid);
  }
  // parents before children is not guaranteed by /proc's order: repeat until nothing joins
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  return [...members];
}

/**
 * The ports the processes of group `pgid` (and their descendants) listen on, lowest first: the
 * listening sockets of their network namespace whose inodes they hold.
 */
export async function listeningPortsOfGroup(pgid: number): Promise<number[]> {
  const pids = await processTree(pgid);
  if (pids.length === 0) return [];
  const held = new Set<number>();
  for (const pid of pids) for (const inode of await socketInodes(pid)) held.add(inode);
  // any member will do: they share a network namespace, and the group's leader may be gone
  const ports = (await listeningSockets(pids[0])).filter((socket) => held.has(socket.inode)).map((socket) => socket.port);
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** A process that holds a listening socket. */
export interface PortHolder {
  pid: number;
  /** Its process group: for an app of this deployer, the pid its state file names. */
  pgid: number;
  /** Its command line, spaces between the arguments; the short name when unreadable. */
  command: string;
}

/**
 * Who listens on `port` in the agent's network namespace (every process holding the socket: a
 * server forks its workers with it). Empty when nobody does, or when the holder is not ours to
 * inspect (an agent without root looking at another user's process).
 */
export async function portHolders(port: number): Promise<PortHolder[]> {
  const inodes = new Set((await listeningSockets()).filter((socket) => socket.port === port).map((socket) => socket.inode));
  if (inodes.size === 0) return [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const holders: PortHolder[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const held = await socketInodes(pid);
    if (![...inodes].some((inode) => held.has(inode))) continue;
    const stat = await readProcStat(pid);
    if (stat === undefined) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const command = cmdline.split('\0').filter(Boolean).join(' ');
    holders.push({ pid, pgid: stat.pgrp, command: command === '' ? stat.comm : command });
  }
  return holders;
}
