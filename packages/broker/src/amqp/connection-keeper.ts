import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel } from 'amqplib';
import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, toKrakenError } from '@kraken/common';
import { abandonConnection, closeConnectionWithin, timedOut, untilAborted } from './deadline.js';
import { redactUrl } from './topology.js';

/**
 * Opens one AMQP connection. `timeoutMs` bounds the TCP connect and the AMQP handshake; `signal`
 * aborts the attempt (the socket must be destroyed then, even mid-handshake).
 */
export type AmqpConnect = (url: string, options: { timeoutMs: number; signal: AbortSignal }) => Promise<ChannelModel>;

/** Where a connection attempt is, so an attempt that runs out of time can say at which step. */
export interface AttemptProgress {
  step: string;
}

export interface ConnectionKeeperOptions {
  /** Endpoints of one broker (the nodes of one RabbitMQ cluster): attempts go round them in order. */
  urls: readonly string[];
  connect: AmqpConnect;
  /** One attempt (connect, handshake and setup) is abandoned after this long. */
  connectTimeoutMs: number;
  reconnectInitialDelayMs: number;
  reconnectFactor: number;
  reconnectMaxDelayMs: number;
  logger: Logger;
  /**
   * Rebuilds what a connection carries (topology, channels, consumers), within the attempt's
   * deadline; sets `progress.step` as it goes. Returns what to run once the connection is the live
   * one (nothing may use a connection the attempt could still abandon).
   */
  setup(connection: ChannelModel, progress: AttemptProgress): Promise<() => void>;
  /** The live connection is gone: detach everything that used it. */
  onLost(): void;
  onConnected(info: { reconnected: boolean; disconnectedMs: number | undefined }): void;
  onDisconnected(error: KrakenError): void;
  onReconnectFailed(info: { attempt: number; error: KrakenError; disconnectedMs: number }): void;
}

export interface ConnectionHealth {
  connected: boolean;
  reconnects: number;
  /** Failed attempts to reconnect since the connection was lost. */
  reconnectAttempts: number;
  /** Set while disconnected: when the connection was lost (ISO time), for how long, and why. */
  disconnectedSince?: string;
  disconnectedMs?: number;
  lastError?: string;
}

interface Waiter {
  resolve(connection: ChannelModel): void;
  reject(error: KrakenError): void;
}

/** Shortest attempt create() makes when its time is nearly up. */
const MIN_ATTEMPT_MS = 1_000;

/** Failed reconnects are logged as warnings at most this often (the rest at debug). */
const STILL_DOWN_LOG_INTERVAL_MS = 30_000;

/**
 * Keeps one AMQP connection alive. Every attempt has a deadline covering the TCP connect, the
 * handshake and the setup; an attempt that passes it is abandoned (its socket destroyed) and the
 * next one follows with backoff, so a RabbitMQ that accepts connections but never answers (still
 * booting, or stuck) cannot stall reconnection.
 */
export class ConnectionKeeper {
  private connection: ChannelModel | undefined;
  private closing = false;
  private readonly stopping = new AbortController();
  private reconnecting: Promise<void> | undefined;
  private readonly waiters = new Set<Waiter>();
  private disconnectedAt: number | undefined;
  private lastError: KrakenError | undefined;
  private failedAttempts = 0;
  private reconnects = 0;
  private lastStillDownLog = 0;
  /** The endpoint the next attempt uses; it stays on one that works. */
  private endpoint = 0;

  private urls: readonly string[];

  constructor(private readonly options: ConnectionKeeperOptions) {
    this.urls = options.urls;
  }

  /**
   * Replaces the endpoints later attempts go round (a RabbitMQ cluster gained or lost nodes). The
   * live connection stays; its endpoint, when still listed, stays the next one tried.
   */
  useUrls(urls: readonly string[]): void {
    const current = this.urls[this.endpoint % this.urls.length];
    this.urls = urls;
    this.endpoint = Math.max(0, current === undefined ? 0 : urls.indexOf(current));
  }

  get current(): ChannelModel | undefined {
    return this.connection;
  }

