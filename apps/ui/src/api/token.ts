/** Where the browser keeps the API token between visits. */
export const tokenKey = 'kraken.apiToken';

/** The part of `Storage` the token needs; tests pass a Map-backed one. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function readToken(storage: TokenStorage): string | undefined {
  const token = storage.getItem(tokenKey)?.trim();
  return token === undefined || token === '' ? undefined : token;
}

export function saveToken(storage: TokenStorage, token: string): void {
  const trimmed = token.trim();
  if (trimmed === '') storage.removeItem(tokenKey);
  else storage.setItem(tokenKey, trimmed);
}

export class MissingTokenError extends Error {
  override readonly name = 'MissingTokenError';
  constructor() {
    super('No API token: enter the token `kraken agent` printed at first start (also in <data-dir>/secrets.json as apiToken).');
  }
}
