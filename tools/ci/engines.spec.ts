// The Node.js versions Kraken says it supports (engines.node) must be one claim, made everywhere,
// and true of every dependency locked in package-lock.json: a dependency that needs a newer Node
// fails this test instead of warning EBADENGINE at every user's install.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const repoRoot = path.resolve(__dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, unknown>;
const enginesOf = (manifest: Record<string, unknown>) => (manifest['engines'] as { node?: unknown } | undefined)?.node;

const rootRange = enginesOf(readJson('package.json'));
const manifests = [
  ...['packages', 'apps'].flatMap((dir) =>
    readdirSync(path.join(repoRoot, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name, 'package.json')),
  ),
  'examples/custom-agent/package.json',
];

describe('engines.node', () => {
  it('is declared by the workspace root as a plain minimum', () => {
    expect(rootRange).toMatch(/^>=\d+\.\d+(\.\d+)?$/);
  });

  it.each(manifests)('%s declares the same range as the workspace root', (file) => {
    expect(enginesOf(readJson(file))).toBe(rootRange);
  });

  it('admits the oldest Node it claims and the newest LTS for every locked dependency', () => {
    const minimum = semver.minVersion(String(rootRange));
    expect(minimum).not.toBeNull();
    const lock = readJson('package-lock.json') as { packages: Record<string, { engines?: { node?: unknown } }> };
    const refused = Object.entries(lock.packages).flatMap(([name, entry]) => {
      const range = entry.engines?.node;
      if (typeof range !== 'string' || name === '') return [];
      return [String(minimum), '24.0.0'].filter((version) => !semver.satisfies(version, range)).map((version) => `${name} (engines ${range}) refuses Node ${version}`);
    });
    expect(refused).toEqual([]);
  });
});
