import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import type { Client } from 'graphql-ws';
import { graphqlRequest } from './api/graphql-request.js';
import { createLiveClient, subscribe } from './api/live.js';
import type { LiveState } from './api/live.js';
import { deploymentChanged, getOverview, nodeChanged } from './api/operations.js';
import type { Operation } from './api/operations.js';
import { readToken, saveToken } from './api/token.js';
import type { ClusterNode, Deployment } from './api/types.js';

export interface Cluster {
  token: string | undefined;
  setToken: (token: string) => void;
  /** Runs a query or mutation with the current token. */
  request: <TResult, TVariables>(operation: Operation<TResult, TVariables>, variables: TVariables) => Promise<TResult>;
  live: Client | undefined;
  liveState: LiveState;
  loading: boolean;
  error: string | undefined;
  deployments: Deployment[];
  nodes: ClusterNode[];
  orchestrator: string | undefined;
  /** Refetches everything (after a reconnect, or on the user's request). */
  reload: () => void;
}

const ClusterContext = createContext<Cluster | undefined>(undefined);

export function useCluster(): Cluster {
  const cluster = useContext(ClusterContext);
  if (cluster === undefined) throw new Error('useCluster outside <ClusterProvider>');
  return cluster;
}

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const index = list.findIndex((x) => x.id === item.id);
  if (index < 0) return [...list, item];
  const copy = [...list];
  copy[index] = item;
  return copy;
}

/**
 * Loads the cluster once, then keeps it current from deploymentChanged and nodeChanged: no polling.
 * After a reconnect it loads again, since events sent while disconnected are lost.
 */
export function ClusterProvider({ children }: { children: ReactNode }) {
  const [token, setTokenState] = useState(() => readToken(window.localStorage));
  const [live, setLive] = useState<Client>();
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [deployments, setDeployments] = useState<Deployment[]>([]);
  const [nodes, setNodes] = useState<ClusterNode[]>([]);
  const [orchestrator, setOrchestrator] = useState<string>();
  const [generation, setGeneration] = useState(0);

  const setToken = useCallback((value: string) => {
    saveToken(window.localStorage, value);
    setTokenState(readToken(window.localStorage));
  }, []);

  const request = useCallback(
    <TResult, TVariables>(operation: Operation<TResult, TVariables>, variables: TVariables) => graphqlRequest(operation, variables, token),
    [token],
  );

  const reload = useCallback(() => {
    setGeneration((g) => g + 1);
  }, []);

  useEffect(() => {
    if (token === undefined) return;
    let stale = false;
    setLoading(true);
    graphqlRequest(getOverview, {}, token)
      .then((data) => {
        if (stale) return;
        setDeployments(data.getDeployments);
        setNodes(data.getNodes);
        setOrchestrator(data.getPlatform.orchestrator);
        setError(undefined);
      })
      .catch((failure: unknown) => {
        if (!stale) setError((failure as Error).message);
      })
      .finally(() => {
        if (!stale) setLoading(false);
      });
    return () => {
      stale = true;
    };
  }, [token, generation]);

  useEffect(() => {
    if (token === undefined) return;
    const client = createLiveClient(token, { onState: setLiveState, onReconnected: reload });
    setLive(client);
    const onError = (message: string) => {
      setError(`Live updates failed: ${message}`);
    };
    const stopDeployments = subscribe(client, deploymentChanged, {}, (data) => {
      setDeployments((list) => upsert(list, data.deploymentChanged));
    }, onError);
    const stopNodes = subscribe(client, nodeChanged, {}, (data) => {
      setNodes((list) => upsert(list, data.nodeChanged));
    }, onError);
    return () => {
      stopDeployments();
      stopNodes();
      void client.dispose();
      setLive(undefined);
    };
  }, [token, reload]);

  const value = useMemo<Cluster>(
    () => ({ token, setToken, request, live, liveState, loading, error, deployments, nodes, orchestrator, reload }),
    [token, setToken, request, live, liveState, loading, error, deployments, nodes, orchestrator, reload],
  );
  return <ClusterContext.Provider value={value}>{children}</ClusterContext.Provider>;
}
