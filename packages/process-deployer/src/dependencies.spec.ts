import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A machine without Docker runs apps with this package alone: installing it must not bring the
// Docker client (ARCHITECTURE.md: no dockerode without a Docker engine).
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** The folder `name` resolves to from `fromDir`, as Node looks it up: each node_modules up the tree. */
function resolvePackage(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`${name} is not installed where ${fromDir} would find it`);
  }
}

/** Every package an install of the package at `dir` brings, by name: its dependencies, theirs, and so on. */
function installedWith(dir: string): Set<string> {
  const seen = new Set<string>();
  const visit = (from: string): void => {
    const manifest = JSON.parse(readFileSync(path.join(from, 'package.json'), 'utf8')) as Manifest;
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (seen.has(name)) continue;
      seen.add(name);
      visit(resolvePackage(name, from));
    }
  };
  visit(dir);
  return seen;
}

describe('@kraken/process-deployer dependencies', () => {
  it('brings neither dockerode nor the Docker runtime, directly or through other packages', () => {
    const installed = installedWith(packageDir);

    expect(installed).toContain('@kraken/runtime');
    expect(installed).not.toContain('dockerode');
    expect(installed).not.toContain('@types/dockerode');
    expect(installed).not.toContain('@kraken/docker-deployer');
  });
});
