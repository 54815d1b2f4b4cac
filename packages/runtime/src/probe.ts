import http from 'node:http';

export interface ProbeResult {
  ready: boolean;
  status?: number;
  reason?: string;
}

/**
 * One readiness attempt: an HTTP GET to 127.0.0.1:<port><path>. Any response below 500 counts as
 * ready: the app is serving, and a 404 or 401 on its endpoint is the app's answer, not a failure
 * to start. A connection that is refused or closed without a response is "not yet": Docker's port
 * proxy accepts TCP connections before the app listens, so a TCP connect alone proves nothing.
 * Never rejects; `signal` ends the attempt early as not ready.
 */
export function probeHttp(port: number, endpoint: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: endpoint, timeout: timeoutMs, headers: { 'user-agent': 'kraken-ready-check' }, ...(signal === undefined ? {} : { signal }) };
    const request = http.get(options, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status < 500 ? { ready: true, status } : { ready: false, status, reason: `HTTP ${status}` });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => {
      resolve({ ready: false, reason: error.message });
    });
  });
}

/**
 * Probes of one port started on a schedule without waiting for the earlier ones to end. Docker's
 * port proxy can hold a connection made while the container's network comes up for about a
 * second before it answers or drops it; probing one request at a time, that second would pass
 * before the next probe saw the app that was already answering.
 */
export class ProbeSeries {
  private readonly inFlight = new Set<AbortController>();
  private answered = false;
  private wake: (() => void) | undefined;
  /** Why the last finished probe was not ready, for error messages. */
  lastReason = 'no attempt yet';

  constructor(
    private readonly port: number,
    private readonly endpoint: string,
    private readonly timeoutMs: number,
    private readonly maxInFlight = 8,
  ) {}

  /** true once any probe got an answer below 500. */
  get ready(): boolean {
    return this.answered;
  }

  /** Starts one more probe, unless the app already answered or maxInFlight probes still wait. */
  launch(): void {
    if (this.answered || this.inFlight.size >= this.maxInFlight) return;
    const abort = new AbortController();
    this.inFlight.add(abort);
    void probeHttp(this.port, this.endpoint, this.timeoutMs, abort.signal).then((result) => {
      this.inFlight.delete(abort);
      if (abort.signal.aborted) return;
      if (result.ready) {
        this.answered = true;
        this.wake?.();
      } else {
        this.lastReason = result.reason ?? 'no answer';
      }
    });
  }

  /** Resolves after `ms`, or as soon as a probe gets an answer. */
  wait(ms: number): Promise<void> {
    if (this.answered) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** One probe, awaited: whether the app answers now, whatever the earlier probes got. */
  async answersNow(): Promise<boolean> {
    const result = await probeHttp(this.port, this.endpoint, this.timeoutMs);
    if (result.ready) this.answered = true;
    else this.lastReason = result.reason ?? 'no answer';
    return result.ready;
  }

  /** Ends the probes still waiting: the caller has its answer, or gave up. */
  stop(): void {
    for (const abort of this.inFlight) abort.abort();
    this.inFlight.clear();
    this.wake?.();
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