  /** Connects, retrying until `timeoutMs` has passed; then fails with the last reason. */
  async start(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (let attempt = 1; !this.closing; attempt++) {
      try {
        // the last attempt still gets a useful slice, so the error says why it failed, not that time ran out
        await this.establish(Math.min(this.options.connectTimeoutMs, Math.max(MIN_ATTEMPT_MS, deadline - Date.now())));
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) break;
      await this.pause(Math.min(this.backoff(attempt), deadline - Date.now()));
    }
    throw new KrakenError(ErrorCode.Unavailable, `cannot reach RabbitMQ at ${this.where()}: ${describe(lastError)}`, {
      cause: lastError,
    });
  }

  /** The live connection; while there is none, waits up to `timeoutMs` for a reconnect. */
  whenConnected(timeoutMs: number, what: string): Promise<ChannelModel> {
    if (this.closing) return Promise.reject(new KrakenError(ErrorCode.Closed, `cannot ${what}: the broker is closed`));
    if (this.connection) return Promise.resolve(this.connection);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(this.notConnected(what));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (connection) => {
          clearTimeout(timer);
          resolve(connection);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  health(): ConnectionHealth {
    const health: ConnectionHealth = {
      connected: this.connection !== undefined,
      reconnects: this.reconnects,
      reconnectAttempts: this.failedAttempts,
    };
    if (this.connection === undefined && this.disconnectedAt !== undefined) {
      health.disconnectedSince = new Date(this.disconnectedAt).toISOString();
      health.disconnectedMs = Date.now() - this.disconnectedAt;
    }
    if (this.connection === undefined && this.lastError !== undefined) health.lastError = this.lastError.message;
    return health;
  }

  /** Gives up on the live connection (it misbehaved) and reconnects. */
  drop(connection: ChannelModel, why: string): void {
    if (this.connection !== connection) return;
    this.options.logger.warn(`${why}; reconnecting`);
    abandonConnection(connection, why);
  }

  /** Stops reconnecting at once: a pending attempt is abandoned, and waiters fail. */
  stopReconnecting(): void {
    if (this.closing) return;
    this.closing = true;
    this.stopping.abort(new KrakenError(ErrorCode.Closed, 'the broker is closing'));
    const closed = new KrakenError(ErrorCode.Closed, 'the broker closed before RabbitMQ was reachable again');
    for (const waiter of this.waiters) waiter.reject(closed);
    this.waiters.clear();
  }

  /** Closes the live connection, gracefully if RabbitMQ answers within `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.stopReconnecting();
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await closeConnectionWithin(connection, timeoutMs);
  }

  private async establish(timeoutMs: number): Promise<void> {
    const progress: AttemptProgress = { step: 'TCP connect and AMQP handshake' };
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopping.signal]);
    // its own signal, aborted only if the attempt fails: a live connection must outlive `signal`
    const abandonSocket = new AbortController();
    const url = this.urls[this.endpoint % this.urls.length] ?? '';
    const opening = this.options.connect(url, { timeoutMs, signal: abandonSocket.signal });
    let connection: ChannelModel | undefined;
    // set by the close listener, which the compiler cannot see running across the awaits below
    const lost = { duringSetup: false };
    try {
      connection = await untilAborted(opening, signal);
      connection.on('error', (error: Error) => {
        this.options.logger.warn('RabbitMQ connection error', { error: error.message });
      });
      const opened = connection;
      opened.once('close', (error?: Error) => {
        if (this.connection === opened) this.onClose(error);
        else lost.duringSetup = true;
      });
      const activate = await untilAborted(this.options.setup(opened, progress), signal);
      if (lost.duringSetup) throw new KrakenError(ErrorCode.Unavailable, 'the connection closed during setup');
      if (this.isClosing()) throw new KrakenError(ErrorCode.Closed, 'the broker closed while connecting');
      this.install(opened, activate);
    } catch (error) {
      const failure = attemptFailure(error, signal, progress.step, timeoutMs, url);
      this.endpoint++;
      if (connection) abandonConnection(connection, failure.message);
      else abandonSocket.abort(failure);
      throw failure;
    }
  }

  private install(connection: ChannelModel, activate: () => void): void {
    const reconnected = this.disconnectedAt !== undefined;
    const disconnectedMs = this.disconnectedAt === undefined ? undefined : Date.now() - this.disconnectedAt;
    this.connection = connection;
    activate();
    if (reconnected) this.reconnects++;
    this.disconnectedAt = undefined;
    this.lastError = undefined;
    this.failedAttempts = 0;
    this.options.logger.info(reconnected ? 'reconnected to RabbitMQ' : 'connected to RabbitMQ', {
      url: redactUrl(this.urls[this.endpoint % this.urls.length] ?? ''),
      ...(disconnectedMs === undefined ? {} : { disconnectedMs }),
    });
    for (const waiter of this.waiters) waiter.resolve(connection);
    this.waiters.clear();
    this.options.onConnected({ reconnected, disconnectedMs });
  }

  private onClose(error: Error | undefined): void {
    this.connection = undefined;
    this.options.onLost();
    if (this.closing) return;
    const reason = new KrakenError(ErrorCode.Unavailable, `lost the RabbitMQ connection: ${error?.message ?? 'closed by the server'}`, { cause: error });
    this.disconnectedAt = Date.now();
    this.lastError = reason;
    this.lastStillDownLog = this.disconnectedAt;
    this.options.logger.warn('RabbitMQ connection lost; reconnecting', { error: reason.message });
    this.options.onDisconnected(reason);
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      await this.pause(this.backoff(attempt));
      if (this.isClosing()) return;
      try {
        await this.establish(this.options.connectTimeoutMs);
        return;
      } catch (error) {
        if (this.isClosing()) return;
        this.onAttemptFailed(attempt, toKrakenError(error, ErrorCode.Unavailable));
      }
    }
  }

  private onAttemptFailed(attempt: number, error: KrakenError): void {
    this.failedAttempts = attempt;
    this.lastError = error;
    const disconnectedMs = Date.now() - (this.disconnectedAt ?? Date.now());
    const fields = { attempt, disconnectedMs, error: error.message };
    if (Date.now() - this.lastStillDownLog >= STILL_DOWN_LOG_INTERVAL_MS) {
      this.lastStillDownLog = Date.now();
      this.options.logger.warn(`still cannot reach RabbitMQ at ${this.where()}`, fields);
    } else {
      this.options.logger.debug('reconnect attempt failed', fields);
    }
    this.options.onReconnectFailed({ attempt, error, disconnectedMs });
  }

  /** A method, not the field, so checks after an await are not narrowed away by the compiler. */
  private isClosing(): boolean {
    return this.closing;
  }

  /** Sleeps, but wakes at once when the keeper stops. */
  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
    } catch {
      // stopped: the caller checks `closing`
    }
  }

