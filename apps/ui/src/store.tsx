import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { Client } from 'graphql-ws';
import { DeploymentChangedDocument, NodeChangedDocument, OverviewDocument } from './api/generated.js';
import { graphqlRequest, isTokenRefused } from './api/graphql-request.js';
import { createLiveClient, subscribe } from './api/live.js';
import type { LiveState } from './api/live.js';
import { readToken, saveToken } from './api/token.js';
import type { ClusterNode, Deployment, Operation } from './api/types.js';
import { leaderMoveOf } from './format.js';
import type { LeaderMove } from './format.js';

export interface Cluster {
  token: string | undefined;
  setToken: (token: string) => void;
  /** Runs a query or mutation with the current token. */
  request: <TResult, TVariables>(operation: Operation<TResult, TVariables>, variables: TVariables) => Promise<TResult>;
  live: Client | undefined;
  liveState: LiveState;
  /**
   * When (ms) the live connection to the API was lost, while it stays lost: what the page shows
   * is how things were then, and actions are off. Undefined while connected (or never connected).
   */
  offlineSince: number | undefined;
  /** The API refused the stored token (a load, a request or the live connection): ask for another. */
  tokenRefused: boolean;
  /** An overview load is in flight. */
  loading: boolean;
  /** True once an overview load succeeded (for this token): the lists below mean something. */
  loaded: boolean;
  /** Why the last overview load or a live subscription failed. */
  error: string | undefined;
  deployments: Deployment[];
  nodes: ClusterNode[];
  orchestrator: string | undefined;
  /** Set when a reload found another orchestrator than before (a standby took over). */
  leaderMove: LeaderMove | undefined;
  dismissLeaderMove: () => void;
  /** Refetches everything (after a reconnect, or on the user's request). */
  reload: () => void;
  /** +1 per reload: what depends on fresh data (a chart's history) loads again when it changes. */
  reloads: number;
  /** Takes a deployment a mutation answered, so the page shows it without waiting for the event (a removed one leaves the list). */
  applyDeployment: (deployment: Deployment) => void;
}

const ClusterContext = createContext<Cluster | undefined>(undefined);

/** A live client that stopped retrying is replaced after this pause, not in a tight loop. */
const LIVE_CLIENT_REPLACED_AFTER_MS = 2_000;

export function useCluster(): Cluster {
  const cluster = useContext(ClusterContext);
  if (cluster === undefined) throw new Error('useCluster outside <ClusterProvider>');
  return cluster;
}

