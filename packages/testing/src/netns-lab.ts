import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { ErrorCode, KrakenError } from '@kraken/common';
import { onExitCleanup } from './exit-cleanup.js';
import type { CommandResult, RunOptions } from './netns-exec.js';
import { isMissingCommand, runCommand } from './netns-exec.js';
import type { NetnsHostPlan, NetnsLabOptions, NetnsLabPlan } from './netns-plan.js';
import { cidrsOverlap, defaultSubnetCandidates, labAlias, planLab, validateLabOptions } from './netns-plan.js';
import type { LabResources } from './netns-teardown.js';
import {
  acceptRule,
  hostIsolationRules,
  hostPortRule,
  killNamespaceProcesses,
  labChains,
  processStartTicks,
  sweepStaleLabs,
  teardownLab,
  teardownLabSync,
} from './netns-teardown.js';

export type NetnsHost = NetnsHostPlan;
/** A host by 1-based index, by name (`'h2'`) or the host object itself. */
export type NetnsHostRef = number | string | NetnsHost;

/**
 * Hosts on a private bridge, each a network namespace with its own IPv4 address, for tests that
 * need several machines (mDNS, subnet scans, cut-off nodes) without sending a packet elsewhere.
 * The host machine has `hostAddress` on the bridge, but the lab's hosts reach none of its services
 * (whatever else runs on the machine, e.g. a Kraken of its own on 0.0.0.0:4000, stays out of the
 * lab) except the TCP ports a test opens with `allowHostPort`, and answers to connections the
 * machine opens into the lab. There is no default route: nothing leaves the lab.
 */
export interface NetnsLab extends AsyncDisposable {
  readonly name: string;
  /** `a.b.c.0/24` */
  readonly subnet: string;
  readonly prefixLength: 24;
  readonly bridge: string;
  /** The host machine's address on the bridge (`.1`); closed to the lab but for allowHostPort's ports. */
  readonly hostAddress: string;
  readonly hosts: readonly NetnsHost[];
  host(ref: NetnsHostRef): NetnsHost;
  /** Lets the lab's hosts connect to this TCP port on `hostAddress` (a service the test started there). */
  allowHostPort(port: number): Promise<void>;
  /** Runs a command inside the host's namespace and resolves with its output; rejects when it fails. */
  exec(ref: NetnsHostRef, argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /**
   * Starts a process inside the host's namespace (`ip netns exec`, which execs the command, so the
   * child's pid is the command's). destroy() kills whatever still runs in the namespace.
   */
  spawn(ref: NetnsHostRef, argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /**
   * Every process of the host dies at once: SIGKILL to each one in its namespace (whatever it runs:
   * an agent, its RabbitMQ node, a Docker engine and its containerd). Resolves once the signals are
   * sent; the namespace and its address stay, so the host can be started again. Its network stack
   * stays too and resets the other hosts' connections to it at once; for a machine that loses
   * power, which answers nothing any more, `cut` the host first.
   */
  killHost(ref: NetnsHostRef): Promise<void>;
  /** Pulls the host's cable: its end of the link goes down, the namespace itself is untouched. */
  cut(ref: NetnsHostRef): Promise<void>;
  /** Plugs the cable back in. */
  restore(ref: NetnsHostRef): Promise<void>;
  /**
   * A bad link rather than none: drops `lossPercent` of the host's packets in each direction at
   * random (iptables' `statistic` match inside its namespace; this kernel has no `netem`), so TCP
   * stalls and retransmits the way it does on a flaky Wi-Fi. Replaces an earlier impairment.
   */
  impair(ref: NetnsHostRef, impairment: LinkImpairment): Promise<void>;
  /** The link is clean again. */
  clearImpairment(ref: NetnsHostRef): Promise<void>;
  /**
   * Sends the host's TCP connections for `to` through `via` instead (DNAT inside its namespace), e.g.
   * through a delaying relay (startTcpRelay) the test runs on the host machine.
   */
  redirectTcp(ref: NetnsHostRef, to: TcpEndpoint, via: TcpEndpoint): Promise<void>;
  /** Kills what runs in the lab, removes namespaces, links, bridge and iptables rules. Idempotent. */
  destroy(): Promise<void>;
}

export interface LinkImpairment {
  /** Share of packets dropped in each direction, 0 < lossPercent < 100. */
  lossPercent: number;
}

export interface TcpEndpoint {
  address: string;
  port: number;
}

/** The chain impair() fills inside a host's namespace, so clearing it never touches other rules. */
const IMPAIR_CHAIN = 'KRAKEN-IMPAIR';

/** Creates the lab (needs root). Call destroy() in afterAll; an exit hook covers a crashed test. */
export async function createNetnsLab(options: NetnsLabOptions): Promise<NetnsLab> {
  validateLabOptions(options);
  if (process.getuid?.() !== 0) {
    throw new KrakenError(
      ErrorCode.Unavailable,
      'createNetnsLab needs root (network namespaces, a bridge and iptables rules): run the tests as root',
    );
  }
  await sweepStaleLabs();
  const runId = randomBytes(4).toString('hex');
  const plan = await claimSubnet(options, runId);
  const resources: LabResources = {
    bridge: plan.bridge,
    runId,
    namespaces: plan.hosts.map((host) => host.netns),
    veths: plan.hosts.map((host) => host.veth),
  };
  // a last resort when the process ends without destroy() (a failed test, Ctrl-C)
  const forget = onExitCleanup(() => {
    teardownLabSync(resources);
  });
  try {
    await buildLab(plan);
  } catch (error) {
    await teardownLab(resources);
    forget();
    throw error;
  }
  return labHandle(plan, resources, forget);
}

async function occupiedRoutes(): Promise<string[]> {
  const routes = JSON.parse((await runCommand(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])).stdout) as {
    dst?: string;
    type?: string;
  }[];
  return routes
    .filter(
      (route) => route.type !== 'broadcast' && route.type !== 'multicast' && route.dst !== undefined && route.dst !== 'default',
    )
    .map((route) => route.dst as string)
    .filter((dst) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst) && !dst.startsWith('127.'));
}

