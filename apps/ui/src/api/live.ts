import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import type { Operation } from './types.js';

export type LiveState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

/**
 * A frozen or cut-off API (a leader whose machine hangs or lost its link) closes nothing: without
 * pings the page would show "live" forever while nothing arrives. It pings this often, and gives
 * up on a connection whose pong has not come this long after.
 */
const KEEP_ALIVE_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;
/**
 * An API that took the socket but never acknowledges it (a leader mid-takeover, a forwarding agent
 * whose leader just went) would leave the page "reconnecting" for good: graphql-ws waits forever
 * unless told otherwise. Past this the attempt closes and the next one follows.
 */
const ACK_TIMEOUT_MS = 10_000;

/** The API refused the token: no retry can fix that, the page asks for another. */
const TOKEN_REFUSED = 4403;

export interface LiveHandlers {
  onState: (state: LiveState) => void;
  /** Connected again after an outage: what was sent meanwhile is lost, so the caller refetches. */
  onReconnected: () => void;
  /** This client stopped for good on a close it could retry; the caller starts another one. */
  onGaveUp: () => void;
}

/**
 * graphql-ws ends its retries for good on close codes it deems fatal, and no option overrides
 * that: an internal error (4500, 1011) from a leader mid-takeover would leave the page
 * "reconnecting" until reloaded. Only a refused token really is final.
 */
export function isWorthAnotherClient(stoppedBy: unknown): boolean {
  return !(isCloseEvent(stoppedBy) && stoppedBy.code === TOKEN_REFUSED);
}

/**
 * One graphql-ws connection for the page, sending the token in connection params. It reconnects
 * forever with backoff, except when the API refuses the token (close code 4403). `resumed` marks
 * a client that replaces one that gave up: its first connection is a reconnection.
 */
export function createLiveClient(token: string, handlers: LiveHandlers, options: { resumed?: boolean } = {}): Client {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  let connectedBefore = options.resumed ?? false;
  let pongDue: ReturnType<typeof setTimeout> | undefined;
  const client = createClient({
    url: `${scheme}//${window.location.host}/graphql`,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !(isCloseEvent(event) && event.code === TOKEN_REFUSED),
    // graphql-ws doubles its wait forever (17 minutes by the tenth try): after an outage the page
    // should be live again within seconds of the API, so the wait stops growing at 10 s
    retryWait: (retries) => sleep(Math.min(1000 * 2 ** retries, 10_000) + Math.random() * 1000),
    // a refused token: the 'closed' handler already shows why; anything else deserves another try
    onNonLazyError: (stoppedBy) => {
      if (isWorthAnotherClient(stoppedBy)) handlers.onGaveUp();
    },
    keepAlive: KEEP_ALIVE_MS,
    connectionAckWaitTimeout: ACK_TIMEOUT_MS,
    on: {
      ping: (received) => {
        if (received) return;
        clearTimeout(pongDue);
        // terminate, not close: a close waits for the frozen side to answer the closing handshake
        pongDue = setTimeout(() => {
          client.terminate();
        }, PONG_TIMEOUT_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongDue);
      },
      connecting: () => {
        handlers.onState(connectedBefore ? 'reconnecting' : 'connecting');
      },
      connected: () => {
        handlers.onState('connected');
        if (connectedBefore) handlers.onReconnected();
        connectedBefore = true;
      },
      closed: (event) => {
        clearTimeout(pongDue);
        handlers.onState(isCloseEvent(event) && event.code === TOKEN_REFUSED ? 'refused' : 'reconnecting');
      },
    },
  });
  return client;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isCloseEvent(event: unknown): event is { code: number } {
  return typeof event === 'object' && event !== null && 'code' in event && typeof event.code === 'number';
}

/** Subscribes and calls `onData` per event; returns the unsubscribe function. */
export function subscribe<TResult, TVariables>(
  client: Client,
  operation: Operation<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  onError: (message: string) => void,
): () => void {
  return client.subscribe<TResult>(
    { query: operation.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        if (result.data !== undefined && result.data !== null) onData(result.data);
        else if (result.errors !== undefined) onError(result.errors.map((e) => e.message).join('; '));
      },
      error: (error) => {
        // a refused token closes the connection (4403): the client's state says so, and the page
        // asks for another token; "subscription failed" would only hide that
        if (isCloseEvent(error) && error.code === TOKEN_REFUSED) return;
        onError(error instanceof Error ? error.message : isCloseEvent(error) ? `the connection closed (code ${String(error.code)})` : 'subscription failed');
      },
      complete: () => undefined,
    },
  );
}
