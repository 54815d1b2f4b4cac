import { MissingTokenError, readToken, saveToken, tokenKey } from './token.js';
import { graphqlRequest, ApiError } from './graphql-request.js';
import { PlatformServicesDocument as getPlatformServices } from './generated.js';

function memoryStorage() {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, v),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('token storage', () => {
  it('keeps a trimmed token and forgets a blank one', () => {
    const storage = memoryStorage();
    expect(readToken(storage)).toBeUndefined();
    saveToken(storage, '  abc123  ');
    expect(storage.map.get(tokenKey)).toBe('abc123');
    expect(readToken(storage)).toBe('abc123');
    saveToken(storage, ' ');
    expect(readToken(storage)).toBeUndefined();
  });
});

describe('graphqlRequest', () => {
  it('refuses to send without a token, saying where the token comes from', async () => {
    const fetchImpl = jest.fn<Promise<Response>, Parameters<typeof fetch>>();
    await expect(graphqlRequest(getPlatformServices, {}, undefined, fetchImpl)).rejects.toThrow(MissingTokenError);
    await expect(graphqlRequest(getPlatformServices, {}, undefined, fetchImpl)).rejects.toThrow(/No API token: .*secrets\.json/);
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('sends the token as a Bearer header and returns data', async () => {
    const fetchImpl = jest.fn<Promise<Response>, Parameters<typeof fetch>>(() =>
      Promise.resolve(new Response(JSON.stringify({ data: { getPlatformServices: [] } }), { status: 200 })),
    );
    await expect(graphqlRequest(getPlatformServices, {}, 'tok', fetchImpl)).resolves.toEqual({ getPlatformServices: [] });
    const init = fetchImpl.mock.calls[0]?.[1];
    expect(init?.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer tok' });
  });

  it('says the token was refused on a 401', async () => {
    const fetchImpl = jest.fn<Promise<Response>, Parameters<typeof fetch>>(() =>
      Promise.resolve(new Response(JSON.stringify({ errors: [{ message: 'invalid api token', extensions: { code: 'UNAUTHORIZED' } }] }), { status: 401 })),
    );
    const failure = graphqlRequest(getPlatformServices, {}, 'bad', fetchImpl);
    await expect(failure).rejects.toThrow(ApiError);
    await expect(graphqlRequest(getPlatformServices, {}, 'bad', fetchImpl)).rejects.toThrow('The API token was refused: invalid api token');
  });
});
