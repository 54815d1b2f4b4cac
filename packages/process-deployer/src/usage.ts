import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { clockTicksPerSecond, processGroups } from './proc.js';
import type { GroupMember } from './proc.js';

const MB = 1024 * 1024;

/**
 * CPU percent of one core (200 = two cores busy, as `docker stats` shows it) between two samples
 * of a process group: the CPU time its processes used in the interval over the interval's length.
 * Only processes present in both samples count: one that ended took its CPU time with it.
 */
export function groupCpuPercent(before: readonly GroupMember[], after: readonly GroupMember[], elapsedMs: number, ticksPerSecond: number): number {
  if (elapsedMs <= 0) return 0;
  const earlier = new Map(before.map((member) => [member.pid, member.cpuTicks]));
  let ticks = 0;
  for (const member of after) {
    const previous = earlier.get(member.pid);
    if (previous !== undefined && member.cpuTicks > previous) ticks += member.cpuTicks - previous;
  }
  return round2((ticks / ticksPerSecond / (elapsedMs / 1000)) * 100);
}

/** Resident memory of the whole group in MB. */
export function groupRssMb(members: readonly GroupMember[]): number {
  return round2(members.reduce((sum, member) => sum + member.rssKb, 0) / 1024);
}

export interface GroupUsage {
  cpuPercent: number;
  rssKb: number;
}

interface Pass {
  atMs: number;
  groups: Map<number, GroupMember[]>;
}

/**
 * Usage of every app's process group from shared passes over /proc: the calls made while a pass
 * runs share it, so N apps cost one pass, not N. CPU% is measured since the previous pass when that
 * one is recent (the worker asks every stats interval, so that is the interval's average); after a
 * longer silence, or the first time, a pass reads /proc twice `intervalMs` apart. Only the last pass
 * is kept.
 */
export class GroupSampler {
  private last: Pass | undefined;
  private running: Promise<{ before: Pass; after: Pass }> | undefined;

  constructor(
    private readonly intervalMs: number,
    /** How old the previous pass may be to measure CPU from it. */
    private readonly maxAgeMs: number,
    private readonly read: () => Promise<Map<number, GroupMember[]>> = processGroups,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async usage(pgid: number): Promise<GroupUsage> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    const [{ before, after }, ticks] = await Promise.all([this.running, clockTicksPerSecond()]);
    const members = after.groups.get(pgid) ?? [];
    return {
      cpuPercent: groupCpuPercent(before.groups.get(pgid) ?? [], members, after.atMs - before.atMs, ticks),
      rssKb: members.reduce((sum, member) => sum + member.rssKb, 0),
    };
  }

  private async pass(): Promise<{ before: Pass; after: Pass }> {
    // callers of this same turn join this pass before it reads anything
    await Promise.resolve();
    let before = this.last;
    if (before === undefined || this.now() - before.atMs > this.maxAgeMs) {
      before = await this.take();
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
    const after = await this.take();
    this.last = after;
    return { before, after };
  }

  private async take(): Promise<Pass> {
    const groups = await this.read();
    return { atMs: this.now(), groups };
  }
}

/** Bytes of the files under `dir` (symlinks not followed), the process runtime's "image size". */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else {
      try {
        total += (await lstat(full)).size;
      } catch {
        // removed while counting
      }
    }
  }
  return total;
}

export function bytesToMb(bytes: number): number {
  return round2(bytes / MB);
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
