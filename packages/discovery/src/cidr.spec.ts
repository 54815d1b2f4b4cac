import { containsAddress, hostAddresses, hostCount, parseCidr } from './cidr.js';

describe('parseCidr', () => {
  it('clears host bits, as an interface address with its prefix has them set', () => {
    expect(parseCidr('10.77.5.23/24')).toEqual({ network: 0x0a4d0500, prefixLength: 24, cidr: '10.77.5.0/24' });
    expect(parseCidr('192.168.1.77/26').cidr).toBe('192.168.1.64/26');
    expect(parseCidr('0.0.0.0/0').cidr).toBe('0.0.0.0/0');
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '10.0.0/24', '10.0.0.256/24', '10.0.0.0/24/1', 'eth0', '10.0.0.0/ 24'])(
    'refuses %j',
    (text) => {
      expect(() => parseCidr(text)).toThrow(/cidr: .* is not an IPv4 CIDR such as 192.168.1.0\/24/);
    },
  );
});

describe('hostAddresses', () => {
  it('lists the 254 hosts of a /24 in order, without the network and broadcast addresses', () => {
    const hosts = hostAddresses(parseCidr('10.77.5.0/24'));
    expect(hosts).toHaveLength(254);
    expect(hosts[0]).toBe('10.77.5.1');
    expect(hosts.at(-1)).toBe('10.77.5.254');
    expect(hosts).not.toContain('10.77.5.0');
    expect(hosts).not.toContain('10.77.5.255');
  });

  it('treats every address of a /31 and a /32 as a host', () => {
    expect(hostAddresses(parseCidr('10.0.0.6/31'))).toEqual(['10.0.0.6', '10.0.0.7']);
    expect(hostAddresses(parseCidr('10.0.0.9/32'))).toEqual(['10.0.0.9']);
    expect(hostAddresses(parseCidr('10.0.0.8/30'))).toEqual(['10.0.0.9', '10.0.0.10']);
  });

  it('counts without listing, and crosses octet boundaries', () => {
    expect(hostCount(parseCidr('172.16.0.0/16'))).toBe(65_534);
    expect(hostAddresses(parseCidr('10.0.0.0/23'))[255]).toBe('10.0.1.0');
  });

  it('tells addresses inside the network from those outside', () => {
    const network = parseCidr('10.77.5.0/24');
    expect(containsAddress(network, '10.77.5.200')).toBe(true);
    expect(containsAddress(network, '10.77.6.1')).toBe(false);
    expect(containsAddress(network, 'nope')).toBe(false);
  });
});
