// Issue 8: `kraken update` against a real HTTP registry on loopback serving @kraken/agent's
// packument. Nothing is installed: the cases that would install run with --check or --dry-run.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROTOCOL_VERSION } from '@kraken/messages';
import { freePort } from '@kraken/testing';
import { runKraken } from '../test/cli-process.js';

const installed = (JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
const [major, minor, patch] = installed.split(/[.-]/).map(Number) as [number, number, number];
const newer = `${major}.${minor}.${patch + 1}`;

/** A packument as npm registries serve it: dist-tags and each version's package.json. */
function packument(latest: string, protocolVersion: number) {
  return {
    name: '@kraken/agent',
    'dist-tags': { latest },
    versions: {
      [installed]: { name: '@kraken/agent', version: installed, kraken: { protocolVersion: PROTOCOL_VERSION } },
      [latest]: { name: '@kraken/agent', version: latest, kraken: { protocolVersion } },
    },
  };
}

describe('kraken update against a registry', () => {
  let server: http.Server;
  let registry: string;
  let served: unknown = packument(installed, PROTOCOL_VERSION);
  const requests: { url: string; accept: string | undefined }[] = [];
  const update = (...args: string[]) => runKraken(['update', ...args, '--registry', registry]);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', accept: req.headers.accept });
      if (req.url === '/@kraken%2fagent') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('says it is up to date when the latest release is the installed one', async () => {
    served = packument(installed, PROTOCOL_VERSION);
    const result = await update('--yes');
    expect(result.stdout.trim()).toBe(`@kraken/agent ${installed} is up to date (latest on ${registry}: ${installed}).`);
    expect(result.code).toBe(0);
    expect(requests.at(-1)).toEqual({ url: '/@kraken%2fagent', accept: 'application/json' });
  });

  it('reports a newer release that speaks the same protocol with --check, and prints the install with --dry-run', async () => {
    served = packument(newer, PROTOCOL_VERSION);
    const check = await update('--check');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`@kraken/agent ${newer} is available on ${registry} (installed: ${installed}).`);
    expect(check.stdout).toContain(`It speaks protocol version ${PROTOCOL_VERSION}, like this install`);

    const dry = await update('--yes', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      `dry run, nothing changed: kraken update would run: npm install --global @kraken/agent@${newer} --registry ${registry} --allow-scripts=better-sqlite3`,
    );
    // run from the checkout, not from a global install
    expect(dry.stderr).toMatch(/not from a global npm install/);
  });

  it('needs --yes when it cannot ask on a terminal', async () => {
    served = packument(newer, PROTOCOL_VERSION);
    const result = await update();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/installs only with --yes when it cannot ask on a terminal/);
  });

  it('refuses a release that speaks another protocol version, and --force accepts it', async () => {
    served = packument(newer, PROTOCOL_VERSION + 1);
    for (const flags of [['--check'], ['--yes', '--dry-run']]) {
      const refused = await update(...flags);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `kraken: not updating to @kraken/agent ${newer}: it speaks protocol version ${PROTOCOL_VERSION + 1} and this install speaks ${PROTOCOL_VERSION}; ` +
          "a cluster's nodes and its orchestrator must speak the same version, so the other nodes of this cluster and its orchestrator must be updated together with this one",
      );
      expect(refused.stdout).not.toContain('would run');
    }
    const forced = await update('--force', '--yes', '--dry-run');
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/^kraken: updating across protocol versions \(--force\)/m);
    expect(forced.stdout).toContain(`would run: npm install --global @kraken/agent@${newer} --registry ${registry}`);
  });

  it('takes npm\'s configured registry when --registry is not given', async () => {
    served = packument(installed, PROTOCOL_VERSION);
    const before = requests.length;
    const result = await runKraken(['update', '--check'], { env: { npm_config_registry: registry } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`up to date (latest on ${registry}:`);
    expect(requests.length).toBe(before + 1);
  });

  it('says clearly when the package is not on the registry (exit 4) and when the registry is unreachable (exit 3)', async () => {
    const missing = await runKraken(['update', '--check', '--registry', `${registry}other-registry/`]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`kraken: @kraken/agent is not published on the registry ${registry}other-registry/ (HTTP 404`);

    const closed = `http://127.0.0.1:${await freePort()}/`;
    const unreachable = await runKraken(['update', '--check', '--registry', closed]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(new RegExp(`^kraken: cannot reach the npm registry at ${closed.replace(/[.]/g, '\\.')}@kraken%2fagent: .*ECONNREFUSED`, 'm'));
  });
});
