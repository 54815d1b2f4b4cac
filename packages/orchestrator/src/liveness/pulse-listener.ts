import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock, Logger } from '@kraken/common';
import { noopLogger, systemClock, toKrakenError } from '@kraken/common';
import { decodePulse, verifyPulse } from './pulse.js';

export interface PulseListenerOptions {
  /** The address the API listens on: pulses come where API requests do. */
  host: string;
  /** Tried first (the API's port number, so one firewall rule number serves both); taken: any free one, as the beacon says where. */
  port: number;
  /** The node's pulse key; undefined for a node this cluster does not know. */
  keyFor: (nodeId: string) => Buffer | undefined;
  /** A valid, fresh pulse of `nodeId`. */
  onPulse: (nodeId: string) => void;
  clock?: Clock;
  logger?: Logger;
}

/** How often a run of rejected datagrams is logged: forged traffic must not flood the log. */
const REJECTED_LOG_INTERVAL_MS = 60_000;

/**
 * The leader's end of the pulse channel (see pulse.ts): checks each datagram's MAC with its node's
 * key and drops any whose sequence is not past the node's last, so a captured pulse replayed later
 * says nothing. Rejected datagrams are counted and logged at most once a minute.
 */
export class PulseListener {
  private readonly lastSeq = new Map<string, number>();
  private rejected = 0;
  private lastRejectLogAt: number | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(
    private readonly socket: Socket,
    private readonly options: PulseListenerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? noopLogger).child({ component: 'pulse-listener' });
    socket.on('message', (datagram, remote) => {
      this.received(datagram, `${remote.address}:${String(remote.port)}`);
    });
    socket.on('error', (error) => {
      this.logger.warn('the pulse socket failed', { error: error.message });
    });
  }

  static async listen(options: PulseListenerOptions): Promise<PulseListener> {
    const host = options.host.replace(/^\[(.*)\]$/, '$1');
    try {
      return new PulseListener(await bound(host, options.port), options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      return new PulseListener(await bound(host, 0), options);
    }
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Datagrams turned away so far (malformed, unknown node, bad MAC, replayed). */
  get rejectedCount(): number {
    return this.rejected;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.close(() => {
        resolve();
      });
    });
  }

  private received(datagram: Buffer, from: string): void {
    const decoded = decodePulse(datagram);
    if (!decoded.ok) {
      this.reject(from, decoded.error);
      return;
    }
    const pulse = decoded.value;
    const key = this.options.keyFor(pulse.nodeId);
    if (key === undefined) {
      this.reject(from, `a pulse of ${pulse.nodeId}, a node this cluster does not know`);
      return;
    }
    if (!verifyPulse(pulse, key)) {
      this.reject(from, `a pulse of ${pulse.nodeId} with a wrong MAC`);
      return;
    }
    // UDP may reorder: a late pulse is dropped like a replayed one, it says nothing new
    if (pulse.seq <= (this.lastSeq.get(pulse.nodeId) ?? -1)) return;
    this.lastSeq.set(pulse.nodeId, pulse.seq);
    try {
      this.options.onPulse(pulse.nodeId);
    } catch (error) {
      this.logger.warn('a pulse could not be applied', { nodeId: pulse.nodeId, error: toKrakenError(error).message });
    }
  }

  private reject(from: string, why: string): void {
    this.rejected += 1;
    const now = this.clock.now();
    if (this.lastRejectLogAt !== undefined && now - this.lastRejectLogAt < REJECTED_LOG_INTERVAL_MS) return;
    this.lastRejectLogAt = now;
    this.logger.warn(`turned away a datagram on the pulse port: ${why}`, { from, rejectedSoFar: this.rejected });
  }
}

function bound(host: string, port: number): Promise<Socket> {
  const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once('error', failed);
    socket.bind({ port, address: host }, () => {
      socket.off('error', failed);
      resolve(socket);
    });
  });
}