/** A removed deployment leaves the list, here as in every other client that hears of it. */
function applyChange(list: Deployment[], deployment: Deployment): Deployment[] {
  return deployment.removedAt === null ? upsert(list, deployment) : list.filter((d) => d.id !== deployment.id);
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
  const [offlineSince, setOfflineSince] = useState<number>();
  const [tokenRefused, setTokenRefused] = useState(false);
  const [loading, setLoading] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string>();
  const [deployments, setDeployments] = useState<Deployment[]>([]);
  const [nodes, setNodes] = useState<ClusterNode[]>([]);
  const [orchestrator, setOrchestrator] = useState<string>();
  const [leaderMove, setLeaderMove] = useState<LeaderMove>();
  // the leader the last load saw, for this token: another cluster's leader is no move
  const lastLeader = useRef<string>(undefined);
  const [reloads, setReloads] = useState(0);
  // bumped to replace a live client that stopped retrying
  const [liveClients, setLiveClients] = useState(0);

  const setToken = useCallback((value: string) => {
    saveToken(window.localStorage, value);
    setTokenState(readToken(window.localStorage));
    setLoaded(false);
    setTokenRefused(false);
    setError(undefined);
    lastLeader.current = undefined;
    setLeaderMove(undefined);
  }, []);

  const dismissLeaderMove = useCallback(() => {
    setLeaderMove(undefined);
  }, []);

  const request = useCallback(
    <TResult, TVariables>(operation: Operation<TResult, TVariables>, variables: TVariables) =>
      graphqlRequest(operation, variables, token).catch((failure: unknown) => {
        // a token revoked or replaced while the page was open: ask for the new one
        if (isTokenRefused(failure)) setTokenRefused(true);
        throw failure;
      }),
    [token],
  );

  const onLiveState = useCallback((state: LiveState) => {
    setLiveState(state);
    if (state === 'refused') setTokenRefused(true);
    if (state === 'connected') setOfflineSince(undefined);
    // the first lost moment counts: later retries do not move it
    else if (state === 'reconnecting') setOfflineSince((since) => since ?? Date.now());
  }, []);

  const reload = useCallback(() => {
    setReloads((n) => n + 1);
  }, []);

  const applyDeployment = useCallback((deployment: Deployment) => {
    setDeployments((list) => applyChange(list, deployment));
  }, []);

  useEffect(() => {
    if (token === undefined) return;
    let stale = false;
    setLoading(true);
    graphqlRequest(OverviewDocument, {}, token)
      .then((data) => {
        if (stale) return;
        setDeployments(data.getDeployments);
        setNodes(data.getNodes);
        setOrchestrator(data.getPlatform.orchestrator);
        // a page whose live connection came back through another leader reloads here: say where it moved
        const move = leaderMoveOf(lastLeader.current, data.getPlatform.orchestrator);
        if (move !== undefined) setLeaderMove(move);
        lastLeader.current = data.getPlatform.orchestrator;
        setLoaded(true);
        setError(undefined);
      })
      .catch((failure: unknown) => {
        if (stale) return;
        setError((failure as Error).message);
        if (isTokenRefused(failure)) setTokenRefused(true);
      })
      .finally(() => {
        if (!stale) setLoading(false);
      });
    return () => {
      stale = true;
    };
  }, [token, reloads]);

  useEffect(() => {
    if (token === undefined) return;
    // a disposed client still reports its close: that is no outage, and must not say so
    let disposed = false;
    let replacement: ReturnType<typeof setTimeout> | undefined;
    const client = createLiveClient(
      token,
      {
        onState: (state) => {
          if (!disposed) onLiveState(state);
        },
        onReconnected: reload,
        onGaveUp: () => {
          if (!disposed)
            replacement = setTimeout(() => {
              setLiveClients((n) => n + 1);
            }, LIVE_CLIENT_REPLACED_AFTER_MS);
        },
      },
      { resumed: liveClients > 0 },
    );
    setLive(client);
    const onError = (message: string) => {
      setError(`Live updates failed: ${message}`);
    };
    const stopDeployments = subscribe(
      client,
      DeploymentChangedDocument,
      {},
      (data) => {
        setDeployments((list) => applyChange(list, data.deploymentChanged));
      },
      onError,
    );
    const stopNodes = subscribe(
      client,
      NodeChangedDocument,
      {},
      (data) => {
        setNodes((list) => upsert(list, data.nodeChanged));
      },
      onError,
    );
    return () => {
      stopDeployments();
      stopNodes();
      disposed = true;
      clearTimeout(replacement);
      void client.dispose();
      setLive(undefined);
      setOfflineSince(undefined);
    };
  }, [token, reload, onLiveState, liveClients]);

  const value = useMemo<Cluster>(
    () => ({
      token,
      setToken,
      request,
      live,
      liveState,
      offlineSince,
      tokenRefused,
      loading,
      loaded,
      error,
      deployments,
      nodes,
      orchestrator,
      leaderMove,
      dismissLeaderMove,
      reload,
      reloads,
      applyDeployment,
    }),
    [token, setToken, request, live, liveState, offlineSince, tokenRefused, loading, loaded, error, deployments, nodes, orchestrator, leaderMove, dismissLeaderMove, reload, reloads, applyDeployment],
  );
  return <ClusterContext.Provider value={value}>{children}</ClusterContext.Provider>;
}
