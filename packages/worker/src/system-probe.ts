import { arch, hostname, networkInterfaces } from 'node:os';
import { OSUtils } from 'node-os-utils';

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

/** The real machine, read with node-os-utils (cpu, memory, load, uptime) and node:os (names, addresses). */
export class OsSystemProbe implements SystemProbe {
  private readonly os = new OSUtils();

  async sample(): Promise<SystemSample> {
    const [cpu, load, memory, uptime] = await Promise.all([this.os.cpu.info(), this.os.cpu.loadAverage(), this.os.memory.info(), this.os.system.uptime()]);
    const round = (mb: number): number => Math.max(0, Math.round(mb));
    return {
      hostname: hostname(),
      addresses: ipv4Addresses(),
      // node-os-utils reports the CPU family number as "architecture"; node:os gives x64 / arm64
      arch: arch(),
      cpu: cpu.success ? { model: cpu.data.model || 'unknown', cores: Math.max(1, cpu.data.cores) } : { model: 'unknown', cores: 1 },
      ram: memory.success
        ? { freeMb: round(memory.data.available.toMB()), usedMb: round(memory.data.used.toMB()), totalMb: round(memory.data.total.toMB()) }
        : { freeMb: 0, usedMb: 0, totalMb: 0 },
      load: load.success ? { m1: load.data.load1, m5: load.data.load5, m15: load.data.load15 } : { m1: 0, m5: 0, m15: 0 },
      uptimeSec: uptime.success ? Math.floor(uptime.data.uptime / 1000) : 0,
    };
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
