import type { NetworkInterfaceInfo } from 'node:os';
import { interfaceIPv4, localIPv4s, requireLocalIPv4 } from './interfaces.js';

function info(address: string, cidr: string, family: 'IPv4' | 'IPv6' = 'IPv4', internal = false): NetworkInterfaceInfo {
  return {
    address,
    cidr,
    family,
    internal,
    netmask: '',
    mac: '',
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  } as NetworkInterfaceInfo;
}

const interfaces = {
  lo: [info('127.0.0.1', '127.0.0.1/8', 'IPv4', true)],
  eth0: [info('fe80::1', 'fe80::1/64', 'IPv6'), info('192.168.1.20', '192.168.1.20/24')],
  docker0: [info('172.17.0.1', '172.17.0.1/16')],
};

describe('interfaces', () => {
  it('lists non-loopback IPv4 addresses', () => {
    expect(localIPv4s(interfaces).map((choice) => choice.address)).toEqual(['192.168.1.20', '172.17.0.1']);
  });

  it("finds an interface's IPv4 address and subnet", () => {
    expect(interfaceIPv4('eth0', interfaces)).toEqual({ name: 'eth0', address: '192.168.1.20', cidr: '192.168.1.20/24' });
  });

  it('names the interfaces there are when the one asked for has no IPv4 address', () => {
    expect(() => interfaceIPv4('wlan0', interfaces)).toThrow(
      'interfaceName: no IPv4 address on interface "wlan0": choose one of eth0 192.168.1.20, docker0 172.17.0.1',
    );
  });

  it('refuses an address this machine does not have, and one that is not IPv4', () => {
    expect(() => {
      requireLocalIPv4('192.168.1.20', 'interfaceAddress', interfaces);
    }).not.toThrow();
    expect(() => {
      requireLocalIPv4('192.168.1.21', 'interfaceAddress', interfaces);
    }).toThrow(/interfaceAddress: 192.168.1.21 is not an address of this machine: choose one of/);
    expect(() => {
      requireLocalIPv4('eth0', 'interfaceAddress', interfaces);
    }).toThrow(/interfaceAddress: "eth0" is not an IPv4 address/);
  });
});
