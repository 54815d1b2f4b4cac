import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { ErrorCode, KrakenError } from '@kraken/common';
import { describeFetchError } from '../run/join-cluster.js';
import { protocolVersionOf } from './installed.js';
import { isVersion } from './version.js';

/** What the registry says about a package's `latest` release. */
export interface LatestRelease {
  version: string;
  /** Undefined when the release's package.json has no `kraken.protocolVersion`. */
  protocolVersion: number | undefined;
  /** The packument's URL, for messages. */
  url: string;
}

export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

/** A registry URL from --registry or npm, checked and ending in `/` so package paths resolve below it. */
export function normalizeRegistry(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new KrakenError(ErrorCode.InvalidInput, `${source}: expected an http(s) URL such as https://registry.npmjs.org/, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new KrakenError(ErrorCode.InvalidInput, `${source}: expected an http(s) URL such as https://registry.npmjs.org/, got ${JSON.stringify(value)}`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/**
 * The registry npm would use for a global install (`npm config get registry`: the user and global
 * .npmrc, npm_config_registry). Asked from the temp dir: a project's .npmrc has no say over a global
 * install, and inside an npm workspace member `npm config` refuses to run at all (ENOWORKSPACES).
 */
export function npmRegistry(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['config', 'get', 'registry'], { encoding: 'utf8', timeout: 30_000, cwd: tmpdir() }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(
          new KrakenError(ErrorCode.InvalidConfig, `cannot ask npm for its registry (npm config get registry: ${stderr.trim() || error.message}): give --registry URL`, {
            cause: error,
          }),
        );
        return;
      }
      try {
        resolve(normalizeRegistry(stdout, 'npm config get registry'));
      } catch (invalid) {
        reject(invalid instanceof Error ? invalid : new Error(String(invalid)));
      }
    });
  });
}

/** npm's packument path: a scoped name keeps its `@` and has its `/` escaped. */
export function packumentUrl(registry: string, name: string): string {
  return new URL(name.replace('/', '%2f'), registry).href;
}

/** Fetches the full packument (the abbreviated one leaves out the `kraken` field) and reads `latest`. */
export async function fetchLatestRelease(options: { registry: string; name: string; fetch?: FetchLike; timeoutMs?: number }): Promise<LatestRelease> {
  const { registry, name } = options;
  const url = packumentUrl(registry, name);
  const fetchFn: FetchLike = options.fetch ?? ((target, init) => fetch(target, init));
  let response: Response;
  try {
    response = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
  } catch (error) {
    throw new KrakenError(ErrorCode.Unavailable, `cannot reach the npm registry at ${url}: ${describeFetchError(error)}`, { cause: error });
  }
  if (response.status === 404) {
    throw new KrakenError(ErrorCode.NotFound, `${name} is not published on the registry ${registry} (HTTP 404 from ${url}); give --registry with the registry it is published on`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new KrakenError(ErrorCode.Unauthorized, `the registry ${registry} refused to show ${name} (HTTP ${response.status}): log in with npm login --registry ${registry}`);
  }
  if (!response.ok) throw new KrakenError(ErrorCode.Unavailable, `the registry answered HTTP ${response.status} for ${url}`);
  let packument: unknown;
  try {
    packument = await response.json();
  } catch (error) {
    throw new KrakenError(ErrorCode.Unavailable, `the registry's answer for ${url} is not JSON: ${describeFetchError(error)}`, { cause: error });
  }
  return latestOf(packument, url, name);
}

function latestOf(packument: unknown, url: string, name: string): LatestRelease {
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const latest = record(record(packument)?.['dist-tags'])?.['latest'];
  if (typeof latest !== 'string' || !isVersion(latest)) {
    throw new KrakenError(ErrorCode.NotFound, `the registry has no latest version of ${name} (no "dist-tags.latest" in ${url})`);
  }
  const manifest = record(record(record(packument)?.['versions'])?.[latest]);
  if (manifest === undefined) {
    throw new KrakenError(ErrorCode.NotFound, `the registry lists ${name}@${latest} as latest but has no such version in ${url}`);
  }
  return { version: latest, protocolVersion: protocolVersionOf(manifest), url };
}
