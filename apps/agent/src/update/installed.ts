import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KrakenError } from '@kraken/common';

/** This copy of @kraken/agent, as its package.json describes it. */
export interface InstalledAgent {
  name: string;
  version: string;
  /** `kraken.protocolVersion` of the package.json: the protocol a release speaks, for `kraken update`. */
  protocolVersion: number | undefined;
  /** The package's folder: `apps/agent` in a checkout, `<prefix>/lib/node_modules/@kraken/agent` installed. */
  packageRoot: string;
}

/** `src/update/` in the repository and `dist/update/` when published: two levels below the package root. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function readInstalledAgent(root: string = packageRoot()): InstalledAgent {
  const file = path.join(root, 'package.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const { name, version } = manifest;
  if (typeof name !== 'string' || typeof version !== 'string') {
    throw new KrakenError(ErrorCode.Internal, `${file}: expected "name" and "version" strings`);
  }
  return { name, version, protocolVersion: protocolVersionOf(manifest), packageRoot: root };
}

/** Reads `"kraken": { "protocolVersion": N }` from a package.json (a release's, or a packument's version entry). */
export function protocolVersionOf(manifest: Readonly<Record<string, unknown>>): number | undefined {
  const kraken = manifest['kraken'];
  if (typeof kraken !== 'object' || kraken === null) return undefined;
  const value = (kraken as Record<string, unknown>)['protocolVersion'];
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

/**
 * The npm prefix a global install lives under (`<prefix>/lib/node_modules/<name>`), so an update
 * replaces this copy even when npm's configured prefix is another; undefined outside such an install.
 */
export function globalPrefixOf(agent: Pick<InstalledAgent, 'name' | 'packageRoot'>): string | undefined {
  const suffix = path.join('lib', 'node_modules', ...agent.name.split('/'));
  const root = path.resolve(agent.packageRoot);
  return root.endsWith(path.sep + suffix) ? root.slice(0, -(suffix.length + 1)) || path.sep : undefined;
}
