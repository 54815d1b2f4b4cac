import { ErrorCode, KrakenError, MemoryLogger } from '@kraken/common';
import type { Notification } from './notification.js';
import { checkWebhookUrl, shownWebhookUrl, WebhookNotifier } from './webhook.js';

function notification(n = 1): Notification {
  return {
    id: `id-${String(n)}`,
    kind: 'deploy-failed',
    message: `deploy ${String(n)} failed`,
    deploymentId: `app-${String(n)}`,
    at: '2026-12-06T12:00:00.000Z',
  };
}

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that answers each call with the next of `answers` (a status, or 'hang' until aborted). */
function scriptedFetch(answers: (number | 'hang' | 'refused')[]) {
  const calls: Call[] = [];
  const fake = (url: URL | string, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(url), init: init ?? {} });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)];
    if (answer === 'hang')
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    if (answer === 'refused')
      return Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }));
    return Promise.resolve(new Response(null, { status: answer ?? 200 }));
  };
  return { calls, fetch: fake as typeof fetch };
}

/** The notification id each call sent. */
function sentIds(calls: Call[]): string[] {
  return calls.map((c) => (JSON.parse(c.init.body as string) as Notification).id);
}

const cluster = { id: 'c-1', leader: 'node-a' };

describe('WebhookNotifier', () => {
  let logger: MemoryLogger;
  beforeEach(() => {
    jest.useFakeTimers();
    logger = new MemoryLogger();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('POSTs the notification and its cluster as JSON', async () => {
    const receiver = scriptedFetch([204]);
    const webhook = new WebhookNotifier({ url: 'http://127.0.0.1:9/hook', cluster, fetch: receiver.fetch, logger });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(0);
    expect(receiver.calls).toHaveLength(1);
    const [call] = receiver.calls;
    expect(call?.url).toBe('http://127.0.0.1:9/hook');
    expect(call?.init.method).toBe('POST');
    expect(call?.init.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(JSON.parse(call?.init.body as string)).toEqual({ ...notification(), cluster });
    expect(webhook.stats()).toEqual({ delivered: 1, failed: 0, dropped: 0 });
  });

  it('sends the user part of the URL as basic auth, not in the URL, and never quotes a secret in a reason', async () => {
    const receiver = scriptedFetch([500]);
    const webhook = new WebhookNotifier({
      url: 'http://bot:p%40ss@127.0.0.1:9/hooks/s3cret',
      cluster,
      fetch: receiver.fetch,
      attempts: 1,
      logger,
    });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(0);
    expect(receiver.calls[0]?.url).toBe('http://127.0.0.1:9/hooks/s3cret');
    expect(receiver.calls[0]?.init.headers).toMatchObject({
      authorization: `Basic ${Buffer.from('bot:p@ss').toString('base64')}`,
    });
    expect(JSON.stringify(webhook.service())).not.toMatch(/p%40ss|s3cret/);
  });

  it('retries a failing receiver with doubling waits and delivers once', async () => {
    const receiver = scriptedFetch([500, 'refused', 200]);
    const webhook = new WebhookNotifier({
      url: 'http://127.0.0.1:9/hook',
      cluster,
      fetch: receiver.fetch,
      backoffMs: 1_000,
      logger,
    });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(999);
    expect(receiver.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(receiver.calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1_999);
    expect(receiver.calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(receiver.calls).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(receiver.calls).toHaveLength(3);
    expect(webhook.stats()).toEqual({ delivered: 1, failed: 0, dropped: 0 });
    // every attempt resent the same notification, so a receiver can drop a repeat by its id
    expect(new Set(sentIds(receiver.calls))).toEqual(new Set(['id-1']));
    expect(logger.records.filter((r) => r.level === 'warn')).toEqual([]);
  });

  it('gives up after its attempts and logs the outage once, with the reason, then its end', async () => {
    const receiver = scriptedFetch(['refused']);
    const webhook = new WebhookNotifier({
      url: 'http://127.0.0.1:9/hook',
      cluster,
      fetch: receiver.fetch,
      attempts: 3,
      backoffMs: 100,
      logger,
    });
    webhook.send(notification(1));
    webhook.send(notification(2));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(receiver.calls).toHaveLength(6);
    expect(webhook.stats()).toEqual({ delivered: 0, failed: 2, dropped: 0 });
    const warnings = logger.records.filter((r) => r.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('webhook delivery failed: connect ECONNREFUSED 127.0.0.1:9');
    expect(webhook.service()).toMatchObject({ name: 'webhook', status: 'down' });
    expect(webhook.service().detail).toContain('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('says when a failing receiver answers again', async () => {
    const receiver = scriptedFetch([503, 200]);
    const webhook = new WebhookNotifier({ url: 'http://127.0.0.1:9/hook', cluster, fetch: receiver.fetch, attempts: 1, logger });
    webhook.send(notification(1));
    webhook.send(notification(2));
    await jest.advanceTimersByTimeAsync(0);
    expect(webhook.stats()).toEqual({ delivered: 1, failed: 1, dropped: 0 });
    expect(logger.records.map((r) => r.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('webhook delivery failed: the receiver answered 503'),
        'webhook delivers again',
      ]),
    );
    expect(webhook.service().status).toBe('up');
  });

  it('counts an attempt without an answer as failed after the timeout', async () => {
    const receiver = scriptedFetch(['hang']);
    const webhook = new WebhookNotifier({
      url: 'http://127.0.0.1:9/hook',
      cluster,
      fetch: receiver.fetch,
      attempts: 1,
      timeoutMs: 5_000,
      logger,
    });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(4_999);
    expect(webhook.stats().failed).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(webhook.stats().failed).toBe(1);
    expect(webhook.service().detail).toContain('no answer within 5 s');
  });

  it('does not retry what the receiver refuses for good', async () => {
    const receiver = scriptedFetch([404]);
    const webhook = new WebhookNotifier({ url: 'http://127.0.0.1:9/hook', cluster, fetch: receiver.fetch, logger });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(60_000);
    expect(receiver.calls).toHaveLength(1);
    expect(webhook.stats().failed).toBe(1);
  });

  it('returns at once and delivers in order, dropping what does not fit the queue', async () => {
    const receiver = scriptedFetch(['hang', 200]);
    const webhook = new WebhookNotifier({
      url: 'http://127.0.0.1:9/hook',
      cluster,
      fetch: receiver.fetch,
      attempts: 1,
      maxPending: 2,
      logger,
    });
    for (let n = 1; n <= 4; n++) webhook.send(notification(n));
    // 1 is under way, 2 and 3 wait, 4 found the queue full
    expect(webhook.stats().dropped).toBe(1);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(sentIds(receiver.calls)).toEqual(['id-1', 'id-2', 'id-3']);
  });

  it('stops retrying when closed', async () => {
    const receiver = scriptedFetch([500]);
    const webhook = new WebhookNotifier({ url: 'http://127.0.0.1:9/hook', cluster, fetch: receiver.fetch, logger });
    webhook.send(notification());
    await jest.advanceTimersByTimeAsync(0);
    const closed = webhook.close();
    await jest.advanceTimersByTimeAsync(0);
    await closed;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(receiver.calls).toHaveLength(1);
  });
});

describe('webhook URLs', () => {
  it('refuses anything but an absolute http(s) URL, naming the setting', () => {
    expect(() => checkWebhookUrl('hooks.example.com/kraken')).toThrow(/^webhookUrl: expected an absolute http\(s\) URL/);
    expect(() => checkWebhookUrl('ftp://example.com/x')).toThrow(
      'webhookUrl: expected an http:// or https:// URL, got the ftp: scheme',
    );
    let thrown: unknown;
    try {
      checkWebhookUrl('nope');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KrakenError);
    expect(thrown).toMatchObject({ code: ErrorCode.InvalidConfig, details: { field: 'webhookUrl' } });
    expect(checkWebhookUrl('https://hooks.example.com/kraken').host).toBe('hooks.example.com');
  });

  it('refuses options that could not deliver anything, naming them', () => {
    expect(() => new WebhookNotifier({ url: 'http://127.0.0.1:9/', cluster, attempts: 0 })).toThrow(
      'webhook attempts: expected an integer of at least 1, got 0',
    );
    expect(() => new WebhookNotifier({ url: 'http://127.0.0.1:9/', cluster, timeoutMs: 0.5 })).toThrow(
      'webhook timeoutMs: expected an integer of at least 1, got 0.5',
    );
  });

  it('shows scheme, host and port only, never credentials, path secrets or query', () => {
    expect(shownWebhookUrl(new URL('https://user:pw@hooks.slack.com/services/T0/B0/secret?token=x'))).toBe(
      'https://hooks.slack.com/…',
    );
    expect(shownWebhookUrl(new URL('http://10.0.0.5:9000'))).toBe('http://10.0.0.5:9000');
  });
});
