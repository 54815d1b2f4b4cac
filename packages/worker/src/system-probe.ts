import { statfs } from 'node:fs/promises';
import type { CpuInfo } from 'node:os';
import { arch, availableParallelism, cpus, freemem, hostname, loadavg, networkInterfaces, totalmem, uptime } from 'node:os';

/** What a heartbeat says about the machine itself. */
export interface SystemSample {
  hostname: string;
  /** Non-internal IPv4 addresses, the first one being the best guess at the LAN address. */
  addresses: string[];
  arch: string;
  cpu: { model: string; cores: number };
  ram: { freeMb: number; usedMb: number; totalMb: number };
  load: { m1: number; m5: number; m15: number };
  uptimeSec: number;
  /** Percent of all cores' time spent busy since the previous sample; absent when no time passed. */
  cpuBusyPercent?: number;
  /** The filesystem holding the agent's data; absent when it cannot be read. */
  disk?: DiskUsage;
}

export interface DiskUsage {
  usedMb: number;
  totalMb: number;
}

/** CPU time summed over every core since boot, in ms, as `os.cpus()` counts it. */
export interface CpuTimes {
  busy: number;
  idle: number;
}

export function cpuTimesOf(infos: readonly CpuInfo[]): CpuTimes {
  let busy = 0;
  let idle = 0;
  for (const { times } of infos) {
    busy += times.user + times.nice + times.sys + times.irq;
    idle += times.idle;
  }
  return { busy, idle };
}

/**
 * The busy share of the CPU time that passed between two readings, 0..100. Undefined when no time
 * passed or a counter went backwards (a core went offline, so the sums cover other cores): a
 * made-up number would be worse than a gap in the chart.
 */
export function cpuBusyPercent(previous: CpuTimes, current: CpuTimes): number | undefined {
  const busy = current.busy - previous.busy;
  const idle = current.idle - previous.idle;
  if (busy < 0 || idle < 0 || busy + idle <= 0) return undefined;
  return Math.min(100, (busy / (busy + idle)) * 100);
}

/** What `fs.statfs` says, reduced to the fields disk use needs (injectable for tests). */
export type StatFs = (path: string) => Promise<{ bsize: number; blocks: number; bfree: number }>;

/**
 * Used and total size of the filesystem holding `path`, as `df` counts them: used = total - free,
 * where free includes the blocks reserved for root (they are not used by anything).
 * Undefined when the path cannot be read (removed, permissions): a heartbeat must still go out.
 */
export async function diskUsage(path: string, read: StatFs = statfs): Promise<DiskUsage | undefined> {
  try {
    const { bsize, blocks, bfree } = await read(path);
    const mb = (count: number): number => Math.max(0, Math.round((count * bsize) / (1024 * 1024)));
    const totalMb = mb(blocks);
    return { usedMb: Math.min(totalMb, mb(blocks - bfree)), totalMb };
  } catch {
    return undefined;
  }
}

export interface OsSystemProbeOptions {
  /** A path on the filesystem whose use heartbeats report (the agent's data dir). @default none: no disk reading */
  diskPath?: string;
}

/** Behind an interface so unit tests give fixed numbers and heartbeats stay deterministic. */
export interface SystemProbe {
  sample(): Promise<SystemSample>;
}

/** How long the interfaces' addresses are reused: reading them is the costliest part of a sample, and they rarely change. */
const ADDRESSES_MAX_AGE_MS = 30_000;

/**
 * The real machine, read with node:os: system calls and small /proc reads, cheap enough for a
 * heartbeat every few seconds on a small machine. Free memory is what the kernel says is available
 * (MemAvailable: page cache it can drop counts as free). The CPU model and cores do not change
 * while the agent runs, so they are read once; a new address shows within 30 s. CPU busy percent
 * is over the time between two samples (the heartbeat interval), from the kernel's per-core counters.
 */
export class OsSystemProbe implements SystemProbe {
  private cpu: SystemSample['cpu'] | undefined;
  private addresses: { list: string[]; atMs: number } | undefined;

  // read at construction, so the first heartbeat's CPU covers the time since the agent started
  private cpuTimes: CpuTimes | undefined = cpuTimesOf(cpus());

  constructor(private readonly options: OsSystemProbeOptions = {}) {}

  async sample(): Promise<SystemSample> {
    const infos = cpus();
    this.cpu ??= { model: infos[0]?.model.trim() || 'unknown', cores: Math.max(1, availableParallelism()) };
    const times = cpuTimesOf(infos);
    const busyPercent = this.cpuTimes === undefined ? undefined : cpuBusyPercent(this.cpuTimes, times);
    this.cpuTimes = times;
    const disk = this.options.diskPath === undefined ? undefined : await diskUsage(this.options.diskPath);
    const mb = (bytes: number): number => Math.max(0, Math.round(bytes / (1024 * 1024)));
    const total = totalmem();
    const free = Math.min(freemem(), total);
    const [m1 = 0, m5 = 0, m15 = 0] = loadavg();
    return {
      hostname: hostname(),
      addresses: this.currentAddresses(),
      arch: arch(),
      cpu: this.cpu,
      ram: { freeMb: mb(free), usedMb: mb(total - free), totalMb: mb(total) },
      load: { m1, m5, m15 },
      uptimeSec: Math.floor(uptime()),
      ...(busyPercent === undefined ? {} : { cpuBusyPercent: busyPercent }),
      ...(disk === undefined ? {} : { disk }),
    };
  }

  private currentAddresses(): string[] {
    const now = performance.now();
    if (this.addresses === undefined || now - this.addresses.atMs > ADDRESSES_MAX_AGE_MS) this.addresses = { list: ipv4Addresses(), atMs: now };
    return [...this.addresses.list];
  }
}

// Container bridges and veth pairs are not how other machines reach this one.
const VIRTUAL_INTERFACE = /^(docker|br-|veth|virbr|cni|flannel|cali)/;

export function ipv4Addresses(interfaces = networkInterfaces()): string[] {
  const addresses: string[] = [];
  for (const [name, entries] of Object.entries(interfaces)) {
    if (VIRTUAL_INTERFACE.test(name)) continue;
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) addresses.push(entry.address);
    }
  }
  return addresses;
}
