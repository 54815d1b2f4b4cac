import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock, Logger } from '@kraken/common';
import { noopLogger, optionChecks, systemClock } from '@kraken/common';
import { DEFAULT_PULSE_INTERVAL_MS, encodePulse } from './pulse.js';

/** Where the leader takes pulses: its API's host and the port its beacon names. */
export interface PulseTarget {
  host: string;
  port: number;
}

export interface PulseSenderOptions {
  nodeId: string;
  /** This node's pulse key, from its join answer. */
  key: Buffer;
  /** Read at every pulse (the leader may change); undefined: nowhere to send yet. */
  target: () => PulseTarget | undefined;
  /** @default DEFAULT_PULSE_INTERVAL_MS (500) */
  intervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/**
 * An agent's end of the pulse channel (see pulse.ts): a signed datagram to the leader every
 * interval, whatever its broker connection does. Sending never throws: a pulse that cannot go out
 * is one the leader does not get, which is what the channel is built to survive.
 */
export class PulseSender {
  private readonly timer: NodeJS.Timeout;
  private readonly sockets = new Map<'udp4' | 'udp6', Socket>();
  private lastSeq = 0;
  private failing = false;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private constructor(private readonly options: PulseSenderOptions) {
    const intervalMs = optionChecks('PulseSender').positiveDuration('intervalMs', options.intervalMs ?? DEFAULT_PULSE_INTERVAL_MS);
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? noopLogger).child({ component: 'pulse-sender' });
    this.timer = setInterval(() => {
      this.send();
    }, intervalMs);
    this.timer.unref();
  }

  static start(options: PulseSenderOptions): PulseSender {
    return new PulseSender(options);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }

  private send(): void {
    const target = this.options.target();
    if (target === undefined) return;
    // the clock, never going back: a restarted agent's pulses still come after its last ones
    this.lastSeq = Math.max(this.clock.now(), this.lastSeq + 1);
    const datagram = encodePulse({ nodeId: this.options.nodeId, seq: this.lastSeq }, this.options.key);
    const host = target.host.replace(/^\[(.*)\]$/, '$1');
    this.socket(isIPv6(host) ? 'udp6' : 'udp4').send(datagram, target.port, host, (error) => {
      // said once per run of failures: an unreachable leader would otherwise log four lines a second
      if (error !== null && !this.failing) this.logger.warn('a pulse to the leader could not be sent', { to: `${host}:${String(target.port)}`, error: error.message });
      this.failing = error !== null;
    });
  }

  private socket(type: 'udp4' | 'udp6'): Socket {
    let socket = this.sockets.get(type);
    if (socket === undefined) {
      socket = createSocket(type);
      socket.on('error', (error) => {
        this.logger.debug('the pulse socket failed', { error: error.message });
      });
      socket.unref();
      this.sockets.set(type, socket);
    }
    return socket;
  }
}
