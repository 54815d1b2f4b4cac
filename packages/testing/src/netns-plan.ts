import { ErrorCode, KrakenError } from '@kraken/common';

/** What a network-namespace lab is made of; see createNetnsLab. */
export interface NetnsLabOptions {
  /** Short label in the namespace names (1-20 of a-z, 0-9, '-'), e.g. `'discovery'`. */
  name: string;
  /** How many hosts (namespaces), 1-200. */
  hosts: number;
  /**
   * A private IPv4 /24 such as `'10.77.5.0/24'`; the host machine takes `.1` on the bridge.
   * @default the first 10.77.N.0/24 that no route and no other lab uses
   */
  subnet?: string | undefined;
  /**
   * The last octet of each host's address, in host order (2-254, distinct). Lets a test put a host
   * where a subnet scan reaches it late.
   * @default 2, 3, ... hosts + 1
   */
  hostOctets?: readonly number[] | undefined;
}

export interface NetnsHostPlan {
  /** 1-based position in the lab. */
  readonly index: number;
  /** `h1`, `h2`, ... */
  readonly name: string;
  /** The namespace (`ip netns exec <netns> ...`). */
  readonly netns: string;
  /** Host-side end of the veth pair, enslaved to the bridge; `cut()` takes it down. */
  readonly veth: string;
  /** The interface inside the namespace. */
  readonly interfaceName: string;
  readonly address: string;
}

export interface NetnsLabPlan {
  readonly label: string;
  /** Random per lab, in namespace names and the bridge alias, so stale leftovers are found by it. */
  readonly runId: string;
  /** `a.b.c.0/24` */
  readonly subnet: string;
  readonly prefixLength: 24;
  /** Owns the subnet: its name is derived from the subnet, so creating it is the atomic claim. */
  readonly bridge: string;
  /** The host machine's address on the bridge (`.1`). */
  readonly hostAddress: string;
  readonly hosts: readonly NetnsHostPlan[];
}

const maxLabHosts = 200;
const labelPattern = /^[a-z0-9][a-z0-9-]{0,19}$/;
const subnetPattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;
/** Prefix of every lab bridge; the rest is the subnet's three octets in hex (IFNAMSIZ allows 15). */
export const bridgePrefix = 'krk';
const aliasPrefix = 'kraken-netns-lab';

function invalid(field: string, message: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `createNetnsLab: ${field}: ${message}`, { details: { field } });
}

/** The three leading octets of a private /24, or an error that says what is allowed. */
export function parseSubnet24(subnet: string): [number, number, number] {
  const match = subnetPattern.exec(subnet);
  const octets = match?.slice(1, 4).map(Number);
  if (octets?.length !== 3 || octets.some((octet) => octet > 255)) {
    throw invalid('subnet', `${JSON.stringify(subnet)} is not an IPv4 /24 written as a.b.c.0/24`);
  }
  const [a, b, c] = octets as [number, number, number];
  const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!isPrivate) {
    throw invalid(
      'subnet',
      `${subnet} is not private: use 10.x.x.0/24, 172.16-31.x.0/24 or 192.168.x.0/24 so lab traffic can never leave the machine`,
    );
  }
  return [a, b, c];
}

export function bridgeNameFor(subnet: string): string {
  return (
    bridgePrefix +
    parseSubnet24(subnet)
      .map((octet) => octet.toString(16).padStart(2, '0'))
      .join('')
  );
}

/** Every 10.77.N.0/24 in random order, so parallel runs rarely race for the same one. */
export function defaultSubnetCandidates(random: () => number = Math.random): string[] {
  const subnets = Array.from({ length: 256 }, (_, n) => `10.77.${n}.0/24`);
  for (let i = subnets.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [subnets[i], subnets[j]] = [subnets[j] as string, subnets[i] as string];
  }
  return subnets;
}

export function validateLabOptions(options: NetnsLabOptions): void {
  if (!labelPattern.test(options.name)) {
    throw invalid('name', `${JSON.stringify(options.name)} must be 1-20 of a-z, 0-9 and '-', starting with a letter or digit`);
  }
  if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > maxLabHosts) {
    throw invalid('hosts', `expected an integer from 1 to ${maxLabHosts}, got ${String(options.hosts)}`);
  }
  if (options.subnet !== undefined) parseSubnet24(options.subnet);
  const octets = options.hostOctets;
  if (octets === undefined) return;
  if (octets.length !== options.hosts) {
    throw invalid('hostOctets', `expected one octet per host (${options.hosts}), got ${octets.length}`);
  }
  for (const octet of octets) {
    if (!Number.isInteger(octet) || octet < 2 || octet > 254) {
      throw invalid(
        'hostOctets',
        `${String(octet)} is not an integer from 2 to 254 (.1 is the host machine, .0 and .255 are not hosts)`,
      );
    }
  }
  if (new Set(octets).size !== octets.length) throw invalid('hostOctets', `octets must be distinct, got ${octets.join(', ')}`);
}

/** Names and addresses of a lab on `subnet`; pure, so it is checked without touching the network. */
export function planLab(options: NetnsLabOptions, subnet: string, runId: string): NetnsLabPlan {
  validateLabOptions(options);
  const [a, b, c] = parseSubnet24(subnet);
  const prefix = `${a}.${b}.${c}`;
  const bridge = bridgeNameFor(subnet);
  const octets = options.hostOctets ?? Array.from({ length: options.hosts }, (_, i) => i + 2);
  const hosts = octets.map((octet, i): NetnsHostPlan => {
    const index = i + 1;
    return {
      index,
      name: `h${index}`,
      netns: `kraken-${options.name}-${runId}-h${index}`,
      veth: `${bridge}v${index}`,
      interfaceName: 'eth0',
      address: `${prefix}.${octet}`,
    };
  });
  return { label: options.name, runId, subnet, prefixLength: 24, bridge, hostAddress: `${prefix}.1`, hosts };
}

export interface LabOwner {
  pid: number;
  /** The owner's start time (/proc/<pid>/stat field 22), so a reused pid is not taken for the owner. */
  startTicks: string;
  runId: string;
}

/** Written as the bridge's alias, so a later run can tell a lab whose process died from a live one. */
export function labAlias(plan: NetnsLabPlan, owner: Omit<LabOwner, 'runId'>): string {
  return `${aliasPrefix} pid=${owner.pid} start=${owner.startTicks} run=${plan.runId} label=${plan.label}`;
}

export function parseLabAlias(alias: string | undefined): LabOwner | undefined {
  const match = /^kraken-netns-lab pid=(\d+) start=(\d+) run=([0-9a-f]+) /.exec(alias ?? '');
  if (match === null) return undefined;
  return { pid: Number(match[1]), startTicks: match[2] as string, runId: match[3] as string };
}

/** Tags the lab's iptables rules, so destroy (or a later sweep) deletes exactly those. */
export function ruleComment(bridge: string): string {
  return `${aliasPrefix}:${bridge}`;
}

/** True when the two IPv4 CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const [aBase, aBits] = cidrRange(a);
  const [bBase, bBits] = cidrRange(b);
  const bits = Math.min(aBits, bBits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (aBase & mask) >>> 0 === (bBase & mask) >>> 0;
}

function cidrRange(cidr: string): [number, number] {
  const [address = '', bitsText] = cidr.split('/');
  const octets = address.split('.').map(Number);
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const base = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return [base >>> 0, bits];
}