/**
 * Creates the bridge of the first usable subnet. Its name is derived from the subnet, so the kernel
 * refusing a second `ip link add` of that name is what keeps parallel labs on different subnets.
 */
async function claimSubnet(options: NetnsLabOptions, runId: string): Promise<NetnsLabPlan> {
  const explicit = options.subnet !== undefined;
  const candidates = options.subnet === undefined ? defaultSubnetCandidates() : [options.subnet];
  const routes = await occupiedRoutes();
  const owner = { pid: process.pid, startTicks: processStartTicks(process.pid) ?? '0' };
  for (const subnet of candidates) {
    const inUse = routes.find((route) => cidrsOverlap(route, subnet));
    if (inUse !== undefined) {
      if (explicit)
        throw new KrakenError(
          ErrorCode.Conflict,
          `createNetnsLab: subnet ${subnet} overlaps the route to ${inUse} on this machine: choose another`,
        );
      continue;
    }
    const plan = planLab(options, subnet, runId);
    try {
      await runCommand(['ip', 'link', 'add', plan.bridge, 'type', 'bridge']);
    } catch (error) {
      if (explicit)
        throw new KrakenError(
          ErrorCode.Conflict,
          `createNetnsLab: subnet ${subnet} is taken by another lab (bridge ${plan.bridge} exists)`,
          { cause: error },
        );
      continue;
    }
    await runCommand(['ip', 'link', 'set', plan.bridge, 'alias', labAlias(plan, owner)]);
    return plan;
  }
  throw new KrakenError(
    ErrorCode.Unavailable,
    'createNetnsLab: every 10.77.N.0/24 is in use by routes or other labs: destroy old labs or pass a subnet',
  );
}

