#!/usr/bin/env node
// A local npm registry (Verdaccio on loopback) for checking releases the way users meet them:
// publish every package to it, then install from it. @kraken/* live only here; everything else is
// proxied from the machine's configured registry, so `npm install --registry <local>` works alone.
//
//   node tools/release/registry.mjs [--port 4873] [--dir DIR]   serve until Ctrl-C, printing the URL and an npmrc
//
// Verdaccio lives in tools/release/verdaccio (its own package, pinned: 6.8.0 installs on Node 20
// only with node-fetch overridden to 2.7.0). ensureVerdaccio() installs it there on first use.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERDACCIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'verdaccio');
const VERDACCIO_BIN = join(VERDACCIO_DIR, 'node_modules', 'verdaccio', 'bin', 'verdaccio');

export function ensureVerdaccio() {
  if (existsSync(VERDACCIO_BIN)) return;
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: VERDACCIO_DIR, stdio: 'inherit' });
}

function upstreamRegistry() {
  // outside the workspace: inside it, `npm config` refuses to run for a workspace member
  return execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8', cwd: tmpdir() }).trim();
}

function configYaml(dir, upstream) {
  return `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 100
uplinks:
  upstream:
    url: ${upstream}
    timeout: 60s
    max_fails: 5
packages:
  '@kraken/*':
    access: $all
    publish: $authenticated
    unpublish: $authenticated
  '**':
    access: $all
    publish: $authenticated
    proxy: upstream
max_body_size: 200mb
log: { type: stdout, format: pretty, level: warn }
`;
}

async function waitUntilServing(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with code ${child.exitCode} before serving ${url}`);
    try {
      const res = await fetch(`${url}-/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within ${timeoutMs} ms`);
}

/** Creates a user the way `npm adduser` does and returns its token. */
async function addUser(url, name, password) {
  const res = await fetch(`${url}-/user/org.couchdb.user:${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password, type: 'user', roles: [], date: new Date().toISOString() }),
  });
  const body = await res.json();
  if (!res.ok || typeof body.token !== 'string') throw new Error(`adding user ${name}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/**
 * Starts Verdaccio on 127.0.0.1:<port> with fresh storage. Returns the registry URL (with a
 * trailing slash), an npmrc path holding a publish token for it, and stop().
 */
export async function startRegistry({ port = 4873, dir, log = process.stderr } = {}) {
  ensureVerdaccio();
  const ownDir = dir === undefined;
  const workDir = dir ?? mkdtempSync(join(tmpdir(), 'kraken-registry-'));
  mkdirSync(workDir, { recursive: true });
  const configPath = join(workDir, 'config.yaml');
  writeFileSync(configPath, configYaml(workDir, upstreamRegistry()));
  const url = `http://127.0.0.1:${port}/`;
  const child = spawn(process.execPath, [VERDACCIO_BIN, '--config', configPath, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.write(`[verdaccio] ${d}`));
  child.stderr.on('data', (d) => log.write(`[verdaccio] ${d}`));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (ownDir) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(url, child, 60_000);
    const token = await addUser(url, 'kraken-release', `pw-${process.pid}-${Date.now()}`);
    const npmrc = join(workDir, 'npmrc');
    writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    return { url, npmrc, workDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const valueOf = (flag) => {
    const i = args.indexOf(flag);
    return i === -1 ? undefined : args[i + 1];
  };
  const port = Number(valueOf('--port') ?? 4873);
  const registry = await startRegistry({ port, dir: valueOf('--dir') });
  console.log(`registry: ${registry.url}`);
  console.log(`npmrc with a publish token: ${registry.npmrc}`);
  console.log(`publish everything: NPM_CONFIG_USERCONFIG=${registry.npmrc} npx nx release publish --registry ${registry.url}`);
  const shutdown = () => void registry.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
