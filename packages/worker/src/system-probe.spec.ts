import type { networkInterfaces } from 'node:os';
import { OsSystemProbe, ipv4Addresses } from './system-probe.js';

describe('OsSystemProbe', () => {
  it('reads this machine: cores, memory, load and uptime within sane bounds', async () => {
    const sample = await new OsSystemProbe().sample();
    expect(sample.hostname.length).toBeGreaterThan(0);
    expect(sample.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(sample.ram.totalMb).toBeGreaterThan(0);
    expect(sample.ram.freeMb).toBeLessThanOrEqual(sample.ram.totalMb);
    expect(sample.load.m1).toBeGreaterThanOrEqual(0);
    expect(sample.uptimeSec).toBeGreaterThan(0);
    expect(['x64', 'arm64', 'arm', 'ia32']).toContain(sample.arch);
  });
});

describe('ipv4Addresses', () => {
  it('keeps external IPv4 addresses and skips loopback, IPv6 and container bridges', () => {
    const entry = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null });
    expect(
      ipv4Addresses({
        lo: [entry('127.0.0.1', 'IPv4', true)],
        eth0: [entry('192.168.1.20', 'IPv4'), entry('fe80::1', 'IPv6')],
        docker0: [entry('172.17.0.1', 'IPv4')],
        'br-1234': [entry('172.18.0.1', 'IPv4')],
        wlan0: [entry('10.0.0.7', 'IPv4')],
      } as unknown as ReturnType<typeof networkInterfaces>),
    ).toEqual(['192.168.1.20', '10.0.0.7']);
  });
});
