import { isIPv4 } from 'node:net';
import { ErrorCode, KrakenError } from '@kraken/common';

/** An IPv4 network: its first address as a 32-bit number and the prefix length. */
export interface Ipv4Network {
  network: number;
  prefixLength: number;
  /** Canonical `a.b.c.d/n` with the host bits cleared. */
  cidr: string;
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/n` (host bits may be set, as in an interface's `10.0.0.5/24`). */
export function parseCidr(text: string, field = 'cidr'): Ipv4Network {
  const [address = '', bits, extra] = text.split('/');
  const prefixLength = Number(bits);
  if (extra !== undefined || !isIPv4(address) || bits === undefined || !/^\d{1,2}$/.test(bits) || prefixLength > 32) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `${field}: ${JSON.stringify(text)} is not an IPv4 CIDR such as 192.168.1.0/24`,
      { details: { field } },
    );
  }
  const size = 2 ** (32 - prefixLength);
  const network = Math.floor(ipv4ToNumber(address) / size) * size;
  return { network, prefixLength, cidr: `${numberToIpv4(network)}/${prefixLength}` };
}

/** How many addresses hostAddresses() lists. */
export function hostCount(network: Ipv4Network): number {
  const size = 2 ** (32 - network.prefixLength);
  return size <= 2 ? size : size - 2;
}

/**
 * The host addresses of a network in ascending order: without the network and broadcast addresses,
 * except in /31 (point-to-point, RFC 3021) and /32 where every address is a host.
 */
export function hostAddresses(network: Ipv4Network): string[] {
  const size = 2 ** (32 - network.prefixLength);
  const first = size <= 2 ? network.network : network.network + 1;
  return Array.from({ length: hostCount(network) }, (_, i) => numberToIpv4(first + i));
}

export function containsAddress(network: Ipv4Network, address: string): boolean {
  const size = 2 ** (32 - network.prefixLength);
  return isIPv4(address) && Math.floor(ipv4ToNumber(address) / size) * size === network.network;
}
