import type { ErrorCode } from '@kraken/common';
import { ErrorCode as Codes, KrakenError } from '@kraken/common';
import { describeFetchError } from '../run/join-cluster.js';

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:4000 */
  url: string;
  token?: string | undefined;
  /** @default 15_000 */
  timeoutMs?: number;
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

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
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
    if (!response.ok) throw this.httpError(response.status, undefined);
    if (body.data === undefined || body.data === null) throw new KrakenError(Codes.Internal, `the API at ${this.url} answered without data`);
    return body.data;
  }

  /** A REST GET that must succeed; the response is the caller's to read. */
  async get(path: string): Promise<Response> {
    const response = await this.request(path, { method: 'GET' });
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw this.httpError(response.status, messageOf(text));
    }
    return response;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token !== undefined) headers.set('authorization', `Bearer ${this.token}`);
    try {
      return await fetch(`${this.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new KrakenError(Codes.Unavailable, `cannot reach the Kraken API at ${this.url}: ${describeFetchError(error)} (is \`kraken agent\` running? --api sets the URL)`, {
        cause: error,
      });
    }
  }

  private httpError(status: number, message: string | undefined): KrakenError {
    if (status === 401 || status === 403) {
      return new KrakenError(Codes.Unauthorized, `${message ?? 'the API refused the token'} (give --token or KRAKEN_TOKEN; the orchestrator printed it at its first start)`);
    }
    if (status === 404) return new KrakenError(Codes.NotFound, message ?? 'not found');
    if (status === 400 || status === 413) return new KrakenError(Codes.InvalidInput, message ?? `HTTP ${status}`);
    return new KrakenError(Codes.Unavailable, message ?? `the API answered HTTP ${status}`);
  }
}

function messageOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown }; message?: unknown };
    const message = parsed.error?.message ?? parsed.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return text.trim() === '' ? undefined : text.trim().slice(0, 500);
  }
}
