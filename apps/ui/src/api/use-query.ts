import { useCallback, useEffect, useState } from 'react';
import type { DependencyList, Dispatch, SetStateAction } from 'react';
import { useCluster } from '../store.js';
import type { Operation } from './types.js';

export interface QueryOptions<TResult, TData> {
  /**
   * What to keep of an answer. `current` is what is kept so far (undefined before the first answer
   * for these variables), so a component whose data also grows by live events can merge the two.
   */
  select: (answer: TResult, current: NoInfer<TData> | undefined) => TData;
  /** Ask again when one of these changes (the cluster's `reloads`, a timer, a status…). */
  deps?: DependencyList;
  /** Ask nothing while true (what is kept stays). */
  skip?: boolean;
}

export interface QueryState<TData> {
  /** What `select` kept of the answers, undefined until the first one. */
  data: TData | undefined;
  /** For a component that also feeds `data` itself (a subscription's events). */
  setData: Dispatch<SetStateAction<TData | undefined>>;
  /** Why the last attempt failed; it stays while the next attempt runs, until an answer replaces it. */
  error: Error | undefined;
  /** An attempt is waiting for its answer. */
  loading: boolean;
  /** Asks again (a Retry button). */
  retry: () => void;
}

/**
 * Asks the API `document` with `variables` and again whenever `deps` change or `retry` is
 * called; an answer that comes after the next question was asked (or after unmount) is dropped.
 * Other variables (another deployment) start from nothing: neither the data nor the error of the
 * previous ones are shown for them.
 */
export function useQuery<TResult, TVariables, TData>(
  document: Operation<TResult, TVariables>,
  variables: TVariables,
  { select, deps = [], skip = false }: QueryOptions<TResult, TData>,
): QueryState<TData> {
  const { request } = useCluster();
  const [data, setData] = useState<TData>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const retry = useCallback(() => {
    setAttempt((n) => n + 1);
  }, []);
  // variables are a new object each render: their content says when they changed
  const key = JSON.stringify(variables);

  // before the question below: what was kept belongs to the previous variables
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, [document, key]);

  useEffect(() => {
    if (skip) {
      setLoading(false);
      return;
    }
    let stale = false;
    setLoading(true);
    request(document, variables).then(
      (answer) => {
        if (stale) return;
        setData((current) => select(answer, current));
        setError(undefined);
        setLoading(false);
      },
      (failure: unknown) => {
        if (stale) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
        setLoading(false);
      },
    );
    return () => {
      stale = true;
    };
    // variables by their content (key); select and variables as they were when asked
  }, [document, key, skip, request, attempt, ...deps]);

  return { data, setData, error, loading, retry };
}
