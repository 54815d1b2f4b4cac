import type { Operation } from './types.js';
import { MissingTokenError } from './token.js';

/** An error the API answered (or failed to), with a message fit to show as is. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Runs a query or mutation over HTTP POST. Refuses to send anything without a token, so the user
 * sees why instead of a bare 401.
 */
export async function graphqlRequest<TResult, TVariables>(
  operation: Operation<TResult, TVariables>,
  variables: TVariables,
  token: string | undefined,
  fetchImpl: typeof fetch = fetch,
): Promise<TResult> {
  if (token === undefined) throw new MissingTokenError();
  let response: Response;
  try {
    response = await fetchImpl('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: operation.toString(), variables }),
    });
  } catch (cause) {
    throw new ApiError(`Cannot reach the Kraken API: ${(cause as Error).message}`, 'UNAVAILABLE', 0);
  }
  let body: GraphQLResponse<TResult>;
  try {
    body = (await response.json()) as GraphQLResponse<TResult>;
  } catch {
    throw new ApiError(`The Kraken API answered ${String(response.status)} ${response.statusText} without a GraphQL body`, undefined, response.status);
  }
  const first = body.errors?.[0];
  if (first !== undefined) {
    const code = first.extensions?.code;
    const message = code === 'UNAUTHORIZED' || response.status === 401 ? `The API token was refused: ${first.message}` : first.message;
    throw new ApiError(message, code, response.status);
  }
  if (body.data === undefined || body.data === null) throw new ApiError(`The Kraken API answered ${String(response.status)} with no data`, undefined, response.status);
  return body.data;
}

/** Whether the API refused the token (which no retry with the same token can fix). */
export function isTokenRefused(failure: unknown): boolean {
  return failure instanceof ApiError && (failure.code === 'UNAUTHORIZED' || failure.status === 401);
}
