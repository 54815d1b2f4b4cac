import { isIPv4 } from 'node:net';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger } from '@kraken/common';
import type { Service } from 'bonjour-service';
import type { Candidate } from './candidate.js';
import { CandidateSource } from './candidate.js';
import { openMdns, serviceProtocol, serviceType } from './mdns.js';
import { DiscoveryRole, clusterIdPattern, decodeTxt, isCompatibleProtocol } from './txt.js';

export interface BrowseOptions {
  /** This machine's IPv4 address on the interface to browse on. */
  interfaceAddress: string;
  /** Report only services of this cluster. */
  clusterId?: string | undefined;
  /** Called for each service found, and again with the new values when its TXT record changes (a standby became leader). */
  onCandidate: (candidate: Candidate) => void;
  /**
   * Called when a candidate goes: a goodbye (graceful stop), its record expiring, or its TXT no longer
   * matching. A killed agent sends no goodbye: liveness comes from heartbeats.
   */
  onGone?: ((candidate: Candidate) => void) | undefined;
  /**
   * The browser asks again after this long, then doubling up to `requeryMaxMs` (RFC 6762 §5.2): one
   * query can be lost, and bonjour-service sends only the first.
   * @default 1_000
   */
  requeryMinMs?: number | undefined;
  /** @default 15_000 */
  requeryMaxMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface Browsing {
  /** The candidates seen so far and not gone. */
  readonly candidates: readonly Candidate[];
  stop(): Promise<void>;
}

/**
 * The candidate a service stands for, or an error message when it is not a usable Kraken advert.
 * The address is the one the answer came from: adverts list every interface of the sender
 * (docker0, link-local), and only the sender's address is known to be on our network.
 */
export function candidateFromService(service: Pick<Service, 'name' | 'txt' | 'referer'>): Candidate | string {
  const txt = decodeTxt(service.txt as Record<string, unknown> | undefined);
  if (!txt.ok) return txt.error.message;
  const address = service.referer?.address;
  if (address === undefined || !isIPv4(address)) return `no IPv4 sender address (${String(address)})`;
  return {
    url: `http://${address}:${txt.value.apiPort}`,
    source: CandidateSource.Mdns,
    clusterId: txt.value.clusterId,
    role: txt.value.role,
    priority: txt.value.priority,
    protocolVersion: txt.value.protocolVersion,
    compatible: isCompatibleProtocol(txt.value.protocolVersion),
    name: service.name,
  };
}

function checkBrowseOptions(options: BrowseOptions): { requeryMinMs: number; requeryMaxMs: number } {
  if (options.clusterId !== undefined && !clusterIdPattern.test(options.clusterId)) {
    throw new KrakenError(ErrorCode.InvalidInput, `browse: clusterId: ${JSON.stringify(options.clusterId)} is not a cluster id`, {
      details: { field: 'clusterId' },
    });
  }
  const requeryMinMs = options.requeryMinMs ?? 1_000;
  const requeryMaxMs = options.requeryMaxMs ?? 15_000;
  if (!(requeryMinMs >= 100) || !(requeryMaxMs >= requeryMinMs)) {
    throw new KrakenError(
      ErrorCode.InvalidInput,
      `browse: requeryMinMs (${requeryMinMs}) must be at least 100 and requeryMaxMs (${requeryMaxMs}) at least requeryMinMs`,
      {
        details: { field: 'requeryMinMs' },
      },
    );
  }
  return { requeryMinMs, requeryMaxMs };
}

/** Browses `_kraken._tcp` on one interface until stop(); resolves once the socket is bound and the first query is on its way. */
export async function browse(options: BrowseOptions): Promise<Browsing> {
  const { requeryMinMs, requeryMaxMs } = checkBrowseOptions(options);
  const logger = (options.logger ?? noopLogger).child({ component: 'discovery' });
  const session = openMdns(options.interfaceAddress, logger);
  try {
    await session.ready;
  } catch (error) {
    await session.close();
    throw error;
  }
  const current = new Map<string, Candidate>();
  // anything on the LAN may announce _kraken._tcp: say once per service and reason why it is ignored
  const reported = new Set<string>();
  const drop = (fqdn: string): void => {
    const candidate = current.get(fqdn);
    current.delete(fqdn);
    if (candidate !== undefined) options.onGone?.(candidate);
  };
  const consider = (service: Service): void => {
    const candidate = candidateFromService(service);
    if (typeof candidate === 'string') {
      const key = `${service.fqdn} ${candidate}`;
      if (!reported.has(key)) logger.warn('ignoring an mDNS advert', { service: service.fqdn, reason: candidate });
      reported.add(key);
      drop(service.fqdn); // a known service whose TXT turned invalid is no longer a candidate
      return;
    }
    if (options.clusterId !== undefined && candidate.clusterId !== options.clusterId) {
      drop(service.fqdn);
      return;
    }
    current.set(service.fqdn, candidate);
    options.onCandidate(candidate);
  };
  const browser = session.bonjour.find({ type: serviceType, protocol: serviceProtocol });
  browser.on('up', consider);
  browser.on('txt-update', consider);
  browser.on('srv-update', consider);
  browser.on('down', (service: Service) => {
    drop(service.fqdn);
  });
  let delay = requeryMinMs;
  let timer: NodeJS.Timeout | undefined;
  const requery = (): void => {
    timer = setTimeout(() => {
      browser.expire();
      browser.update();
      delay = Math.min(delay * 2, requeryMaxMs);
      requery();
    }, delay);
  };
  requery();
  let stopped: Promise<void> | undefined;
  return {
    get candidates() {
      return [...current.values()];
    },
    stop: () => {
      stopped ??= (async () => {
        clearTimeout(timer);
        browser.stop();
        await session.close();
      })();
      return stopped;
    },
  };
}

export interface FindOrchestratorOptions extends Omit<BrowseOptions, 'onCandidate' | 'onGone'> {
  /** Look this long at most (findOrchestrator then resolves undefined). */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Also accept an orchestrator of another major protocol version. @default false */
  includeIncompatible?: boolean | undefined;
}

export interface FindOrchestratorsOptions extends FindOrchestratorOptions {
  /**
   * Once the first orchestrator is seen, wait this much longer for others, then resolve (never later
   * than `timeoutMs`). Every orchestrator on the link answers the same query, so others follow within
   * moments; the wait covers a lost answer too when it spans a re-query.
   * @default timeoutMs (look for the whole window)
   */
  settleMs?: number | undefined;
}

function checkFindOptions(options: FindOrchestratorsOptions, name: string): void {
  for (const field of ['timeoutMs', 'settleMs'] as const) {
    const value = options[field];
    if (value === undefined && field === 'settleMs') continue;
    if (!(typeof value === 'number' && value >= 0)) {
      throw new KrakenError(
        ErrorCode.InvalidInput,
        `${name}: ${field}: expected a number of milliseconds >= 0, got ${String(value)}`,
        { details: { field } },
      );
    }
  }
}

/**
 * Every orchestrator (role `orchestrator`, and of a compatible protocol unless asked otherwise) that
 * mDNS finds within the window, in the order they answered, each service once and gone ones left
 * out. Several clusters can share a LAN (a classroom, a lab): a joining agent needs all of them to
 * find the one that accepts its join token. Standbys and workers announce too; they are left out.
 */
export async function findOrchestrators(options: FindOrchestratorsOptions): Promise<Candidate[]> {
  checkFindOptions(options, 'findOrchestrators');
  const { timeoutMs, settleMs = timeoutMs, signal, includeIncompatible, ...browseOptions } = options;
  const deadline = Date.now() + timeoutMs;
  if (signal?.aborted === true) return [];
  const wanted = (candidate: Candidate): boolean =>
    candidate.role === DiscoveryRole.Orchestrator && (candidate.compatible || includeIncompatible === true);
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let settleTimer: NodeJS.Timeout | undefined;
  // a timer callback: it runs after `browsing` is set
  const settle = (): void => {
    // the one seen may have left (goodbye) or turned standby meanwhile: then keep looking
    if (browsing.candidates.some(wanted)) finish();
    else settleTimer = undefined;
  };
  const browsing = await browse({
    ...browseOptions,
    onCandidate: (candidate) => {
      if (!wanted(candidate) || settleTimer !== undefined) return;
      settleTimer = setTimeout(settle, Math.max(0, Math.min(settleMs, deadline - Date.now())));
    },
  });
  const deadlineTimer = setTimeout(finish, Math.max(0, deadline - Date.now()));
  signal?.addEventListener('abort', finish, { once: true });
  try {
    await finished;
    return browsing.candidates.filter(wanted);
  } finally {
    clearTimeout(settleTimer);
    clearTimeout(deadlineTimer);
    signal?.removeEventListener('abort', finish);
    await browsing.stop();
  }
}

/**
 * The first orchestrator (role `orchestrator`, and of a compatible protocol unless asked otherwise)
 * that mDNS finds within `timeoutMs`, or undefined. For the quickest answer where any orchestrator
 * will do; a joining agent wants `findOrchestrators`.
 */
export async function findOrchestrator(options: FindOrchestratorOptions): Promise<Candidate | undefined> {
  checkFindOptions(options, 'findOrchestrator');
  const [first] = await findOrchestrators({ ...options, settleMs: 0 });
  return first;
}
