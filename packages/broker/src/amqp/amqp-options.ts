import type { NetConnectOpts } from 'node:net';
import type { SocketOptions } from 'amqplib';
import amqplib from 'amqplib';
import { optionChecks } from '@kraken/common';
import { Queues } from '@kraken/messages';
import type { BrokerOptions } from '../options.js';
import type { AmqpConnect } from './connection-keeper.js';

export interface AmqpBrokerOptions extends BrokerOptions {
  /** amqp://user:password@host:port/vhost */
  url: string;
  /**
   * Other endpoints of the same broker (the other nodes of a RabbitMQ cluster), with the same user:
   * when one does not answer, the next attempt goes to the next. @default []
   */
  fallbackUrls?: readonly string[];
  /** Opens a connection; injectable for tests. @default amqplib.connect with a 10 s heartbeat */
  connect?: AmqpConnect;
  /** How long create() keeps trying before it reports RabbitMQ unreachable. @default 10_000 */
  initialConnectTimeoutMs?: number;
  /**
   * One connection attempt (TCP connect, AMQP handshake, re-declaring queues, restarting
   * consumers) is abandoned after this long and the next one follows. @default 10_000
   */
  connectTimeoutMs?: number;
  /**
   * A declaration, consumer start or dead-letter read waits at most this long, including any wait
   * for a reconnect. @default 30_000
   */
  operationTimeoutMs?: number;
  /** Reconnect backoff: first delay, growth and cap. @default 100, 2, 5_000 */
  reconnectInitialDelayMs?: number;
  reconnectFactor?: number;
  reconnectMaxDelayMs?: number;
  /** How long a durable publish may wait for RabbitMQ (across reconnects) before it fails. @default 60_000 */
  publishTimeoutMs?: number;
  /** Durable messages waiting for a confirm before new publishes are refused. @default 100_000 */
  maxPendingPublishes?: number;
  /**
   * close() waits this long for outstanding confirms and consumers to stop, then fails what is
   * left; saying goodbye to RabbitMQ takes at most 0.5 s more. @default 5_000
   */
  closeTimeoutMs?: number;
  /** Where poison and repeatedly failing messages go (one per cluster). @default Queues.DeadLetter */
  deadLetterQueue?: string;
  /**
   * Telemetry queues are quorum queues too: in a RabbitMQ cluster they then survive the node they
   * were declared on. Their bound becomes approximate (RabbitMQ may take one more message). Every
   * client of one cluster must agree, since a queue cannot be declared both ways. @default false
   */
  quorumTelemetry?: boolean;
}

export interface CompiledAmqpOptions {
  url: string;
  /** `url` first, then the fallbacks. */
  urls: readonly string[];
  connect: AmqpConnect;
  initialConnectTimeoutMs: number;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  reconnectInitialDelayMs: number;
  reconnectFactor: number;
  reconnectMaxDelayMs: number;
  publishTimeoutMs: number;
  maxPendingPublishes: number;
  closeTimeoutMs: number;
  deadLetterQueue: string;
  quorumTelemetry: boolean;
}

/** Saying goodbye to RabbitMQ (close / close-ok) gets this long before the socket is simply destroyed. */
export const GOODBYE_TIMEOUT_MS = 500;

// A 10 s heartbeat notices a dead broker or a cut network in seconds instead of RabbitMQ's 60 s default.
// amqplib hands its socket options to net.connect (its types leave that out), so `signal` destroys
// the socket even mid-handshake.
const defaultConnect: AmqpConnect = (url, { timeoutMs, signal }) => {
  const socketOptions: SocketOptions & Pick<NetConnectOpts, 'signal'> = { timeout: timeoutMs, signal };
  return amqplib.connect(url.includes('heartbeat=') ? url : `${url}${url.includes('?') ? '&' : '?'}heartbeat=10`, socketOptions);
};

export function compileAmqpOptions(options: AmqpBrokerOptions): CompiledAmqpOptions {
  const { positiveDuration, numberIn } = optionChecks('AmqpBroker');
  const urls = brokerUrls(options.url, options.fallbackUrls ?? []);
  return {
    url: options.url,
    urls,
    connect: options.connect ?? defaultConnect,
    initialConnectTimeoutMs: positiveDuration('initialConnectTimeoutMs', options.initialConnectTimeoutMs ?? 10_000),
    connectTimeoutMs: positiveDuration('connectTimeoutMs', options.connectTimeoutMs ?? 10_000),
    operationTimeoutMs: positiveDuration('operationTimeoutMs', options.operationTimeoutMs ?? 30_000),
    reconnectInitialDelayMs: positiveDuration('reconnectInitialDelayMs', options.reconnectInitialDelayMs ?? 100),
    reconnectFactor: numberIn('reconnectFactor', options.reconnectFactor ?? 2, 1, 10),
    reconnectMaxDelayMs: positiveDuration('reconnectMaxDelayMs', options.reconnectMaxDelayMs ?? 5_000),
    publishTimeoutMs: positiveDuration('publishTimeoutMs', options.publishTimeoutMs ?? 60_000),
    maxPendingPublishes: numberIn('maxPendingPublishes', options.maxPendingPublishes ?? 100_000, 1, Number.MAX_SAFE_INTEGER),
    closeTimeoutMs: positiveDuration('closeTimeoutMs', options.closeTimeoutMs ?? 5_000),
    deadLetterQueue: options.deadLetterQueue ?? Queues.DeadLetter,
    quorumTelemetry: options.quorumTelemetry ?? false,
  };
}

/** `url` first, then the fallbacks not already listed; throws InvalidConfig for one that is not AMQP. */
export function brokerUrls(url: string, fallbackUrls: readonly string[]): string[] {
  const { invalid } = optionChecks('AmqpBroker');
  const urls = [...new Set([url, ...fallbackUrls])];
  for (const each of urls) if (!/^amqps?:\/\//.test(each)) throw invalid('url', 'must start with amqp:// or amqps://');
  return urls;
}
