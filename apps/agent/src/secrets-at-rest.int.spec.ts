// Issue 16 item 2: secrets at rest. A leading agent keeps env values, git credentials and the
// cluster's tokens sealed in orchestrator.db with the data key of secrets.json: the database file
// (what `sqlite3` shows, and its raw bytes) holds none of them in clear, while the API, the apps and
// git still get them, across a restart on the same data dir. Without the key file that goes with
// the database, the agent refuses to start and says which files.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { migrations } from '@kraken/orchestrator';
import { CLI, listedAppAnswer, runKraken, spawnLongRunning } from '../test/cli-process.js';

const docker = new Docker();
const appServer = `require('http').createServer((q, s) => s.end('hello ' + process.env.GREETING)).listen(process.env.PORT || 3000);`;

/**
 * A git host that asks for a password and never has the repository: it records the credentials git
 * sends, which shows what the orchestrator handed the clone.
 */
async function startPasswordAskingGitHost(): Promise<{ url: string; credentials: string[]; close(): Promise<void> }> {
  const credentials: string[] = [];
  const server = http.createServer((req, res) => {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (basic === undefined) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    credentials.push(Buffer.from(basic, 'base64').toString('utf8'));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    credentials,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('secrets at rest', () => {
  let dir: TempDir;
  let vhost: IsolatedVhost;
  let gitHost: Awaited<ReturnType<typeof startPasswordAskingGitHost>>;
  let dataDir: string;
  let api: string;
  let agent: WatchedProcess | undefined;
  const deployed: string[] = [];
  // values that must never be in the database file in clear
  const greeting = `greeting-${randomBytes(6).toString('hex')}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);

  const startAgent = async (): Promise<WatchedProcess> => {
    const spawned = spawnAgent();
    await spawned.waitFor(/Deploy an app: kraken deploy/, 60_000);
    return spawned;
  };
  const spawnAgent = (): WatchedProcess =>
    spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', new URL(api).port, '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'docker', '--no-mdns', '--public-host', '127.0.0.1',
    ]);
  const stopAgent = async (): Promise<void> => {
    if (agent === undefined) throw new Error('no agent runs: the test before did not get as far as starting it again');
    agent.kill('SIGTERM');
    await expect(agent.exited).resolves.toBe(0);
    agent = undefined;
  };
  const appAnswer = (id: string) => listedAppAnswer(kraken, id);

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-sealed');
    dir = await tempDir('kraken-sealed-');
    dataDir = path.join(dir.path, 'data');
    api = `http://127.0.0.1:${String(await freePort())}`;
    gitHost = await startPasswordAskingGitHost();
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    for (const id of deployed) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`org.kraken.deployment=${id}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    }
    await gitHost.close();
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('keeps env values, git credentials and tokens out of the database in clear, and still uses them after a restart', async () => {
    const repo = await gitFixtureRepo(path.join(dir.path, 'app'), {
      'shipwreck.toml': manifestToml('port = 3000\nlang = "node"\nrun = "node server.js"\ntest = ""', 'sealed-app'),
      'server.js': appServer,
    });
    agent = await startAgent();
    const app = await kraken('deploy', repo, '--env', `GREETING=${greeting}`, '--no-follow', '--json');
    expect(app.code).toBe(0);
    const appId = (JSON.parse(app.stdout) as { id: string }).id;
    deployed.push(appId);
    await eventually(async () => ((await appAnswer(appId)) === `hello ${greeting}` ? true : undefined), 240_000, 'the app answers with its env value', 500);

    const gitUrl = `${gitHost.url.replace('://', `://kraken-user:${password}@`)}/team/app.git`;
    const fromGit = await kraken('deploy', gitUrl, '--no-follow', '--json');
    expect(fromGit.code).toBe(0);
    const gitId = (JSON.parse(fromGit.stdout) as { id: string }).id;
    deployed.push(gitId);
    await eventually(() => (gitHost.credentials.includes(`kraken-user:${password}`) ? true : undefined), 60_000, 'git presenting the URL\'s credentials');

    await stopAgent();
    const secrets = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string; joinToken: string; dataKey: string };
    const clear = [greeting, password, secrets.apiToken, secrets.joinToken, secrets.dataKey];
    // every row of every table, as sqlite3 shows them
    const db = new Database(path.join(dataDir, 'orchestrator.db'), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const rows = JSON.stringify(tables.map(({ name }) => db.prepare(`SELECT * FROM "${name}"`).all()));
    const stored = db.prepare('SELECT src_url, src_credentials, env FROM deployments WHERE id = ?').get(gitId) as Record<string, string>;
    db.close();
    expect(tables.length).toBeGreaterThan(5);
    expect(rows).toContain(appId);
    expect(stored).toEqual({ src_url: `${gitHost.url}/team/app.git`, src_credentials: expect.stringMatching(/^enc:v1:/) as unknown, env: expect.stringMatching(/^enc:v1:/) as unknown });
    // and the files' bytes (a WAL left behind included), as anyone holding a copy would read them
    const bytes = ['orchestrator.db', 'orchestrator.db-wal']
      .map((name) => {
        try {
          return readFileSync(path.join(dataDir, name)).toString('latin1');
        } catch {
          return '';
        }
      })
      .join('');
    for (const secret of clear) expect({ secret, inRows: rows.includes(secret), inFile: bytes.includes(secret) }).toEqual({ secret, inRows: false, inFile: false });

    // the same data dir, started again: the app is adopted with its env, which a restart hands it again
    agent = await startAgent();
    expect((await kraken('env', appId)).stdout).toMatch(/GREETING\s+\*\*\*/);
    const changed = await kraken('env', 'set', appId, 'OTHER=1');
    expect(changed.code).toBe(0);
    expect(changed.stdout).toContain('restarting with changed settings');
    await eventually(async () => {
      const list = JSON.parse((await kraken('ls', '--json')).stdout) as { id: string; statusMessage: string | null }[];
      return list.find((d) => d.id === appId)?.statusMessage?.startsWith('restarted with the changed settings') === true ? true : undefined;
    }, 120_000, 'the app restarted with the changed settings');
    await eventually(async () => ((await appAnswer(appId)) === `hello ${greeting}` ? true : undefined), 60_000, 'the app answers with its env value after the restart', 500);
    // and git gets the credentials again, opened from the store (the redeploy itself fails: the host has no repository)
    const tries = gitHost.credentials.length;
    await kraken('redeploy', gitId);
    await eventually(() => (gitHost.credentials.length > tries ? true : undefined), 60_000, 'git asked again');
    expect(gitHost.credentials.slice(tries)).toContain(`kraken-user:${password}`);
    expect(agent.output()).not.toContain(password);
    expect(agent.output()).not.toContain(greeting);
  }, 600_000);

  it('refuses to start without the key file that goes with the database, naming both, and starts again once it is back', async () => {
    await stopAgent();
    const keyFile = path.join(dataDir, 'secrets.json');
    renameSync(keyFile, `${keyFile}.kept`);
    const refused = spawnAgent();
    const code = await refused.exited;
    expect(code).not.toBe(0);
    expect(refused.output()).toContain(`the secrets in ${path.join(dataDir, 'orchestrator.db')} do not open with the data key in ${keyFile}`);
    expect(refused.output()).not.toContain(greeting);

    renameSync(`${keyFile}.kept`, keyFile);
    agent = await startAgent();
    expect((await kraken('env', deployed[0] ?? '')).stdout).toMatch(/GREETING\s+\*\*\*/);
    await stopAgent();
  }, 180_000);

  it('seals what an older Kraken kept in clear on the first start after the update, and gives the old key file a data key', async () => {
    // a data dir as the Kraken before sealing left it: a key-less secrets.json, clear rows at schema 7
    dataDir = path.join(dir.path, 'older');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const tokens = { apiToken: `api-${randomBytes(24).toString('hex')}`, joinToken: `join-${randomBytes(24).toString('hex')}`, clusterId: 'older-lab' };
    writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify(tokens), { mode: 0o600 });
    const db = new Database(path.join(dataDir, 'orchestrator.db'));
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of migrations.filter((m) => m.version <= 7)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, 'then');
    }
    db.prepare(
      `INSERT INTO deployments (id, src_url, branch, status, env, created_at, updated_at) VALUES ('old-app', ?, 'main', 'Errored', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    ).run(`https://kraken-user:${password}@git.example/app.git`, JSON.stringify({ GREETING: greeting }));
    db.prepare(`INSERT INTO settings (key, value) VALUES ('cluster_secrets', ?)`).run(JSON.stringify(tokens));
    db.close();

    agent = await startAgent();
    await agent.waitFor(/sealed the env values and git credentials kept in clear before/, 10_000);
    const listed = await kraken('env', 'old-app', '--json');
    expect(JSON.parse(listed.stdout)).toMatchObject({ id: 'old-app', env: [{ name: 'GREETING' }] });
    await stopAgent();

    const kept = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
    expect(kept).toMatchObject({ ...tokens, dataKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as unknown });
    const bytes = readFileSync(path.join(dataDir, 'orchestrator.db')).toString('latin1');
    for (const secret of [greeting, password, tokens.apiToken, tokens.joinToken]) expect({ secret, inFile: bytes.includes(secret) }).toEqual({ secret, inFile: false });
  }, 120_000);
});
