import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger, withTimeout } from '@kraken/common';
import { openMdns, serviceProtocol, serviceType } from './mdns.js';
import type { KrakenTxt, KrakenTxtInput } from './txt.js';
import { decodeTxt, encodeTxt } from './txt.js';

export interface AnnounceOptions {
  /**
   * Instance name, unique on the LAN (the node id suits): the service is `<name>._kraken._tcp.local`
   * and its host `<name>.local` (namespaces and cloned machines share a hostname, so the OS's is not used).
   * 1-63 letters, digits, '_' or '-': a '.' would split the DNS name.
   */
  name: string;
  /** The SRV record's port. Candidates are built from `txt.apiPort`. */
  port: number;
  txt: KrakenTxtInput;
  /** This machine's IPv4 address on the interface to announce on; announcements go out there only. */
  interfaceAddress: string;
  /**
   * Probe for another service of the same name first (RFC 6762 §8.1), which delays the first
   * announcement by ~0.75 s. Turn off only when names are known to be unique (node ids).
   * @default true
   */
  probe?: boolean | undefined;
  /** How long to wait for the first announcement to go out (a probe that finds the name taken never announces). @default 5_000 */
  publishTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

export interface Announcement {
  readonly name: string;
  readonly txt: KrakenTxt;
  /** Sends a goodbye (TTL 0), so browsers drop this service at once, and closes the socket. Idempotent. */
  stop(): Promise<void>;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

function invalid(field: string, message: string): KrakenError {
  return new KrakenError(ErrorCode.InvalidInput, `announce: ${field}: ${message}`, { details: { field } });
}

/** Announces this agent as `_kraken._tcp` and resolves once the first announcement is sent. */
export async function announce(options: AnnounceOptions): Promise<Announcement> {
  if (!namePattern.test(options.name)) {
    throw invalid(
      'name',
      `${JSON.stringify(options.name)} must be 1-63 letters, digits, '_' or '-' (no '.'), starting with a letter or digit`,
    );
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535)
    throw invalid('port', `expected a port from 1 to 65535, got ${String(options.port)}`);
  const txtRecord = encodeTxt(options.txt);
  const decoded = decodeTxt(txtRecord);
  if (!decoded.ok) throw decoded.error; // encodeTxt validated every field: only a bug gets here
  const logger = (options.logger ?? noopLogger).child({ component: 'discovery', service: options.name });
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const session = openMdns(options.interfaceAddress, logger);
  try {
    await session.ready;
    const service = session.bonjour.publish({
      name: options.name,
      type: serviceType,
      protocol: serviceProtocol,
      port: options.port,
      host: `${options.name}.local`,
      txt: txtRecord,
      probe: options.probe ?? true,
      disableIPv6: true,
    });
    const up = new Promise<void>((resolve) => {
      service.once('up', () => {
        resolve();
      });
    });
    await withTimeout(up, publishTimeoutMs, () => {
      throw new KrakenError(
        ErrorCode.Timeout,
        `announce: ${options.name}._${serviceType}._${serviceProtocol}.local was not announced within ${publishTimeoutMs} ms: another service on the LAN may use the name`,
      );
    });
  } catch (error) {
    await session.close();
    throw error;
  }
  logger.info('announced', { interfaceAddress: options.interfaceAddress, txt: decoded.value });
  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    txt: decoded.value,
    stop: () => {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          session.bonjour.unpublishAll(() => {
            resolve();
          });
        });
        await session.close();
        logger.info('announcement withdrawn');
      })();
      return stopped;
    },
  };
}
