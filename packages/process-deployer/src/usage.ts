import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { clockTicksPerSecond, groupMembers } from './proc.js';
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

/** Two /proc samples of the group `intervalMs` apart. */
export async function sampleGroup(pgid: number, intervalMs: number): Promise<GroupUsage> {
  const ticks = await clockTicksPerSecond();
  const before = await groupMembers(pgid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const after = await groupMembers(pgid);
  const elapsed = performance.now() - started;
  return { cpuPercent: groupCpuPercent(before, after, elapsed, ticks), rssKb: after.reduce((sum, member) => sum + member.rssKb, 0) };
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
