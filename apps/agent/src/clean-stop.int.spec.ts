// Issue 16: one SIGTERM stops a leading agent in order (worker, test processes, API, orchestrator,
// store, broker) within the stop bound and exits 0. Its orchestrator.db alone (the WAL checkpointed
// into it) then holds the whole state, and no test process of a deploy in flight outlives it.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eventually, freePort, gitFixtureRepo, isolatedVhost, manifestToml, requireRabbit, tempDir } from '@kraken/testing';
import type { IsolatedVhost, TempDir, WatchedProcess } from '@kraken/testing';
import { ApiClient } from './client/api-client.js';
import { STOP_BOUND_MS } from './run/stop-bound.js';
import { CLI, runKraken, spawnLongRunning } from '../test/cli-process.js';

const server = "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT || 3000);";

describe('kraken agent stopped with one SIGTERM', () => {
  let dir: TempDir;
  let dataDir: string;
  let api: string;
  // its own vhost: in the shared one, another Kraken on this machine would lead and take the work
  let vhost: IsolatedVhost;
  let agent: WatchedProcess | undefined;
  const kraken = (...args: string[]) => runKraken([...args, '--api', api, '--data-dir', dataDir]);
  const client = () => new ApiClient({ url: api, token: readToken() });

  beforeAll(async () => {
    await requireRabbit();
    vhost = await isolatedVhost('kraken-clean-stop');
    dir = await tempDir('kraken-clean-stop-');
    dataDir = path.join(dir.path, 'data');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    agent = spawnLongRunning(process.execPath, [
      CLI, 'agent', '--data-dir', dataDir, '--api-port', String(port), '--api-host', '127.0.0.1',
      '--broker-url', vhost.url, '--runtime', 'process', '--no-mdns', '--public-host', '127.0.0.1', '--log-level', 'debug',
    ]);
    await agent.waitFor(/Deploy an app: kraken deploy/, 60_000);
  }, 120_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await agent?.exited;
    // the process runtime leaves apps running across an agent stop (the next start adopts them)
    for (const pid of processesUnder(dir.path)) killQuietly(pid);
    await dir.remove();
    await vhost.remove();
  }, 60_000);

  it('exits 0 within the bound, leaves the whole state in orchestrator.db and no test process behind', async () => {
    const running = await deploy(path.join(dir.path, 'served'), '');
    // a test step that would run for an hour: the deploy is still in flight when the signal comes
    const inFlight = await deploy(path.join(dir.path, 'testing'), 'node slow-test.js');
    await eventually(async () => (await status(running)) === 'RUNNING' || undefined, 120_000, 'the first app running');
    await eventually(async () => (await status(inFlight)) === 'TESTING_DEPLOYMENT' || undefined, 120_000, 'the second deploy testing');
    await eventually(() => testProcesses().length > 0 || undefined, 30_000, 'the test process started');

    const stopping = agent;
    if (stopping === undefined) throw new Error('no agent');
    const signalledAt = Date.now();
    stopping.kill('SIGTERM');
    const code = await stopping.exited;
    const tookMs = Date.now() - signalledAt;
    agent = undefined;

    expect({ code, again: /again, exiting now/.test(stopping.output()) }).toEqual({ code: 0, again: false });
    expect(tookMs).toBeLessThan(STOP_BOUND_MS);
    expect(stopping.output()).toMatch(/handing back deploys in flight/);
    expect(stopping.output()).toMatch(/agent stopped/);
    expect(testProcesses()).toEqual([]);

    // a backup of orchestrator.db without its -wal file: everything committed is in it
    const copy = path.join(dir.path, 'backup.db');
    fs.copyFileSync(path.join(dataDir, 'orchestrator.db'), copy);
    const db = new Database(copy, { readonly: true });
    try {
      const rows = db.prepare('SELECT id, status FROM deployments ORDER BY created_at').all() as { id: string; status: string }[];
      expect(rows.map((row) => row.id)).toEqual([running, inFlight]);
      expect(rows[0]?.status).toMatch(/running/i);
    } finally {
      db.close();
    }
  }, 300_000);

  async function deploy(repoDir: string, test: string): Promise<string> {
    const repo = await gitFixtureRepo(repoDir, {
      'shipwreck.toml': manifestToml(`port = 3000\nlang = "node"\nrun = "node server.js"\ntest = "${test}"`, path.basename(repoDir)),
      'server.js': server,
      'slow-test.js': 'setTimeout(() => undefined, 3_600_000);',
    });
    const created = await kraken('deploy', repo, '--no-follow', '--json');
    expect(created.code).toBe(0);
    return (JSON.parse(created.stdout) as { id: string }).id;
  }

  async function status(id: string): Promise<string> {
    const { getDeployment } = await client().graphql<{ getDeployment: { status: string } }>(
      'query($id: String!) { getDeployment(deploymentId: $id) { status } }',
      { id },
    );
    return getDeployment.status;
  }

  /** This test's test-step processes: `node slow-test.js` run from a folder under its temp dir. */
  function testProcesses(): number[] {
    return processesUnder(dir.path).filter((pid) => readProc(pid, 'cmdline').includes('slow-test.js'));
  }

  function readToken(): string {
    return (JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiToken: string }).apiToken;
  }
});

/** Processes whose working directory is under `root`. */
function processesUnder(root: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cwd: string;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (cwd === root || cwd.startsWith(`${root}/`)) pids.push(Number(entry));
  }
  return pids;
}

function readProc(pid: number, file: string): string {
  try {
    return fs.readFileSync(`/proc/${String(pid)}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