async function disableIpv6(interfaceName: string): Promise<void> {
  try {
    await writeFile(`/proc/sys/net/ipv6/conf/${interfaceName}/disable_ipv6`, '1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // kernel without IPv6: already off
  }
}

async function openForwarding(plan: NetnsLabPlan): Promise<void> {
  for (const chain of labChains) {
    try {
      await runCommand(['iptables', '-w', '-S', chain]);
    } catch (error) {
      // no iptables at all, or no such chain (DOCKER-USER exists only with Docker): nothing filters there
      if (isMissingCommand(error) || chain !== 'FORWARD') continue;
      throw error;
    }
    await runCommand(['iptables', '-w', '-I', chain, '1', ...acceptRule(plan.bridge, plan.runId)]);
  }
}

/** Closes the host machine to the lab (see hostIsolationRules); without iptables there is nothing to close it with. */
async function isolateHostMachine(plan: NetnsLabPlan): Promise<void> {
  for (const rule of hostIsolationRules(plan.bridge, plan.runId)) {
    try {
      await runCommand(['iptables', '-w', ...rule]);
    } catch (error) {
      if (isMissingCommand(error)) return;
      throw error;
    }
  }
}

async function buildLab(plan: NetnsLabPlan): Promise<void> {
  // IPv6 off: adverts would otherwise carry link-local addresses, and nothing here needs it
  await disableIpv6(plan.bridge);
  await runCommand(['ip', 'addr', 'add', `${plan.hostAddress}/${plan.prefixLength}`, 'dev', plan.bridge]);
  await runCommand(['ip', 'link', 'set', plan.bridge, 'up']);
  await openForwarding(plan);
  await isolateHostMachine(plan);
  for (const host of plan.hosts) {
    const inNs = (...args: string[]): Promise<CommandResult> => runCommand(['ip', '-n', host.netns, ...args]);
    await runCommand(['ip', 'netns', 'add', host.netns]);
    await runCommand(['ip', 'link', 'add', host.veth, 'type', 'veth', 'peer', 'name', host.interfaceName, 'netns', host.netns]);
    await disableIpv6(host.veth);
    await runCommand(['ip', 'link', 'set', host.veth, 'master', plan.bridge, 'up']);
    await runCommand([
      'ip',
      'netns',
      'exec',
      host.netns,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await inNs('addr', 'add', `${host.address}/${plan.prefixLength}`, 'dev', host.interfaceName);
    await inNs('link', 'set', 'lo', 'up');
    await inNs('link', 'set', host.interfaceName, 'up');
    // no default route (nothing may leave the lab), so multicast (mDNS) needs its own
    await inNs('route', 'add', '224.0.0.0/4', 'dev', host.interfaceName);
  }
}

function labHandle(plan: NetnsLabPlan, resources: LabResources, forget: () => void): NetnsLab {
  let destroyed: Promise<void> | undefined;
  const host = (ref: NetnsHostRef): NetnsHost => {
    const found =
      typeof ref === 'number'
        ? plan.hosts[ref - 1]
        : typeof ref === 'string'
          ? plan.hosts.find((h) => h.name === ref)
          : plan.hosts.find((h) => h.netns === ref.netns);
    if (found === undefined) {
      throw new KrakenError(
        ErrorCode.NotFound,
        `netns lab ${plan.label}: no host ${typeof ref === 'object' ? ref.name : String(ref)} (hosts: ${plan.hosts.map((h) => h.name).join(', ')})`,
      );
    }
    return found;
  };
  const destroy = (): Promise<void> => {
    destroyed ??= teardownLab(resources).finally(forget);
    return destroyed;
  };
  return {
    name: plan.label,
    subnet: plan.subnet,
    prefixLength: plan.prefixLength,
    bridge: plan.bridge,
    hostAddress: plan.hostAddress,
    hosts: plan.hosts,
    host,
    allowHostPort: async (port) => {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new KrakenError(ErrorCode.InvalidInput, `netns lab ${plan.label}: allowHostPort: ${String(port)} is not a TCP port`);
      }
      await runCommand(['iptables', '-w', ...hostPortRule(plan.bridge, plan.runId, port)]);
    },
    exec: (ref, argv, options) => runCommand(['ip', 'netns', 'exec', host(ref).netns, ...argv], options),
    spawn: (ref, argv, options = {}) => spawn('ip', ['netns', 'exec', host(ref).netns, ...argv], options),
    killHost: (ref) => killNamespaceProcesses(host(ref).netns),
    cut: async (ref) => {
      await runCommand(['ip', 'link', 'set', host(ref).veth, 'down']);
    },
    restore: async (ref) => {
      await runCommand(['ip', 'link', 'set', host(ref).veth, 'up']);
    },
    impair: async (ref, { lossPercent }) => {
      if (!(lossPercent > 0 && lossPercent < 100)) {
        throw new KrakenError(ErrorCode.InvalidInput, `netns lab ${plan.label}: impair: lossPercent must be between 0 and 100, got ${String(lossPercent)}`);
      }
      const target = host(ref);
      const iptables = (...args: string[]) => runCommand(['ip', 'netns', 'exec', target.netns, 'iptables', '-w', ...args]);
      await clearImpairment(target);
      await iptables('-N', IMPAIR_CHAIN);
      await iptables('-A', IMPAIR_CHAIN, '-m', 'statistic', '--mode', 'random', '--probability', String(lossPercent / 100), '-j', 'DROP');
      // the link only: the host's loopback (its own RabbitMQ node, its apps) stays clean
      await iptables('-I', 'INPUT', '-i', target.interfaceName, '-j', IMPAIR_CHAIN);
      await iptables('-I', 'OUTPUT', '-o', target.interfaceName, '-j', IMPAIR_CHAIN);
    },
    clearImpairment: (ref) => clearImpairment(host(ref)),
    redirectTcp: async (ref, to, via) => {
      await runCommand([
        'ip', 'netns', 'exec', host(ref).netns, 'iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp',
        '-d', to.address, '--dport', String(to.port), '-j', 'DNAT', '--to-destination', `${via.address}:${via.port}`,
      ]);
    },
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}

async function clearImpairment(target: NetnsHost): Promise<void> {
  const iptables = (...args: string[]) => runCommand(['ip', 'netns', 'exec', target.netns, 'iptables', '-w', ...args]);
  // each step may find nothing to remove: the host was never impaired, or was cleared already
  await iptables('-D', 'INPUT', '-i', target.interfaceName, '-j', IMPAIR_CHAIN).catch(() => undefined);
  await iptables('-D', 'OUTPUT', '-o', target.interfaceName, '-j', IMPAIR_CHAIN).catch(() => undefined);
  await iptables('-F', IMPAIR_CHAIN).catch(() => undefined);
  await iptables('-X', IMPAIR_CHAIN).catch(() => undefined);
}
