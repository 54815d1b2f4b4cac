import type { EventEmitter } from 'node:events';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError } from '@kraken/common';
import { Bonjour } from 'bonjour-service';
import { requireLocalIPv4 } from './interfaces.js';

/** The DNS-SD service type every Kraken agent announces and browses. */
export const serviceType = 'kraken';
export const serviceProtocol = 'tcp';

/** One mDNS socket on one interface, with the failure paths bonjour-service leaves open closed. */
export interface MdnsSession {
  readonly bonjour: Bonjour;
  /** Resolves once the socket is bound; rejects with the bind error (port 5353 taken without SO_REUSEADDR, no permission). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

interface MulticastDns extends EventEmitter {
  destroy(callback?: () => void): void;
}

/**
 * Opens bonjour-service on `interfaceAddress`. Binding `0.0.0.0` with `interface` set is what
 * receives multicast: binding the unicast address receives nothing. Errors that bonjour-service
 * would throw from a socket callback (and so crash the process) are logged instead.
 */
export function openMdns(interfaceAddress: string, logger: Logger): MdnsSession {
  requireLocalIPv4(interfaceAddress, 'interfaceAddress');
  // multicast-dns options travel through bonjour-service's constructor, whose type does not list them
  const socketOptions = { interface: interfaceAddress, bind: '0.0.0.0' } as unknown as ConstructorParameters<typeof Bonjour>[0];
  const bonjour = new Bonjour(socketOptions, (error: unknown) => {
    logger.warn('mdns: could not answer a query', { error });
  });
  // bonjour-service keeps the multicast-dns instance private; its 'error' event has no other listener
  const mdns = (bonjour as unknown as { server: { mdns: MulticastDns } }).server.mdns;
  mdns.on('warning', (error: unknown) => {
    logger.debug('mdns: socket warning', { error });
  });
  const ready = new Promise<void>((resolve, reject) => {
    mdns.once('ready', resolve);
    mdns.on('error', (error: unknown) => {
      logger.error('mdns: socket error', { error });
      reject(
        new KrakenError(ErrorCode.Unavailable, `mdns: cannot use UDP port 5353 on ${interfaceAddress}: ${String(error)}`, {
          cause: error,
        }),
      );
    });
  });
  // a rejection nobody awaits yet (the caller awaits ready) must not become unhandled
  ready.catch(() => undefined);
  let closed: Promise<void> | undefined;
  return {
    bonjour,
    ready,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        bonjour.destroy(() => {
          resolve();
        });
      });
      return closed;
    },
  };
}
