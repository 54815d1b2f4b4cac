import { KrakenError } from '@kraken/common';
import type { FetchLike } from './registry.js';
import { fetchLatestRelease, normalizeRegistry, packumentUrl } from './registry.js';

const REGISTRY = 'http://registry.test:4873/';

function answering(status: number, body: unknown): FetchLike & jest.Mock {
  return jest.fn(() => Promise.resolve(new Response(typeof body === 'string' ? body : JSON.stringify(body), { status })));
}

const packument = (latest: string, kraken?: unknown) => ({
  name: '@kraken/agent',
  'dist-tags': { latest },
  versions: { [latest]: { name: '@kraken/agent', version: latest, ...(kraken === undefined ? {} : { kraken }) } },
});

async function failure(promise: Promise<unknown>): Promise<KrakenError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof KrakenError)) throw new Error(`expected a KrakenError, got ${String(error)}`);
  return error;
}

describe('the npm registry', () => {
  it('asks for the full packument of the scoped name and reads the latest release and its protocol version', async () => {
    const fetch = answering(200, packument('0.2.0', { protocolVersion: 1 }));
    await expect(fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch })).resolves.toEqual({
      version: '0.2.0',
      protocolVersion: 1,
      url: 'http://registry.test:4873/@kraken%2fagent',
    });
    const [url, init] = fetch.mock.calls[0] as Parameters<FetchLike>;
    expect(url).toBe('http://registry.test:4873/@kraken%2fagent');
    // the abbreviated packument (application/vnd.npm.install-v1+json) leaves out custom fields such as "kraken"
    expect(init.headers['accept']).toBe('application/json');
  });

  it('keeps a registry path and adds the trailing slash npm URLs need', () => {
    expect(normalizeRegistry('https://npm.example.org/repository/npm', '--registry')).toBe('https://npm.example.org/repository/npm/');
    expect(packumentUrl('https://npm.example.org/repository/npm/', '@kraken/agent')).toBe('https://npm.example.org/repository/npm/@kraken%2fagent');
    expect(() => normalizeRegistry('registry.npmjs.org', '--registry')).toThrow('--registry: expected an http(s) URL such as https://registry.npmjs.org/, got "registry.npmjs.org"');
    expect(() => normalizeRegistry('ftp://x/', '--registry')).toThrow(/--registry: expected an http\(s\) URL/);
  });

  it('reports a release without kraken.protocolVersion as not saying which protocol it speaks', async () => {
    const latest = await fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch: answering(200, packument('0.2.0')) });
    expect(latest.protocolVersion).toBeUndefined();
  });

  it('says the registry is unreachable, with the URL, when the request fails', async () => {
    const fetch: FetchLike = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:4873') }));
    const error = await failure(fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch }));
    expect(error.code).toBe('UNAVAILABLE');
    expect(error.message).toBe('cannot reach the npm registry at http://registry.test:4873/@kraken%2fagent: connect ECONNREFUSED 127.0.0.1:4873');
  });

  it('says the package is not published there on 404, and asks for a login on 401', async () => {
    const missing = await failure(fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch: answering(404, { error: 'not found' }) }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toMatch(/^@kraken\/agent is not published on the registry http:\/\/registry\.test:4873\/ \(HTTP 404/);
    const locked = await failure(fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch: answering(401, {}) }));
    expect(locked.code).toBe('UNAUTHORIZED');
    expect(locked.message).toMatch(/npm login --registry http:\/\/registry\.test:4873\//);
  });

  it('reports server errors, answers that are not JSON, and packuments without a usable latest', async () => {
    const cases: [FetchLike, string, RegExp][] = [
      [answering(502, 'bad gateway'), 'UNAVAILABLE', /HTTP 502/],
      [answering(200, '<html>'), 'UNAVAILABLE', /is not JSON/],
      [answering(200, { name: '@kraken/agent', 'dist-tags': {} }), 'NOT_FOUND', /no "dist-tags\.latest"/],
      [answering(200, { 'dist-tags': { latest: '0.3.0' }, versions: {} }), 'NOT_FOUND', /lists @kraken\/agent@0\.3\.0 as latest but has no such version/],
    ];
    for (const [fetch, code, message] of cases) {
      const error = await failure(fetchLatestRelease({ registry: REGISTRY, name: '@kraken/agent', fetch }));
      expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
    }
  });
});
