import { isIPv4 } from 'node:net';
import os from 'node:os';
import { ErrorCode, KrakenError } from '@kraken/common';

export type NetworkInterfaces = ReturnType<typeof os.networkInterfaces>;

export interface InterfaceIPv4 {
  /** Interface name, e.g. `eth0`. */
  name: string;
  address: string;
  /** The interface's subnet as `address/prefix`, e.g. `10.0.0.5/24`. */
  cidr: string;
}

/** Every non-loopback IPv4 address of this machine, for listing choices in errors and help. */
export function localIPv4s(interfaces: NetworkInterfaces = os.networkInterfaces()): InterfaceIPv4[] {
  return Object.entries(interfaces).flatMap(([name, addresses]) =>
    (addresses ?? [])
      .filter((info) => info.family === 'IPv4' && !info.internal && info.cidr !== null)
      .map((info) => ({ name, address: info.address, cidr: info.cidr as string })),
  );
}

function describe(choices: readonly InterfaceIPv4[]): string {
  return choices.length === 0
    ? 'this machine has no non-loopback IPv4 address'
    : `choose one of ${choices.map((c) => `${c.name} ${c.address}`).join(', ')}`;
}

/** The first IPv4 address of interface `name`; a clear error when there is none. */
export function interfaceIPv4(name: string, interfaces: NetworkInterfaces = os.networkInterfaces()): InterfaceIPv4 {
  const choices = localIPv4s(interfaces);
  const found = choices.find((choice) => choice.name === name);
  if (found === undefined) {
    throw new KrakenError(
      ErrorCode.NotFound,
      `interfaceName: no IPv4 address on interface ${JSON.stringify(name)}: ${describe(choices)}`,
      {
        details: { field: 'interfaceName' },
      },
    );
  }
  return found;
}

/**
 * Checks that `address` is an IPv4 address of this machine. Multicast joined on an address the
 * machine does not have fails silently (a warning deep in multicast-dns), so say it up front.
 */
export function requireLocalIPv4(address: string, field: string, interfaces: NetworkInterfaces = os.networkInterfaces()): void {
  const choices = localIPv4s(interfaces);
  if (!isIPv4(address)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `${field}: ${JSON.stringify(address)} is not an IPv4 address: ${describe(choices)}`,
      { details: { field } },
    );
  }
  if (!choices.some((choice) => choice.address === address)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `${field}: ${address} is not an address of this machine: ${describe(choices)}`,
      { details: { field } },
    );
  }
}
