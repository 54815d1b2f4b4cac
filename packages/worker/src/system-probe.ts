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
 * while the agent runs, so they are read once; a new address shows within 30 s.
 */
export class OsSystemProbe implements SystemProbe {
  private cpu: SystemSample['cpu'] | undefined;
  private addresses: { list: string[]; atMs: number } | undefined;

  sample(): Promise<SystemSample> {
    this.cpu ??= { model: cpus()[0]?.model.trim() || 'unknown', cores: Math.max(1, availableParallelism()) };
    const mb = (bytes: number): number => Math.max(0, Math.round(bytes / (1024 * 1024)));
    const total = totalmem();
    const free = Math.min(freemem(), total);
    const [m1 = 0, m5 = 0, m15 = 0] = loadavg();
    return Promise.resolve({
      hostname: hostname(),
      addresses: this.currentAddresses(),
      arch: arch(),
      cpu: this.cpu,
      ram: { freeMb: mb(free), usedMb: mb(total - free), totalMb: mb(total) },
      load: { m1, m5, m15 },
      uptimeSec: Math.floor(uptime()),
    });
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