  private backoff(attempt: number): number {
    const { reconnectInitialDelayMs: initial, reconnectFactor: factor, reconnectMaxDelayMs: max } = this.options;
    const base = Math.min(max, initial * factor ** (attempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  private notConnected(what: string): KrakenError {
    const since = this.disconnectedAt === undefined ? '' : ` for ${Math.round((Date.now() - this.disconnectedAt) / 1000)} s`;
    const why = this.lastError === undefined ? '' : ` (${this.lastError.message})`;
    return new KrakenError(ErrorCode.Unavailable, `cannot ${what}: not connected to RabbitMQ at ${this.where()}${since}${why}`);
  }

  private where(): string {
    return this.urls.map(redactUrl).join(' or ');
  }
}

function attemptFailure(error: unknown, signal: AbortSignal, step: string, timeoutMs: number, url: string): KrakenError {
  if (timedOut(signal)) {
    return new KrakenError(ErrorCode.Timeout, `connection attempt abandoned after ${timeoutMs} ms: no answer during ${step}`, { cause: error, details: { url: redactUrl(url) } });
  }
  const failure = toKrakenError(error, ErrorCode.Unavailable);
  return failure.message.includes(step) ? failure : new KrakenError(failure.code, `${step}: ${failure.message}`, { cause: error, details: { url: redactUrl(url) } });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
