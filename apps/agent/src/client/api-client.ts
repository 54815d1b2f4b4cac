import type { ErrorCode } from '@kraken/common';
import { ErrorCode as Codes, KrakenError } from '@kraken/common';
import { LEADER_HEADER, parseLeaderHeader } from '../forward/headers.js';
import { describeFetchError } from '../run/join-cluster.js';
import { Agent } from 'undici';

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  token?: string | undefined;
  /** The cluster CA (PEM) an https API is trusted by. @default the system's CAs */
  ca?: string | undefined;
  /** @default 15_000 */
  timeoutMs?: number;
  /**
   * How long a read waits out a cluster with no reachable leader (503 NO_LEADER, as while a standby
   * takes over); writes are never sent twice, they fail at once saying what happened. @default 15_000
   */
  leaderWaitMs?: number;
  /** Between two tries of a read while there is no leader. @default 500 */
  leaderRetryMs?: number;
  /** Told once per call that waits for a leader, with the agent's explanation. */
  onLeaderWait?: (message: string) => void;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const knownCodes = new Set<string>(Object.values(Codes));

/** GraphQL and REST calls to one orchestrator; every failure is a KrakenError with a code scripts can trust. */
export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly leaderWaitMs: number;
  private readonly leaderRetryMs: number;
  private readonly onLeaderWait: ((message: string) => void) | undefined;
  private forwardedTo: { nodeId: string; apiUrl: string } | undefined;
  private readonly dispatcher: Agent | undefined;

  constructor(options: ApiClientOptions) {
    this.dispatcher = options.ca === undefined ? undefined : new Agent({ connect: { ca: options.ca } });
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.leaderWaitMs = options.leaderWaitMs ?? 15_000;
    this.leaderRetryMs = options.leaderRetryMs ?? 500;
    this.onLeaderWait = options.onLeaderWait;
  }

  /** The leader that answered the last call, when the agent at `url` forwarded it there (it does not lead). */
  get leader(): { nodeId: string; apiUrl: string } | undefined {
    return this.forwardedTo;
  }

  graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return this.waitingForLeader(!/^\s*(mutation|subscription)\b/.test(query), () => this.graphqlOnce<T>(query, variables));
  }

  /** A REST GET that must succeed; the response is the caller's to read. */
  get(path: string): Promise<Response> {
    return this.waitingForLeader(true, async () => {
      const response = await this.request(path, { method: 'GET' });
      if (!response.ok) {
        const text = await response.text().catch(() => '');
        throw this.httpError(response.status, errorOf(text));
      }
      return response;
    });
  }

  /** Tries a read again while the cluster has no reachable leader, for up to leaderWaitMs. */
  private async waitingForLeader<T>(idempotent: boolean, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.leaderWaitMs;
    let waited = false;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (!idempotent || !(error instanceof KrakenError) || error.code !== Codes.NoLeader) throw error;
        if (Date.now() + this.leaderRetryMs > deadline) {
          throw waited ? new KrakenError(Codes.NoLeader, `${error.message} (still none after waiting ${String(Number((this.leaderWaitMs / 1000).toFixed(1)))} s)`, { cause: error }) : error;
        }
        if (!waited) this.onLeaderWait?.(error.message);
        waited = true;
        await new Promise((resolve) => setTimeout(resolve, this.leaderRetryMs));
      }
    }
  }

  private async graphqlOnce<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await this.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => ({}))) as GraphQLResponse<T>;
    const first = body.errors?.[0];
    if (first !== undefined) {
      const code = first.extensions?.code;
      throw new KrakenError(code !== undefined && knownCodes.has(code) ? (code as ErrorCode) : Codes.Internal, first.message);
    }
    if (!response.ok) throw this.httpError(response.status);
    if (body.data === undefined || body.data === null) throw new KrakenError(Codes.Internal, `the API at ${this.url} answered without data`);
    return body.data;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token !== undefined) headers.set('authorization', `Bearer ${this.token}`);
    try {
      const response = await fetch(`${this.url}${path}`, {
        ...init,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
        // undici's own Agent, which Node's fetch takes: the only way to trust one more CA per call
        ...(this.dispatcher === undefined ? {} : ({ dispatcher: this.dispatcher } as unknown as RequestInit)),
      });
      this.forwardedTo = parseLeaderHeader(response.headers.get(LEADER_HEADER));
      return response;
    } catch (error) {
      throw new KrakenError(Codes.Unavailable, `cannot reach the Kraken API at ${this.url}: ${describeFetchError(error)} (is \`kraken agent\` running? --api sets the URL)`, {
        cause: error,
      });
    }
  }

  private httpError(status: number, { message, code }: { message?: string | undefined; code?: string | undefined } = {}): KrakenError {
    if (code === Codes.NoLeader) return new KrakenError(Codes.NoLeader, message ?? 'the cluster has no reachable leader right now');
    if (status === 401 || status === 403) {
      return new KrakenError(Codes.Unauthorized, `${message ?? 'the API refused the token'} (give --token or KRAKEN_TOKEN; the orchestrator printed it at its first start)`);
    }
    if (status === 404) return new KrakenError(Codes.NotFound, message ?? 'not found');
    if (status === 400 || status === 413) return new KrakenError(Codes.InvalidInput, message ?? `HTTP ${status}`);
    return new KrakenError(Codes.Unavailable, message ?? `the API answered HTTP ${status}`);
  }
}

function errorOf(text: string): { message?: string; code?: string } {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; code?: unknown }; message?: unknown };
    const message = parsed.error?.message ?? parsed.message;
    const code = parsed.error?.code;
    return { ...(typeof message === 'string' ? { message } : {}), ...(typeof code === 'string' ? { code } : {}) };
  } catch {
    return text.trim() === '' ? {} : { message: text.trim().slice(0, 500) };
  }
}
