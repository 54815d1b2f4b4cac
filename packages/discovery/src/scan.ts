import { ErrorCode, KrakenError } from '@kraken/common';
import type { Candidate } from './candidate.js';
import { CandidateSource } from './candidate.js';
import type { Ipv4Network } from './cidr.js';
import { hostAddresses, parseCidr } from './cidr.js';
import { interfaceIPv4, requireLocalIPv4 } from './interfaces.js';
import { probePing } from './ping.js';
import { clusterIdPattern, isCompatibleProtocol } from './txt.js';

export interface ScanOptions {
  /** Probe over TLS (`https://<host>:<port>/ping`): agents that serve the cluster CA's certificates. */
  secure?: boolean | undefined;
  /** Scan this interface's subnet, probing from its address. Give this or `cidr`, never neither. */
  interfaceName?: string | undefined;
  /** Scan this network, e.g. `192.168.1.0/24`. */
  cidr?: string | undefined;
  /** With `cidr`: the source address of the probes (an address of this machine). */
  localAddress?: string | undefined;
  /** The orchestrator API port to probe. */
  port: number;
  /** Probes in flight at once. @default 64 */
  concurrency?: number | undefined;
  /** Per host: an address with nothing on it costs this long. @default 300 */
  timeoutMs?: number | undefined;
  /** Networks wider than /24 (down to /16) are scanned only when this is true. @default false */
  allowLargeSubnet?: boolean | undefined;
  /** Skip orchestrators that say (in `x-kraken-cluster-id`) they belong to another cluster. */
  clusterId?: string | undefined;
  /** Stops the scan: probes in flight are aborted and the result says `aborted`. */
  signal?: AbortSignal | undefined;
  onCandidate?: ((candidate: Candidate) => void) | undefined;
  /** After every probed host. */
  onProgress?: ((progress: ScanProgress) => void) | undefined;
}

export interface ScanProgress {
  scanned: number;
  total: number;
  found: number;
}

export interface ScanResult {
  /** The network scanned, canonical (`10.0.0.0/24`). */
  cidr: string;
  /**
   * In address order: every probe is in flight at once, so the order of the answers is scheduling
   * noise, while address order is the same scan after scan.
   */
  candidates: Candidate[];
  scanned: number;
  total: number;
  aborted: boolean;
}

export const scanDefaults = { concurrency: 64, timeoutMs: 300 } as const;
const narrowestDefault = 24;
const narrowestAllowed = 16;

function invalid(field: string, message: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `scanSubnet: ${field}: ${message}`, { details: { field } });
}

interface ScanPlan {
  network: Ipv4Network;
  localAddress: string | undefined;
  concurrency: number;
  timeoutMs: number;
}

/** Checks the options and works out the network; a scan is opt-in, so nothing here is guessed. */
export function planScan(options: ScanOptions): ScanPlan {
  if ((options.interfaceName === undefined) === (options.cidr === undefined)) {
    throw invalid(
      'interfaceName',
      'give interfaceName (scan its subnet) or cidr, exactly one: a scan never picks a network by itself',
    );
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535)
    throw invalid('port', `expected a port from 1 to 65535, got ${String(options.port)}`);
  const concurrency = options.concurrency ?? scanDefaults.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
    throw invalid('concurrency', `expected an integer from 1 to 1024, got ${String(concurrency)}`);
  const timeoutMs = options.timeoutMs ?? scanDefaults.timeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 10 || timeoutMs > 60_000)
    throw invalid('timeoutMs', `expected 10 to 60000 ms, got ${String(timeoutMs)}`);
  if (options.clusterId !== undefined && !clusterIdPattern.test(options.clusterId))
    throw invalid('clusterId', `${JSON.stringify(options.clusterId)} is not a cluster id`);
  let network: Ipv4Network;
  let localAddress = options.localAddress;
  if (options.interfaceName !== undefined) {
    if (localAddress !== undefined)
      throw invalid('localAddress', 'only with cidr: with interfaceName the probes come from that interface');
    const found = interfaceIPv4(options.interfaceName);
    network = parseCidr(found.cidr, 'interfaceName');
    localAddress = found.address;
  } else {
    network = parseCidr(options.cidr as string);
    if (localAddress !== undefined) requireLocalIPv4(localAddress, 'localAddress');
  }
  const narrowest = options.allowLargeSubnet === true ? narrowestAllowed : narrowestDefault;
  if (network.prefixLength < narrowest) {
    const hint =
      options.allowLargeSubnet === true
        ? ''
        : `; pass a /24 as cidr (e.g. the one around this machine's address) or allowLargeSubnet for up to /${narrowestAllowed}`;
    throw invalid(
      options.interfaceName === undefined ? 'cidr' : 'interfaceName',
      `${network.cidr} is wider than /${narrowest}${hint}`,
    );
  }
  return { network, localAddress, concurrency, timeoutMs };
}

/**
 * Probes `http(s)://<host>:<port>/ping` on every host of one subnet, `concurrency` at a time, and
 * reports those that answer `pong` (`onCandidate` as they answer, the result in address order). The fallback for networks that drop multicast; opt-in.
 */
export async function scanSubnet(options: ScanOptions): Promise<ScanResult> {
  const plan = planScan(options);
  const hosts = hostAddresses(plan.network);
  const found = new Map<number, Candidate>(); // by the host's index in address order
  let next = 0;
  let scanned = 0;
  const aborted = (): boolean => options.signal?.aborted === true;
  const probeNext = async (): Promise<void> => {
    while (next < hosts.length && !aborted()) {
      const index = next;
      const address = hosts[index] as string;
      next += 1;
      const answer = await probePing(address, options.port, {
        timeoutMs: plan.timeoutMs,
        localAddress: plan.localAddress,
        signal: options.signal,
        secure: options.secure,
      });
      if (aborted()) return; // an aborted probe says nothing about the host
      scanned += 1;
      const clusterMatches =
        options.clusterId === undefined || answer?.clusterId === undefined || answer.clusterId === options.clusterId;
      if (answer !== undefined && clusterMatches) {
        const candidate: Candidate = {
          url: `${options.secure === true ? 'https' : 'http'}://${address}:${options.port}`,
          source: CandidateSource.Scan,
          clusterId: answer.clusterId,
          role: undefined,
          priority: undefined,
          protocolVersion: answer.protocolVersion,
          compatible: isCompatibleProtocol(answer.protocolVersion),
        };
        found.set(index, candidate);
        options.onCandidate?.(candidate);
      }
      options.onProgress?.({ scanned, total: hosts.length, found: found.size });
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, hosts.length) }, probeNext));
  const candidates = [...found.entries()].sort(([a], [b]) => a - b).map(([, candidate]) => candidate);
  return { cidr: plan.network.cidr, candidates, scanned, total: hosts.length, aborted: aborted() };
}
