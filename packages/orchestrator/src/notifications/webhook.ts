import type { Logger } from '@kraken/common';
import { ErrorCode, KrakenError, noopLogger, redactCredentials } from '@kraken/common';
import type { PlatformServiceInfo } from '../api/context.js';
import type { Notification } from './notification.js';

/** The JSON body of every webhook POST: the notification, and which cluster sends it. */
export interface WebhookPayload extends Notification {
  cluster: { id: string; leader: string };
}

export interface WebhookOptions {
  /** Where to POST; checked by `checkWebhookUrl`. */
  url: string;
  /** The cluster every body names, so one receiver can serve several clusters. */
  cluster: { id: string; leader: string };
  /** How long one attempt may take before it counts as failed. @default 5_000 */
  timeoutMs?: number;
  /** Attempts per notification, the first included. @default 4 */
  attempts?: number;
  /** The wait before the second attempt, doubled before each later one. @default 1_000 */
  backoffMs?: number;
  /**
   * Notifications waiting their turn; past this the newest are dropped (counted), so a receiver
   * that is down for hours cannot make the leader hoard them. @default 100
   */
  maxPending?: number;
  /** @default noopLogger */
  logger?: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface WebhookCounters {
  delivered: number;
  /** Notifications given up on after every attempt failed (or refused for good by the receiver). */
  failed: number;
  /** Notifications dropped because too many waited. */
  dropped: number;
}

/**
 * The webhook URL as given by the operator, parsed; a clear InvalidConfig for anything but an
 * absolute http(s) URL, since a typo would otherwise only show as failed deliveries much later.
 */
export function checkWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `webhookUrl: expected an absolute http(s) URL such as https://hooks.example.com/kraken, got ${JSON.stringify(url.slice(0, 200))}`,
      {
        details: { field: 'webhookUrl' },
      },
    );
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    throw new KrakenError(
      ErrorCode.InvalidConfig,
      `webhookUrl: expected an http:// or https:// URL, got the ${parsed.protocol} scheme`,
      {
        details: { field: 'webhookUrl' },
      },
    );
  }
  return parsed;
}

/**
 * The webhook URL as status pages show it: scheme, host and port only. Chat services put their
 * secret in the path (Slack's /services/T…/B…/secret) and others in the query or the user part.
 */
export function shownWebhookUrl(url: URL): string {
  const rest = url.pathname === '/' && url.search === '' ? '' : '/…';
  return `${url.protocol}//${url.host}${rest}`;
}

/** Statuses worth another attempt: the receiver is overloaded, restarting or timed out. Other 4xx will not change. */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

class AttemptFailed extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/**
 * Delivers notifications as JSON POSTs, in order, one at a time, in the background: `send` returns
 * at once, so a slow or dead receiver never holds up the orchestrator. Each attempt has a timeout;
 * failed ones are retried with doubling waits. A receiver that stays down is logged once (with the
 * reason), and again when it answers: one warning per outage, not one per notification.
 */
export class WebhookNotifier {
  /** The URL as given (credentials included): what the operator configured. */
  readonly url: URL;
  /** Where the POSTs go: the URL without its user part, which fetch refuses; that goes in `authorization`. */
  private readonly target: URL;
  private readonly headers: Record<string, string>;
  private readonly options: Required<Omit<WebhookOptions, 'url' | 'logger' | 'fetch'>>;
  private readonly logger: Logger;
  private readonly fetch: typeof fetch;
  private readonly queue: Notification[] = [];
  private readonly counters: WebhookCounters = { delivered: 0, failed: 0, dropped: 0 };
  private running: Promise<void> | undefined;
  /** Set from the first lost notification until one is delivered again. */
  private failing: { since: string; reason: string } | undefined;
  private lastDeliveredAt: string | undefined;
  private readonly closing = new AbortController();

