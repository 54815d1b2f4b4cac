import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';

export type SocketClient = Client;

// The original Kraken client's operations, verbatim: existing clients must keep working unchanged.
export const CREATE_DEPLOYMENT =
  'mutation($url: String!, $gitBranch: String!) { createDeployment(deploymentUrl: $url, gitBranch: $gitBranch) }';
export const GET_DEPLOYMENTS =
  'query { getDeployments { id srcUrl status statusHistory { status time } deploymentUrl node } getNodes { id addr } }';

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

export interface DeploymentSummary {
  id: string;
  srcUrl: string;
  status: string;
  statusHistory: { status: string; time: number }[];
  deploymentUrl: string | null;
  node: string | null;
}

export interface DeploymentsAndNodes {
  getDeployments: DeploymentSummary[];
  getNodes: { id: string; addr: string | null }[];
}

/** A client of one orchestrator's API, the way a script or the UI talks to it. */
export class ApiClient {
  private readonly sockets: Client[] = [];

  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  async graphql<T>(
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string> = { authorization: this.authorization },
  ): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<T>, 'status'>) };
  }

  /** Like graphql(), but a response with errors (or without data) throws with those errors. */
  async data<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const result = await this.graphql<T>(query, variables);
    if (result.errors !== undefined || result.data === undefined || result.data === null) {
      throw new Error(`GraphQL ${query.slice(0, 60)}... failed (HTTP ${result.status}): ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  /** The original client's createDeployment; returns the new id. */
  async createDeployment(url: string, gitBranch = 'main'): Promise<string> {
    return (await this.data<{ createDeployment: string }>(CREATE_DEPLOYMENT, { url, gitBranch })).createDeployment;
  }

  /** The original client's listing query. */
  async deploymentsAndNodes(): Promise<DeploymentsAndNodes> {
    return this.data<DeploymentsAndNodes>(GET_DEPLOYMENTS);
  }

  /** `getDeployment(deploymentId: id) { <fields> }`, typed by the caller to the fields it asks for. */
  async getDeployment<T>(id: string, fields: string): Promise<T> {
    return (await this.data<{ getDeployment: T }>(`query ($id: String!) { getDeployment(deploymentId: $id) { ${fields} } }`, { id })).getDeployment;
  }

  async deployment(id: string): Promise<DeploymentSummary | undefined> {
    return (await this.deploymentsAndNodes()).getDeployments.find((d) => d.id === id);
  }

  get(path: string, headers: Record<string, string> = { authorization: this.authorization }): Promise<Response> {
    return fetch(`${this.url}${path}`, { headers, redirect: 'manual' });
  }

  /** A graphql-ws connection (over the `ws` WebSocket), closed by close(). */
  socket(): SocketClient {
    const client = createClient({
      url: `${this.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: this.authorization },
      retryAttempts: 0,
    });
    this.sockets.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.sockets.splice(0)) await client.dispose();
  }
}

/** A running subscription that keeps every event it receives. */
export interface Collector<T> {
  readonly events: T[];
  /**
   * Resolves with the events once `until` holds for them; rejects when `until` throws, on a
   * subscription error, or after `timeoutMs`.
   */
  until(until: (events: T[]) => boolean, what: string, timeoutMs: number): Promise<T[]>;
  stop(): void;
}

export function collect<T>(client: SocketClient, query: string, variables: Record<string, unknown> = {}): Collector<T> {
  const events: T[] = [];
  const waiters = new Set<() => void>();
  let failure: Error | undefined;
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors !== undefined) failure = new Error(`subscription error: ${JSON.stringify(value.errors)}`);
        else if (value.data !== undefined && value.data !== null) events.push(value.data);
        wake();
      },
      error: (error: unknown) => {
        failure = error instanceof Error ? error : new Error(`subscription failed: ${JSON.stringify(error)}`);
        wake();
      },
      complete: wake,
    },
  );
  return {
    events,
    stop,
    until: (until, what, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what}; got ${events.length} event(s): ${JSON.stringify(events.slice(-5))}`,
            ),
          );
        }, timeoutMs);
        const settle = (outcome: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          outcome();
        };
        // `until` may throw to give up early (e.g. on ERRORED): that rejects the wait
        function check(): void {
          if (failure !== undefined) {
            const error = failure;
            settle(() => {
              reject(error);
            });
            return;
          }
          try {
            if (until(events))
              settle(() => {
                resolve(events);
              });
          } catch (error) {
            settle(() => {
              reject(error instanceof Error ? error : new Error(String(error)));
            });
          }
        }
        waiters.add(check);
        check();
      }),
  };
}