  constructor(options: WebhookOptions) {
    this.url = checkWebhookUrl(options.url);
    this.target = new URL(this.url);
    this.target.username = '';
    this.target.password = '';
    this.headers = { 'content-type': 'application/json', 'user-agent': 'kraken-webhook/1' };
    // https://user:password@host/ is how receivers behind basic auth are usually configured
    if (this.url.username !== '' || this.url.password !== '') {
      const credentials = `${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}`;
      this.headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    for (const [name, value, min] of [
      ['timeoutMs', options.timeoutMs, 1],
      ['attempts', options.attempts, 1],
      ['backoffMs', options.backoffMs, 0],
      ['maxPending', options.maxPending, 1],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < min))
        throw new KrakenError(
          ErrorCode.InvalidConfig,
          `webhook ${name}: expected an integer of at least ${String(min)}, got ${String(value)}`,
          {
            details: { field: name },
          },
        );
    }
    this.options = {
      cluster: options.cluster,
      timeoutMs: options.timeoutMs ?? 5_000,
      attempts: options.attempts ?? 4,
      backoffMs: options.backoffMs ?? 1_000,
      maxPending: options.maxPending ?? 100,
    };
    this.logger = (options.logger ?? noopLogger).child({ component: 'webhook', webhook: shownWebhookUrl(this.url) });
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Queues a notification for delivery and returns at once. */
  send(notification: Notification): void {
    if (this.closing.signal.aborted) return;
    if (this.queue.length >= this.options.maxPending) {
      this.counters.dropped += 1;
      if (this.counters.dropped === 1 || this.counters.dropped % 100 === 0)
        this.logger.warn('webhook notifications dropped: too many wait for a receiver that does not answer', {
          dropped: this.counters.dropped,
        });
      return;
    }
    this.queue.push(notification);
    this.kick();
  }

  /** Starts draining the queue unless it is under way. */
  private kick(): void {
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      // one queued between the loop's last look and now would wait for the next send
      if (this.queue.length > 0 && !this.closing.signal.aborted) this.kick();
    });
  }

  /** What has happened since it started. */
  stats(): WebhookCounters {
    return { ...this.counters };
  }

  /** The webhook as getPlatformServices (the Platform page, `kraken status`) shows it, without secrets. */
  service(): PlatformServiceInfo {
    const target = `POSTs notifications to ${shownWebhookUrl(this.url)}`;
    if (this.failing !== undefined)
      return {
        name: 'webhook',
        status: 'down',
        detail: `${target}; failing since ${this.failing.since}: ${this.failing.reason}`,
      };
    const last =
      this.lastDeliveredAt === undefined
        ? 'none sent yet'
        : `${String(this.counters.delivered)} delivered, the last at ${this.lastDeliveredAt}`;
    return { name: 'webhook', status: 'up', detail: `${target}; ${last}` };
  }

  /** Stops retrying and sending; what is queued is dropped (the next leader sends its own). */
  async close(): Promise<void> {
    this.closing.abort();
    this.queue.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      await this.deliver(next);
    }
  }

  private async deliver(notification: Notification): Promise<void> {
    const payload: WebhookPayload = { ...notification, cluster: this.options.cluster };
    const body = JSON.stringify(payload);
    let reason = '';
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      if (this.closing.signal.aborted) return;
      try {
        await this.attempt(body);
        this.delivered(notification);
        return;
      } catch (error) {
        const failure = error instanceof AttemptFailed ? error : new AttemptFailed(String(error), true);
        // an error can quote the URL, and the URL can hold a password or token
        reason = redactCredentials(failure.message).replaceAll(this.target.href, shownWebhookUrl(this.target));
        this.logger.debug('webhook attempt failed', { notificationId: notification.id, attempt, reason });
        if (!failure.retry) break;
        if (attempt < this.options.attempts) await this.sleep(this.options.backoffMs * 2 ** (attempt - 1));
      }
    }
    if (this.closing.signal.aborted) return;
    this.counters.failed += 1;
    if (this.failing === undefined) {
      this.failing = { since: notification.at, reason };
      this.logger.warn(`webhook delivery failed: ${reason}; further failures are not logged until a delivery succeeds`, {
        notificationId: notification.id,
        kind: notification.kind,
        attempts: this.options.attempts,
      });
    }
  }

  private delivered(notification: Notification): void {
    this.counters.delivered += 1;
    this.lastDeliveredAt = new Date().toISOString();
    if (this.failing !== undefined) {
      this.logger.info('webhook delivers again', { failingSince: this.failing.since, lost: this.counters.failed });
      this.failing = undefined;
    }
    this.logger.debug('webhook delivered', { notificationId: notification.id, kind: notification.kind });
  }

  /** One POST; throws AttemptFailed with the reason in words. */
  private async attempt(body: string): Promise<void> {
    const timeout = new AbortController();
    const onClose = () => {
      timeout.abort();
    };
    this.closing.signal.addEventListener('abort', onClose);
    const timer = setTimeout(() => {
      timeout.abort();
    }, this.options.timeoutMs);
    try {
      const response = await this.fetch(this.target, {
        method: 'POST',
        headers: this.headers,
        body,
        // a redirected POST turns into a GET on most receivers: report it instead of following it
        redirect: 'manual',
        signal: timeout.signal,
      }).catch((error: unknown) => {
        if (timeout.signal.aborted) throw new AttemptFailed(`no answer within ${String(this.options.timeoutMs / 1000)} s`, true);
        throw new AttemptFailed(networkReason(error), true);
      });
      // the body is not needed; reading it frees the connection for the next attempt
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) {
        const text = `${String(response.status)}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
        throw new AttemptFailed(`the receiver answered ${text}`, retryable(response.status));
      }
    } finally {
      clearTimeout(timer);
      this.closing.signal.removeEventListener('abort', onClose);
    }
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.closing.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }
}

/** fetch's "fetch failed" says nothing: the cause has the code (ECONNREFUSED, ENOTFOUND) and the address. */
function networkReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
